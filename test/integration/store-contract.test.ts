// One store contract, two engines: every case runs against the SQLite store
// (synchronous: `await` takes its plain answers as they are) and the PostgreSQL
// store on a real server this file starts (Debian's postgresql, loopback, its
// own data directory, a fresh database per case).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { problem } from "../../shared/finding.ts";
import { PgStore, PgStoreError } from "../../collector/state/pg-store.ts";
import { MIGRATIONS } from "../../collector/state/pg-migrations.ts";
import { SqliteStore } from "../../collector/state/sqlite-store.ts";
import { allEventsAsync, type AsyncStore, type CredentialRow, type EventKind, type EventRow, type Store, type StoredReport } from "../../collector/state/store.ts";
import { childPids, isAlive, startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { gatewayToken, identity, providerKey, report } from "../helpers/store-fixtures.ts";

type AnyStore = Store | AsyncStore;

interface Engine {
  name: string;
  /** A new empty store. */
  open(): Promise<AnyStore>;
  /** The same store again, as a restarted (or a second) collector opens it. */
  reopen(store: AnyStore): Promise<AnyStore>;
}

let server: TestPostgres;
let dir: string;
const opened: AnyStore[] = [];
const track = (store: AnyStore) => (opened.push(store), store);
const urls = new WeakMap<AnyStore, string>();
const paths = new WeakMap<AnyStore, string>();
let files = 0;

const ENGINES: Engine[] = [
  {
    name: "SqliteStore",
    async open() {
      const path = join(dir, `store-${++files}.db`);
      const store = track(new SqliteStore(path));
      paths.set(store, path);
      return store;
    },
    async reopen(store) {
      const again = track(new SqliteStore(paths.get(store)!));
      paths.set(again, paths.get(store)!);
      return again;
    },
  },
  {
    name: "PgStore",
    async open() {
      const url = await server.createDatabase();
      const store = track(await PgStore.open(url, { env: { PGPASSWORD: server.password } }));
      urls.set(store, url);
      return store;
    },
    async reopen(store) {
      const again = track(await PgStore.open(urls.get(store)!, { env: { PGPASSWORD: server.password } }));
      urls.set(again, urls.get(store)!);
      return again;
    },
  },
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "clawfleet-contract-"));
  server = await startPostgres();
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const event = (nodeId: string, atMs: number, kind: EventKind, detail: EventRow["detail"] = {}, layer?: string): EventRow => ({ nodeId, atMs, kind, layer, detail });
const durable = (store: AnyStore) => new Promise<Error | undefined>((resolve) => store.whenDurable(resolve));
/** A write's outcome as a promise, whether the store answers, returns or throws. */
const settle = <T>(write: () => T | Promise<T>) => Promise.resolve().then(write);

describe.each(ENGINES)("store contract: $name", (engine) => {
  it("knows a node by its hello: a new node has seq 0, a known one its highest stored seq; an empty version keeps the last", async () => {
    const store = await engine.open();
    expect(await store.upsertNode(identity(), 1000, 250.4)).toBe(0n);
    expect(await store.applyReport(report(4n), [])).toBe("stored");
    expect(await store.upsertNode({ ...identity(), hostname: "renamed.local", openclawVersion: "", simulated: true }, 9000, -10)).toBe(4n);
    expect(await store.listNodes()).toEqual([
      {
        nodeId: "mini-01", hostname: "renamed.local", platform: "darwin", agentVersion: "0.1.0", openclawVersion: "2026.9.6", simulated: true,
        firstSeenMs: 1000, lastSeenMs: 9000, lastSeq: 4n, clockSkewMs: -10, current: report(4n),
      },
    ]);
  });

  it("stores each (node, seq) once and keeps the newest as current however the reports arrive", async () => {
    const store = await engine.open();
    await store.upsertNode(identity(), 0, 0);
    const outcomes = [];
    for (const seq of [5n, 3n, 5n, 7n, 6n, 3n, 1n]) outcomes.push(await store.applyReport(report(seq, { verdict: seq === 7n ? "fail" : "ok" }), [event("mini-01", Number(seq), "layer_change", { seq: Number(seq) })]));
    expect(outcomes).toEqual(["stored", "stored_old", "duplicate", "stored", "stored_old", "duplicate", "stored_old"]);
    const [node] = await store.listNodes();
    expect(node).toMatchObject({ lastSeq: 7n, current: { seq: 7n, verdict: "fail" } });
    expect(node!.current!.findings[0]).toMatchObject({ code: "token_mismatch", evidence: { fingerprint: "hmac:abcd" } });
    // Only the reports that became current applied their events.
    expect((await store.events({ sinceMs: 0, limit: 10 })).map((e) => e.detail.seq)).toEqual([7, 5]);
    // An older report's credentials do not replace the current set either.
    await store.applyReport(report(2n, { credentials: [gatewayToken("hmac:0000000000000002")] }), []);
    expect(await store.credentialUses()).toEqual([]);
  });

  it("keeps a sequence number beyond 2^53 exact, up to the largest a report may carry", async () => {
    const store = await engine.open();
    await store.upsertNode(identity(), 0, 0);
    const big = 2n ** 53n + 1n; // Number(big) would be 2^53
    const max = 2n ** 63n - 1n; // MAX_SEQ
    expect(await store.applyReport(report(big), [])).toBe("stored");
    expect(await store.applyReport(report(big - 1n), [])).toBe("stored_old");
    expect(await store.applyReport(report(big), [])).toBe("duplicate");
    expect((await store.listNodes())[0]).toMatchObject({ lastSeq: big, current: { seq: big } });
    expect(await store.applyReport(report(max), [])).toBe("stored");
    expect(await store.upsertNode(identity(), 1, 0)).toBe(max);
    await durable(store);
    const again = await engine.reopen(store);
    expect((await again.listNodes())[0]).toMatchObject({ lastSeq: max, current: { seq: max } });
  });

  it("keeps a row per credential use: a rotation retires the old fingerprint, a return revives it, an unchanged set only ages with its node", async () => {
    const store = await engine.open();
    await store.upsertNode(identity(), 500, 0);
    await store.applyReport(report(1n, { receivedAtMs: 1000, credentials: [gatewayToken("hmac:aaaaaaaaaaaaaaaa"), providerKey("hmac:cccccccccccccccc")] }), []);
    await store.applyReport(report(2n, { receivedAtMs: 2000, credentials: [gatewayToken("hmac:aaaaaaaaaaaaaaaa"), providerKey("hmac:cccccccccccccccc")] }), []);
    expect(await store.credentialUses()).toMatchObject([
      { fingerprint: "hmac:aaaaaaaaaaaaaaaa", firstSeenMs: 1000, lastSeenMs: 2000, retiredMs: undefined },
      { fingerprint: "hmac:cccccccccccccccc", firstSeenMs: 1000, lastSeenMs: 2000, retiredMs: undefined },
    ]);
    // Rotated: the gateway token changes, the provider key stays.
    await store.applyReport(report(3n, { receivedAtMs: 3000, credentials: [gatewayToken("hmac:bbbbbbbbbbbbbbbb"), providerKey("hmac:cccccccccccccccc")] }), []);
    // Rotated back, and the provider key's subject corrected.
    await store.applyReport(report(4n, { receivedAtMs: 4000, credentials: [gatewayToken("hmac:aaaaaaaaaaaaaaaa"), { ...providerKey("hmac:cccccccccccccccc"), subject: "main/openai" }] }), []);
    expect((await store.credentialUses()).map((u) => [u.fingerprint, u.subject, u.firstSeenMs, u.lastSeenMs, u.retiredMs])).toEqual([
      ["hmac:aaaaaaaaaaaaaaaa", "gateway:18789", 1000, 4000, undefined],
      ["hmac:bbbbbbbbbbbbbbbb", "gateway:18789", 3000, 3000, 4000],
      ["hmac:cccccccccccccccc", "main/openai", 1000, 4000, undefined],
    ]);
    await store.upsertNode(identity("mini-02"), 500, 0);
    await store.applyReport(report(1n, { nodeId: "mini-02", receivedAtMs: 1500, credentials: [gatewayToken("hmac:aaaaaaaaaaaaaaaa")] }), []);
    expect((await store.credentialUses({ activeOnly: true })).map((u) => `${u.fingerprint} ${u.nodeId}`)).toEqual([
      "hmac:aaaaaaaaaaaaaaaa mini-01", "hmac:aaaaaaaaaaaaaaaa mini-02", "hmac:cccccccccccccccc mini-01",
    ]);
    expect((await store.credentialUses({ nodeId: "mini-02" })).map((u) => u.nodeId)).toEqual(["mini-02"]);
    expect(await store.credentialUses({ nodeId: "mini-01", activeOnly: true })).toHaveLength(2);
    // An empty set retires everything the node had.
    await store.applyReport(report(5n, { receivedAtMs: 5000 }), []);
    expect(await store.credentialUses({ nodeId: "mini-01", activeOnly: true })).toEqual([]);
    expect((await store.credentialUses({ nodeId: "mini-01" })).every((u) => u.retiredMs !== undefined)).toBe(true);
  });

  it("lists events newest first, filtered by node and kind, and pages through all of them without repeats", async () => {
    const store = await engine.open();
    // Several at the same millisecond: the id breaks the tie.
    await store.appendEvents(Array.from({ length: 250 }, (_, i) => event(`node-${i % 5}`, 1000 + Math.floor(i / 3), i % 2 ? "connect" : "credential_rotated", { kind: i % 4 ? "gateway_token" : "provider_key", i })));
    expect(await store.eventCount()).toBe(250);
    const newest = await store.events({ sinceMs: 0, limit: 4 });
    expect(newest.map((e) => e.detail.i)).toEqual([249, 248, 247, 246]);
    expect((await store.events({ sinceMs: 1080, limit: 1000 })).every((e) => e.atMs >= 1080)).toBe(true);
    expect((await store.events({ sinceMs: 0, nodeId: "node-3", kind: "connect", limit: 1000 })).every((e) => e.nodeId === "node-3" && e.kind === "connect")).toBe(true);
    const paged = [];
    for await (const e of allEventsAsync(store, { sinceMs: 0, kind: "credential_rotated" }, 7)) paged.push(e);
    expect(paged).toHaveLength(125);
    expect(new Set(paged.map((e) => e.id)).size).toBe(125);
    expect(paged.map((e) => e.detail.i)).toEqual(Array.from({ length: 125 }, (_, i) => 248 - 2 * i));
    const after = await store.events({ sinceMs: 0, before: { atMs: newest[1]!.atMs, id: newest[1]!.id! }, limit: 2 });
    expect(after.map((e) => e.detail.i)).toEqual([247, 246]);
  });

  it("counts rotations per node and credential kind", async () => {
    const store = await engine.open();
    await store.appendEvents([
      ...Array.from({ length: 30 }, (_, i) => event(`node-${i % 3}`, i, "credential_rotated", { kind: i % 2 ? "gateway_token" : "provider_key", from: "hmac:a", to: "hmac:b" })),
      event("node-0", 99, "credential_rotated", { from: "hmac:a" }), // an entry without a kind
      event("node-0", 100, "connect", { kind: "gateway_token" }),
    ]);
    const counts = (await store.rotationCounts()).map((c) => `${c.nodeId} ${c.kind} ${c.count}`).sort();
    expect(counts).toEqual(["node-0 gateway_token 5", "node-0 provider_key 5", "node-0 unknown 1", "node-1 gateway_token 5", "node-1 provider_key 5", "node-2 gateway_token 5", "node-2 provider_key 5"]);
  });

  it("opens, closes and relabels silences; closing answers the open one", async () => {
    const store = await engine.open();
    await store.openSilences([
      { nodeId: "mini-01", startedMs: 100, label: "unreachable" },
      { nodeId: "mini-02", startedMs: 150, label: "asleep" },
    ]);
    await store.openSilences([]);
    expect(await store.closeSilence("mini-01", 400)).toMatchObject({ nodeId: "mini-01", startedMs: 100, endedMs: 400, label: "unreachable", relabelled: false });
    expect(await store.closeSilence("mini-01", 500)).toBeUndefined();
    await store.openSilence("mini-01", 600, "asleep");
    const [latest, first] = await store.silences("mini-01", 5);
    expect(latest).toMatchObject({ startedMs: 600, endedMs: undefined, label: "asleep" });
    await store.relabelSilence(first!.id, "asleep");
    expect(await store.silences("mini-01", 5)).toEqual([
      { id: latest!.id, nodeId: "mini-01", startedMs: 600, endedMs: undefined, label: "asleep", relabelled: false },
      { id: first!.id, nodeId: "mini-01", startedMs: 100, endedMs: 400, label: "asleep", relabelled: true },
    ]);
    expect(await store.silences("mini-01", 1)).toHaveLength(1);
    expect(await store.silences("mini-02", 5)).toMatchObject([{ startedMs: 150, label: "asleep" }]);
  });

  it("reads many nodes' history in one call: the kinds asked for, the newest per node, and the silences that overlap the window", async () => {
    const store = await engine.open();
    const at = (nodeId: string, atMs: number, kind: EventKind) => event(nodeId, atMs, kind, { from: "ok", to: "fail" }, "session");
    await store.appendEvents([
      at("mini-01", 500, "layer_change"),
      ...[1000, 2000, 3000, 4000].map((t) => at("mini-01", t, "layer_change")),
      at("mini-01", 2500, "connect"),
      at("mini-02", 1500, "layer_change"),
      at("other", 1500, "layer_change"),
    ]);
    const silence = async (nodeId: string, from: number, to?: number, label: "asleep" | "unreachable" = "asleep") => {
      await store.openSilence(nodeId, from, label);
      if (to !== undefined) await store.closeSilence(nodeId, to);
    };
    await silence("mini-01", 100, 200);
    await silence("mini-01", 800, 1200);
    await silence("mini-01", 2100, 2200, "unreachable");
    await silence("mini-01", 3500);
    await silence("mini-02", 300, 900);
    await silence("other", 1100);
    const rows = await store.history({ nodeIds: ["mini-01", "mini-02"], kinds: ["layer_change"], sinceMs: 1000, perNodeLimit: 3 });
    expect(rows.events.map((e) => [e.nodeId, e.atMs, e.kind, e.layer])).toEqual([
      ["mini-01", 2000, "layer_change", "session"],
      ["mini-01", 3000, "layer_change", "session"],
      ["mini-01", 4000, "layer_change", "session"],
      ["mini-02", 1500, "layer_change", "session"],
    ]);
    expect(rows.silences.map((s) => [s.nodeId, s.startedMs, s.endedMs, s.label])).toEqual([
      ["mini-01", 800, 1200, "asleep"],
      ["mini-01", 2100, 2200, "unreachable"],
      ["mini-01", 3500, undefined, "asleep"],
    ]);
    expect(await store.history({ nodeIds: ["mini-01"], kinds: ["layer_change", "connect"], sinceMs: 0, perNodeLimit: 2 })).toMatchObject({
      events: [{ atMs: 3000 }, { atMs: 4000 }],
      silences: [{ startedMs: 2100 }, { startedMs: 3500 }],
    });
    expect(await store.history({ nodeIds: ["mini-01"], kinds: ["layer_change"], sinceMs: 0, perNodeLimit: 0 })).toEqual({ events: [], silences: [] });
    expect(await store.history({ nodeIds: [], kinds: ["layer_change"], sinceMs: 0, perNodeLimit: 10 })).toEqual({ events: [], silences: [] });
  });

  it("prunes reports by age but never a node's current one, and events by age and by row cap", async () => {
    const store = await engine.open();
    await store.upsertNode(identity(), 0, 0);
    for (let seq = 1n; seq <= 5n; seq++) await store.applyReport(report(seq, { receivedAtMs: Number(seq) * 1000, verdict: seq % 2n ? "fail" : "ok" }), [event("mini-01", Number(seq) * 1000, "layer_change")]);
    await store.appendEvents([event("mini-01", 10, "connect"), event("mini-01", 20, "connect")]);
    const byAge = await store.prune({ reportsMaxAgeMs: 1500, eventsMaxAgeMs: 4500, eventsMaxRows: 1000 }, 5000);
    expect(byAge).toEqual({ reports: 3, events: 2 }); // reports 1..3 (4 is young, 5 current); the events at 10 and 20 ms
    expect(await store.eventCount()).toBe(5);
    expect(await store.applyReport(report(4n), [])).toBe("duplicate"); // young enough to be kept, so still known
    // By the cap: the newest two of the five events are kept.
    expect(await store.prune({ reportsMaxAgeMs: 0, eventsMaxAgeMs: 10_000_000, eventsMaxRows: 2 }, 1_000_000)).toEqual({ reports: 1, events: 3 });
    expect((await store.events({ sinceMs: 0, limit: 10 })).map((e) => e.atMs)).toEqual([5000, 4000]);
    // The current report and its body survive every prune.
    const [node] = await store.listNodes();
    expect(node!.current).toMatchObject({ seq: 5n, verdict: "fail", findings: [{ code: "token_mismatch" }] });
  });

  it("creates the fleet's fingerprint key once and keeps it", async () => {
    const store = await engine.open();
    const key = Buffer.from(await store.fingerprintKey());
    expect(key).toHaveLength(32);
    expect(Buffer.from(await store.fingerprintKey())).toEqual(key);
    await store.close();
    const again = await engine.reopen(store);
    expect(Buffer.from(await again.fingerprintKey())).toEqual(key);
  });

  it("answers whenDurable once what was written is committed, and a reopened store reads it back", async () => {
    const store = await engine.open();
    void store.upsertNode(identity(), 1, 0);
    void store.applyReport(report(1n, { credentials: [gatewayToken("hmac:aaaaaaaaaaaaaaaa")] }), [event("mini-01", 1, "credential_added")]);
    void store.openSilence("mini-01", 5, "asleep");
    expect(await durable(store)).toBeUndefined();
    const reader = await engine.reopen(store);
    expect((await reader.listNodes())[0]).toMatchObject({ nodeId: "mini-01", lastSeq: 1n, current: { seq: 1n } });
    expect(await reader.credentialUses()).toHaveLength(1);
    expect(await reader.eventCount()).toBe(1);
    expect(await reader.silences("mini-01", 1)).toHaveLength(1);
    // With nothing pending it answers at once.
    let now = false;
    store.whenDurable(() => (now = true));
    expect(now).toBe(true);
  });

  it("answers every write of a busy turn, in order: hellos, new, old and duplicate reports, and events interleaved", async () => {
    const store = await engine.open();
    const writes: Promise<unknown>[] = [];
    for (let n = 0; n < 60; n++) {
      const nodeId = `node-${n}`;
      writes.push(settle(() => store.upsertNode(identity(nodeId), 1, 0)));
      writes.push(settle(() => store.applyReport(report(3n, { nodeId, credentials: [gatewayToken(`hmac:${String(n).padStart(16, "0")}`)] }), [event(nodeId, 3, "credential_added")])));
      writes.push(settle(() => store.applyReport(report(2n, { nodeId }), [event(nodeId, 2, "layer_change")])));
      writes.push(settle(() => store.applyReport(report(3n, { nodeId }), [])));
      writes.push(settle(() => store.appendEvents([event(nodeId, 4, "connect")])));
    }
    expect(await Promise.all(writes)).toEqual(Array.from({ length: 60 }, () => [0n, "stored", "stored_old", "duplicate", undefined]).flat());
    expect(await durable(store)).toBeUndefined();
    const nodes = await store.listNodes();
    expect(nodes).toHaveLength(60);
    expect(nodes.every((n) => n.lastSeq === 3n && n.current?.seq === 3n && n.current.credentials.length === 1)).toBe(true);
    expect((await store.events({ sinceMs: 0, nodeId: "node-7", limit: 10 })).map((e) => e.kind)).toEqual(["connect", "credential_added"]);
    expect(await store.eventCount()).toBe(120);
    expect(await store.credentialUses({ activeOnly: true })).toHaveLength(60);
  });

  it("fails a write that cannot be stored alone: the others of its turn are stored", async () => {
    const store = await engine.open();
    const outcomes = await Promise.allSettled([
      settle(() => store.upsertNode(identity(), 1, 0)),
      settle(() => store.applyReport(report(1n), [])),
      settle(() => store.applyReport(report(2n ** 63n), [])), // past a signed 64-bit integer: no engine can hold it
      settle(() => store.applyReport(report(2n), [])),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    await durable(store);
    expect((await store.listNodes())[0]).toMatchObject({ lastSeq: 2n, current: { seq: 2n } });
  });

  describe("hostile input: huge and odd strings round-trip in every table", () => {
    const odd = "ü ✓ 🦞 \u202Eevil\u202C 'quoted' \"double\" \\back\\slash\\ %s $1 ${x} \n\t\r -- ; DROP TABLE nodes; --";
    const huge = (n: number) => `${odd} ${"λ".repeat(n)}`;

    it("nodes", async () => {
      const store = await engine.open();
      const hostname = huge(200_000);
      await store.upsertNode({ ...identity("x'); DROP TABLE nodes; --"), hostname, platform: odd, agentVersion: odd, openclawVersion: odd }, 1, 0);
      expect(await store.listNodes()).toMatchObject([{ nodeId: "x'); DROP TABLE nodes; --", hostname, platform: odd, agentVersion: odd, openclawVersion: odd }]);
    });

    it("reports (and their bodies): NUL and a lone surrogate in findings survive, escaped in JSON", async () => {
      const store = await engine.open();
      await store.upsertNode(identity(), 1, 0);
      const summary = `${huge(1000)} nul:\0 lone:\uD800 end`;
      const findings = [problem("session", "token_mismatch", summary, { [odd.slice(0, 60)]: huge(50_000) })];
      expect(await store.applyReport(report(1n, { verdict: "fail", findings, openclawVersion: odd }), [])).toBe("stored");
      const [node] = await store.listNodes();
      expect(node!.current!.findings).toEqual(findings);
      expect(node!.current!.openclawVersion).toBe(odd);
      expect(node!.openclawVersion).toBe(odd);
    });

    it("events", async () => {
      const store = await engine.open();
      const detail = { note: `${huge(100_000)} nul:\0`, [odd]: true, n: Number.MAX_SAFE_INTEGER, neg: -0.5 };
      await store.appendEvents([{ nodeId: "mini-01", atMs: 1, kind: "layer_change", layer: odd, code: odd, detail }]);
      const [stored] = await store.events({ sinceMs: 0, limit: 1 });
      expect(stored).toMatchObject({ nodeId: "mini-01", layer: odd, code: odd, detail });
      // A rotation whose details hold a NUL is still counted.
      await store.appendEvents([event("mini-01", 2, "credential_rotated", { kind: "gateway_token", subject: "nul:\0" })]);
      expect(await store.rotationCounts()).toEqual([{ nodeId: "mini-01", kind: "gateway_token", count: 1 }]);
    });

    it("credentials: odd sources and subjects, and one credential listed twice (the last wins)", async () => {
      const store = await engine.open();
      await store.upsertNode(identity(), 1, 0);
      const source = odd.repeat(3).slice(0, 200);
      const credentials = [
        { kind: "provider_key", source, fingerprint: "hmac:dddddddddddddddd", subject: "first" },
        { kind: "provider_key", source, fingerprint: "hmac:dddddddddddddddd", subject: odd },
      ];
      expect(await store.applyReport(report(1n, { receivedAtMs: 10, credentials }), [])).toBe("stored");
      expect(await store.credentialUses()).toMatchObject([{ nodeId: "mini-01", kind: "provider_key", source, fingerprint: "hmac:dddddddddddddddd", subject: odd, retiredMs: undefined }]);
      expect((await store.listNodes())[0]!.current!.credentials).toEqual(credentials);
    });

    it("silences", async () => {
      const store = await engine.open();
      await store.openSilence(odd, 1, "asleep");
      expect(await store.closeSilence(odd, 2)).toMatchObject({ nodeId: odd, endedMs: 2 });
      expect(await store.history({ nodeIds: [odd], kinds: ["connect"], sinceMs: 0, perNodeLimit: 5 })).toMatchObject({ silences: [{ nodeId: odd }] });
    });
  });
});

const until = async (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("PgStore: connections and credentials", () => {
  it("refuses a password in the URL without repeating it, and keeps a wrong password out of its error", async () => {
    const secret = "s3cret-Hunter2-do-not-log";
    const url = await server.createDatabase();
    const withPassword = url.replace(`${server.role}@`, `${server.role}:${secret}@`);
    const refused = await PgStore.open(withPassword).catch((error: Error) => error);
    expect(refused).toBeInstanceOf(PgStoreError);
    expect((refused as Error).message).toMatch(/holds a password.*PGPASSWORD or a password file/);
    expect(String((refused as Error).message) + String((refused as Error).stack)).not.toContain(secret);

    const wrong = await PgStore.open(url, { env: { PGPASSWORD: secret } }).catch((error: Error) => error);
    expect(wrong).toBeInstanceOf(PgStoreError);
    expect((wrong as Error).message).toMatch(new RegExp(`^postgres://${server.role}@127\\.0\\.0\\.1:${server.port}/clawfleet_test_\\d+: cannot open the collector database: password authentication failed.* — check the password`));
    expect(`${(wrong as Error).message}\n${(wrong as Error).stack}\n${JSON.stringify(wrong)}`).not.toContain(secret);
  });

  it("reads the password from a file, and names the address when nothing listens there", async () => {
    const url = await server.createDatabase();
    const file = join(dir, "db-password");
    writeFileSync(file, `${server.password}\n`, { mode: 0o600 });
    const store = track(await PgStore.open(url, { passwordFile: file, env: {} }));
    expect(await store.eventCount()).toBe(0);
    const closedPort = url.replace(`:${server.port}/`, ":1/");
    await expect(PgStore.open(closedPort, { passwordFile: file })).rejects.toThrow(/127\.0\.0\.1:1\/.*ECONNREFUSED.* — is the server running/);
  });

  it("takes writes from several stores on one database at once: shared report bodies never deadlock them", async () => {
    const url = await server.createDatabase();
    const stores = await Promise.all([0, 1, 2].map(() => PgStore.open(url, { env: { PGPASSWORD: server.password } })));
    stores.forEach(track);
    // Each store its own nodes (as a lease will give them); every round the same few new bodies for all, written in
    // opposite orders: the first sighting of a finding set, fleet-wide.
    const kinds = 6;
    const rounds = 12;
    await Promise.all(stores.map(async (store, s) => {
      for (let round = 1; round <= rounds; round++) {
        const writes = Array.from({ length: 40 }, (_, n) => {
          const findings = [problem("session", "token_mismatch", `round ${round} body ${(s % 2 ? 39 - n : n) % kinds}`)];
          return store.applyReport(report(BigInt(round), { nodeId: `c${s}-node-${n}`, verdict: "fail", primaryIndex: 0, findings }), []);
        });
        expect(await Promise.all(writes)).toEqual(Array(40).fill("stored"));
      }
    }));
    const nodes = await stores[0]!.listNodes();
    expect(nodes).toHaveLength(0); // reports of nodes no hello created: stored, but no node rows
    const database = new URL(url).pathname.slice(1);
    const reports = await server.admin((c) => c.query("SELECT count(*)::int AS n, count(DISTINCT body_hash)::int AS bodies FROM reports"), database);
    expect(reports.rows).toEqual([{ n: 3 * 40 * rounds, bodies: kinds * rounds }]);
    // Not stored after a deadlock and a retry: no deadlock at all.
    const deadlocks = await server.admin((c) => c.query("SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = $1", [database]));
    expect(deadlocks.rows).toEqual([{ n: 0 }]);
  });

  it("connects over the server's unix socket when --db names its directory", async () => {
    const database = new URL(await server.createDatabase()).pathname.slice(1);
    const url = `postgres://${server.role}@/${database}?host=${encodeURIComponent(server.dir)}&port=${server.port}`;
    const store = await PgStore.open(url, { env: { PGPASSWORD: server.password } });
    track(store);
    expect(store.description).toBe(`postgres://${server.role}@${encodeURIComponent(server.dir)}:${server.port}/${database}`);
    await store.upsertNode(identity(), 1, 0);
    const sessions = await server.admin((c) => c.query("SELECT client_addr FROM pg_stat_activity WHERE usename = $1", [server.role]));
    expect(sessions.rows).toEqual([{ client_addr: null }]); // a socket session has no client address
  });

  it("migrates once when collectors start together, as a role that owns only its database", async () => {
    const url = await server.createDatabase();
    const stores = await Promise.all([1, 2, 3].map(() => PgStore.open(url, { env: { PGPASSWORD: server.password } })));
    stores.forEach(track);
    const database = new URL(url).pathname.slice(1);
    const versions = await server.admin((c) => c.query("SELECT version FROM schema_migrations ORDER BY version"), database);
    // Each version once, in order.
    expect(versions.rows).toEqual(MIGRATIONS.map((_, i) => ({ version: i + 1 })));
    const keys = await Promise.all(stores.map(async (s) => Buffer.from(await s.fingerprintKey()).toString("hex")));
    expect(new Set(keys).size).toBe(1); // the first key offered wins for every collector
    const roles = await server.admin((c) => c.query("SELECT rolsuper FROM pg_roles WHERE rolname = $1", [server.role]));
    expect(roles.rows).toEqual([{ rolsuper: false }]);
  });

  it("survives its connections being cut: the write in flight fails, later ones are stored on new connections, and no message holds the password", async () => {
    const url = await server.createDatabase();
    const lost: string[] = [];
    const store = track(await PgStore.open(url, { env: { PGPASSWORD: server.password }, poolSize: 3, onConnectionError: (message) => lost.push(message) }));
    await store.upsertNode(identity(), 1, 0);
    expect(await store.applyReport(report(1n), [])).toBe("stored");
    await Promise.all([store.listNodes(), store.eventCount(), store.silences("mini-01", 1)]); // every connection of the pool open
    const database = new URL(url).pathname.slice(1);
    const failed = await server.admin(async (admin) => {
      // Hold the write inside its transaction (it waits for this lock), then cut every session of the store's role,
      // as a server restart or a failover does.
      await admin.query("BEGIN");
      await admin.query("LOCK TABLE nodes IN ACCESS EXCLUSIVE MODE");
      const inFlight = settle(() => store.applyReport(report(2n), [])).then(() => undefined, (e: Error) => e);
      const waiting = () => admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'", [server.role]).then((r) => r.rows[0].n === 1);
      await until(waiting, "the store's write to wait for the lock");
      const cut = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [server.role]);
      await admin.query("ROLLBACK");
      const error = await inFlight;
      // The idle ones tell through onConnectionError as the pool drops them.
      await until(() => lost.length >= cut.rowCount! - 1, "the pool to drop its cut connections");
      return error;
    }, database);
    expect(failed).toBeInstanceOf(PgStoreError);
    expect(failed!.message).toMatch(/terminating connection due to administrator command|Connection terminated/);
    expect(lost[0]).toMatch(/: connection lost: terminating connection due to administrator command/);
    expect(await store.applyReport(report(2n), [])).toBe("stored");
    expect((await store.listNodes())[0]).toMatchObject({ lastSeq: 2n, current: { seq: 2n } });
    expect([failed!.message, ...lost].join("\n")).not.toContain(server.password);
  });

  it("stores a NUL in a plain column as U+FFFD (PostgreSQL text cannot hold it) instead of failing the write", async () => {
    const store = track(await PgStore.open(await server.createDatabase(), { env: { PGPASSWORD: server.password } }));
    await store.upsertNode({ ...identity(), hostname: "a\0b" }, 1, 0);
    expect((await store.listNodes())[0]!.hostname).toBe("a\uFFFDb");
  });
});

describe("test PostgreSQL server", () => {
  it("stops leaving no process and no directory behind", async () => {
    const other = await startPostgres();
    const children = childPids(other.pid);
    expect(children.length).toBeGreaterThan(0); // checkpointer, walwriter…
    expect(existsSync(other.dir)).toBe(true);
    await other.stop();
    expect([other.pid, ...children].filter(isAlive)).toEqual([]);
    expect(existsSync(other.dir)).toBe(false);
  });
});
