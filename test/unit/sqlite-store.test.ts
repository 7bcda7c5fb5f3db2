import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { problem } from "../../shared/finding.ts";
import { SqliteStore, StoreError } from "../../collector/state/sqlite-store.ts";
import { Fleet } from "../../collector/state/fleet.ts";
import { allEvents, type CredentialRow, type EventKind, type StoredReport } from "../../collector/state/store.ts";
import { DatabaseSync } from "node:sqlite";
import { gatewayToken, identity, providerKey, report } from "../helpers/store-fixtures.ts";

describe("collector state (SQLite store + fleet)", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "clawfleet-store-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("de-duplicates by (node, seq) and keeps the newest report as current when older ones replay", () => {
    const store = new SqliteStore(join(dir, "c.db"));
    const fleet = new Fleet(store);
    expect(fleet.connect(identity(), 1, "ipv4:127.0.0.1:5000", 0, 1)).toBe(0n);
    expect(fleet.record(report(5n, { verdict: "fail" }))).toBe("stored");
    expect(fleet.record(report(5n, { verdict: "fail" }))).toBe("duplicate");
    expect(fleet.record(report(3n))).toBe("stored_old"); // a replayed older report: history only
    const [view] = fleet.list();
    expect(view!.lastSeq).toBe(5n);
    expect(view!.current?.verdict).toBe("fail");
    store.close();

    const reopened = new SqliteStore(join(dir, "c.db"));
    const [row] = reopened.listNodes();
    expect(row).toMatchObject({ nodeId: "mini-01", lastSeq: 5n, current: { seq: 5n, verdict: "fail" } });
    expect(row!.current!.findings[0]).toMatchObject({ code: "token_mismatch", evidence: { fingerprint: "hmac:abcd" } });
    expect(reopened.upsertNode(identity(), 2, 0)).toBe(5n);
    reopened.close();
  });

  it("logs transitions: connect, findings raised and cleared, layer changes, rotations, version changes", () => {
    const store = new SqliteStore(join(dir, "e.db"));
    const fleet = new Fleet(store);
    fleet.connect(identity(), 1, "peer", 0, 500);
    fleet.record(report(1n, { credentials: [gatewayToken("hmac:aaaaaaaaaaaaaaaa")] }));
    fleet.record(report(2n, { verdict: "fail", receivedAtMs: 2000, credentials: [gatewayToken("hmac:bbbbbbbbbbbbbbbb")] }));
    fleet.record(report(3n, { receivedAtMs: 3000, openclawVersion: "2026.9.7", credentials: [gatewayToken("hmac:bbbbbbbbbbbbbbbb")] }));
    const events = store.events({ sinceMs: 0, limit: 100 }).reverse();
    expect(events.map((e) => e.kind)).toEqual(["connect", "credential_added", "layer_change", "finding_raised", "credential_rotated", "layer_change", "finding_cleared", "version_change"]);
    expect(events.find((e) => e.kind === "credential_rotated")!.detail).toMatchObject({ kind: "gateway_token", from: "hmac:aaaaaaaaaaaaaaaa", to: "hmac:bbbbbbbbbbbbbbbb" });
    expect(events.find((e) => e.kind === "layer_change")).toMatchObject({ layer: "session", detail: { from: "none", to: "fail" } });
    const uses = store.credentialUses();
    expect(uses.find((u) => u.fingerprint === "hmac:aaaaaaaaaaaaaaaa")!.retiredMs).toBe(2000);
    expect(uses.find((u) => u.fingerprint === "hmac:bbbbbbbbbbbbbbbb")!.retiredMs).toBeUndefined();
    store.close();
  });

  it("labels a silent node by its last report and relabels the silence when it proves it slept", () => {
    const store = new SqliteStore(join(dir, "s.db"));
    const fleet = new Fleet(store);
    fleet.connect(identity(), 1, "peer", 0, 1000);
    fleet.record(report(1n, { receivedAtMs: 1000, maySleep: false }));
    fleet.disconnect("mini-01", 1, 10_000);
    expect(fleet.get("mini-01")!.silence).toBe("unreachable");
    fleet.connect(identity(), 2, "peer", 0, 600_000);
    // It comes back and says it slept at 11 s and woke at 590 s.
    fleet.record(report(2n, { receivedAtMs: 600_500, lastSleepMs: 11_000, lastWakeMs: 590_000 }));
    const [silence] = store.silences("mini-01", 1);
    expect(silence).toMatchObject({ startedMs: 10_000, endedMs: 600_000, label: "asleep", relabelled: true });
    expect(store.events({ sinceMs: 0, limit: 100 }).map((e) => e.kind)).toContain("relabelled");
    store.close();
  });

  it("finds one secret on several nodes (token_shared) and rotations of both kinds together", () => {
    const store = new SqliteStore(join(dir, "f.db"));
    const fleet = new Fleet(store);
    for (const [n, id] of ["dev-laptop", "ci-runner-1"].entries()) {
      fleet.connect(identity(id), n + 1, "peer", 0, 100);
      fleet.record({ ...report(1n, { credentials: [providerKey("hmac:cccccccccccccccc")] }), nodeId: id });
    }
    const shared = fleet.fleetFindings(5000);
    expect(shared.get("ci-runner-1")![0]).toMatchObject({ code: "token_shared", layer: "fleet", evidence: { fingerprint: "hmac:cccccccccccccccc", nodes: "ci-runner-1, dev-laptop" } });

    fleet.record({ ...report(2n, { receivedAtMs: 10_000, credentials: [providerKey("hmac:dddddddddddddddd"), gatewayToken("hmac:1111111111111111")] }), nodeId: "dev-laptop" });
    fleet.record({ ...report(3n, { receivedAtMs: 20_000, credentials: [providerKey("hmac:eeeeeeeeeeeeeeee"), gatewayToken("hmac:2222222222222222")] }), nodeId: "dev-laptop" });
    const findings = fleet.fleetFindings(30_000);
    expect(findings.get("dev-laptop")!.map((f) => f.code)).toContain("simultaneous_rotation");
    expect(findings.get("ci-runner-1")?.map((f) => f.code) ?? []).not.toContain("token_shared"); // the laptop rotated away
    store.close();
  });

  it("filters events by kind in SQL and pages through them all: more rotations than any window, counted at start without loading them", () => {
    const path = join(dir, "g.db");
    const store = new SqliteStore(path);
    const rotation = (i: number, nodeId: string, kind: string) => ({ nodeId, atMs: 1_000_000 + i, kind: "credential_rotated" as const, detail: { kind, source: "s", from: "hmac:a", to: "hmac:b" } });
    // 12,000 rotations (more than one 5,000-row page, more than the 10,000 the fleet once read), buried under
    // 15,000 newer events of other kinds: a "newest N, then filter" read finds none of them.
    store.appendEvents(Array.from({ length: 12_000 }, (_, i) => rotation(i, `node-${i % 40}`, i % 3 ? "gateway_token" : "provider_key")));
    store.appendEvents(Array.from({ length: 15_000 }, (_, i) => ({ nodeId: "chatty", atMs: 2_000_000 + i, kind: "layer_change" as const, detail: { from: "ok", to: "warn" } })));
    const seen = [...allEvents(store, { sinceMs: 0, kind: "credential_rotated" })];
    expect(seen).toHaveLength(12_000);
    expect(new Set(seen.map((e) => e.id)).size).toBe(12_000); // no row twice across pages
    expect(seen.every((e, i) => i === 0 || e.atMs <= seen[i - 1]!.atMs)).toBe(true);
    expect(store.events({ sinceMs: 0, kind: "credential_rotated", nodeId: "node-7", limit: 10_000 })).toHaveLength(300);
    const counts = store.rotationCounts();
    expect(counts.reduce((n, c) => n + c.count, 0)).toBe(12_000);
    expect(counts.filter((c) => c.nodeId === "node-0").map((c) => `${c.kind} ${c.count}`).sort()).toEqual(["gateway_token 200", "provider_key 100"]);
    // The index is what the kind query uses (a full scan would read the million-row log).
    const plan = new DatabaseSync(path, { readOnly: true }).prepare("EXPLAIN QUERY PLAN SELECT * FROM events WHERE at_ms >= 0 AND kind = 'credential_rotated' ORDER BY at_ms DESC, id DESC LIMIT 10").all();
    expect(JSON.stringify(plan)).toContain("events_kind");
    store.close();

    const fleet = new Fleet(new SqliteStore(path));
    expect(fleet.rotations.get("node-0")).toEqual(new Map([["gateway_token", 200], ["provider_key", 100]]));
    expect([...fleet.rotations.values()].reduce((n, byKind) => n + [...byKind.values()].reduce((a, b) => a + b, 0), 0)).toBe(12_000);
    fleet.store.close();
  });

  it("finds a node's simultaneous rotation however many other rotations the fleet logged since", () => {
    const store = new SqliteStore(join(dir, "h.db"));
    const now = 50_000_000;
    const rotated = (nodeId: string, atMs: number, kind: string) => ({ nodeId, atMs, kind: "credential_rotated" as const, detail: { kind, source: "s", subject: "main/openai", from: "hmac:a", to: "hmac:b" } });
    store.appendEvents([rotated("dev-laptop", now - 3_600_000, "gateway_token"), rotated("dev-laptop", now - 3_590_000, "provider_key")]);
    // 12,000 gateway-token rotations elsewhere, all newer: the old 10,000-row window missed the laptop's pair.
    store.appendEvents(Array.from({ length: 12_000 }, (_, i) => rotated(`ci-${i}`, now - 1_000_000 + i, "gateway_token")));
    const fleet = new Fleet(store, now);
    expect(fleet.fleetFindings(now).get("dev-laptop")?.map((f) => f.code)).toContain("simultaneous_rotation");
    store.close();
  });

  it("reads many nodes' recent history in one call: the kinds asked for, the newest per node, and the silences that overlap the window", () => {
    const store = new SqliteStore(join(dir, "h.db"));
    const at = (nodeId: string, atMs: number, kind: EventKind) => ({ nodeId, atMs, kind, layer: "session", detail: { from: "ok", to: "fail" } });
    store.appendEvents([
      at("mini-01", 500, "layer_change"), // before the window
      ...[1000, 2000, 3000, 4000].map((t) => at("mini-01", t, "layer_change")),
      at("mini-01", 2500, "connect"), // a kind not asked for
      at("mini-02", 1500, "layer_change"),
      at("other", 1500, "layer_change"), // a node not asked for
    ]);
    // mini-01: one silence ended before the window, one across its start, one inside it, one still open.
    const silence = (nodeId: string, from: number, to?: number, label: "asleep" | "unreachable" = "asleep") => {
      store.openSilence(nodeId, from, label);
      if (to !== undefined) store.closeSilence(nodeId, to);
    };
    silence("mini-01", 100, 200);
    silence("mini-01", 800, 1200);
    silence("mini-01", 2100, 2200, "unreachable");
    silence("mini-01", 3500);
    silence("mini-02", 300, 900); // ended before the window
    silence("other", 1100);

    const rows = store.history({ nodeIds: ["mini-01", "mini-02"], kinds: ["layer_change"], sinceMs: 1000, perNodeLimit: 3 });
    expect(rows.events.map((e) => [e.nodeId, e.atMs, e.kind])).toEqual([
      ["mini-01", 2000, "layer_change"],
      ["mini-01", 3000, "layer_change"],
      ["mini-01", 4000, "layer_change"],
      ["mini-02", 1500, "layer_change"],
    ]);
    expect(rows.events[0]!.detail).toEqual({ from: "ok", to: "fail" });
    expect(rows.silences.map((s) => [s.nodeId, s.startedMs, s.endedMs, s.label])).toEqual([
      ["mini-01", 800, 1200, "asleep"],
      ["mini-01", 2100, 2200, "unreachable"],
      ["mini-01", 3500, undefined, "asleep"],
    ]);
    // The newest silences are the ones kept when a node has more than the limit.
    expect(store.history({ nodeIds: ["mini-01"], kinds: ["layer_change", "connect"], sinceMs: 0, perNodeLimit: 2 })).toMatchObject({
      events: [{ atMs: 3000 }, { atMs: 4000 }],
      silences: [{ startedMs: 2100 }, { startedMs: 3500 }],
    });
    expect(store.history({ nodeIds: [], kinds: ["layer_change"], sinceMs: 0, perNodeLimit: 10 })).toEqual({ events: [], silences: [] });
    store.close();
  });

  it("prunes old reports and events but never a node's current report", async () => {
    const store = new SqliteStore(join(dir, "p.db"));
    const fleet = new Fleet(store);
    fleet.connect(identity(), 1, "peer", 0, 0);
    for (let seq = 1n; seq <= 5n; seq++) fleet.record(report(seq, { receivedAtMs: Number(seq) * 1000, verdict: seq % 2n ? "fail" : "ok" }));
    const pruned = fleet.prune({ reportsMaxAgeMs: 1500, eventsMaxAgeMs: 1_000_000, eventsMaxRows: 3 }, 5000);
    expect(pruned.reports).toBe(3); // seq 1..3 older than 3.5 s; seq 5 is current
    expect(store.eventCount()).toBe(3);
    // Another reader of the file sees what is committed: the group commit ends with this turn.
    await new Promise((resolve) => store.whenDurable(resolve));
    expect(new SqliteStore(join(dir, "p.db")).listNodes()[0]!.current!.seq).toBe(5n);
    store.close();
  });

  it("prunes the report bodies no report uses any more, reading the reports once however many bodies there are", () => {
    const path = join(dir, "bodies.db");
    const store = new SqliteStore(path);
    const now = 100 * 3_600_000;
    // 5,000 nodes, each with its own body (its own fingerprint): current reports, kept; and one old report each, pruned.
    for (let i = 0; i < 5000; i++) {
      const nodeId = `mini-${String(i).padStart(4, "0")}`;
      store.upsertNode(identity(nodeId), now, 0);
      store.applyReport(report(1n, { nodeId, receivedAtMs: now - 72 * 3_600_000, credentials: [gatewayToken(`hmac:old${String(i).padStart(13, "0")}`)] }), []);
      store.applyReport(report(2n, { nodeId, receivedAtMs: now, credentials: [gatewayToken(`hmac:new${String(i).padStart(13, "0")}`)] }), []);
    }
    const bodies = () => Number((new DatabaseSync(path, { readOnly: true }).prepare("SELECT count(*) AS n FROM report_bodies").get() as { n: number }).n);
    store.close();
    expect(bodies()).toBe(10_000);
    const reopened = new SqliteStore(path);
    const started = performance.now();
    expect(reopened.prune({ reportsMaxAgeMs: 48 * 3_600_000, eventsMaxAgeMs: 30 * 86_400_000, eventsMaxRows: 1_000_000 }, now).reports).toBe(5000);
    // One pass over reports takes milliseconds; a scan of reports per body (25 million rows here) took seconds.
    expect(performance.now() - started).toBeLessThan(1000);
    reopened.close();
    expect(bodies()).toBe(5000);
    expect(new SqliteStore(path).listNodes().every((n) => n.current?.credentials[0]?.fingerprint.startsWith("hmac:new"))).toBe(true);
  });

  it("keeps whether a node is simulated (migration 3); nodes stored before it read as real", () => {
    const path = join(dir, "sim.db");
    new SqliteStore(path).close();
    // The store as the previous release left it: no simulated column, migration 3 not applied.
    const old = new DatabaseSync(path);
    old.exec("ALTER TABLE nodes DROP COLUMN simulated; DELETE FROM schema_migrations WHERE version = 3;");
    old.prepare("INSERT INTO nodes (node_id, hostname, platform, agent_version, openclaw_version, first_seen_ms, last_seen_ms) VALUES ('mini-01', 'mini-01.local', 'darwin', '0.1.0', '', 1, 1)").run();
    old.close();
    const store = new SqliteStore(path);
    expect(store.listNodes().map((n) => [n.nodeId, n.simulated])).toEqual([["mini-01", false]]);
    store.upsertNode({ ...identity("sim-00001"), simulated: true }, 2, 0);
    store.close();
    const reopened = new SqliteStore(path);
    expect(reopened.listNodes().map((n) => [n.nodeId, n.simulated])).toEqual([["mini-01", false], ["sim-00001", true]]);
    reopened.close();
  });

  it("commits the reports of one turn together: durable (visible to another reader) only once whenDurable calls back", async () => {
    const path = join(dir, "batch.db");
    const store = new SqliteStore(path);
    const fleet = new Fleet(store);
    fleet.connect(identity(), 1, "peer", 0, 0);
    for (let seq = 1n; seq <= 20n; seq++) expect(fleet.record(report(seq))).toBe("stored");
    const reader = new SqliteStore(path);
    expect(reader.listNodes()[0]?.current).toBeUndefined(); // nothing acknowledged yet, nothing committed
    const durable: (Error | undefined)[] = [];
    store.whenDurable((error) => durable.push(error));
    await new Promise((resolve) => setImmediate(resolve));
    expect(durable).toEqual([undefined]);
    expect(reader.listNodes()[0]!.current!.seq).toBe(20n);
    // With nothing pending it calls back at once.
    let now = false;
    store.whenDurable(() => (now = true));
    expect(now).toBe(true);
    reader.close();
    store.close();
  });

  it("a failed group commit stores none of it, tells every waiter, and the fleet reads back what is stored", async () => {
    const path = join(dir, "fail.db");
    const store = new SqliteStore(path);
    const fleet = new Fleet(store);
    fleet.connect(identity(), 1, "peer", 0, 0);
    fleet.record(report(1n, { credentials: [gatewayToken("hmac:1111111111111111")] }));
    await new Promise((resolve) => store.whenDurable(resolve));
    // Make the COMMIT itself fail: a deferred foreign-key violation is checked only at COMMIT, which then rolls back.
    const raw = (store as unknown as { db: import("node:sqlite").DatabaseSync }).db;
    raw.exec("CREATE TABLE IF NOT EXISTS guard (x INTEGER REFERENCES nodes(node_id) DEFERRABLE INITIALLY DEFERRED); PRAGMA foreign_keys = ON;");
    fleet.record(report(2n, { verdict: "fail", credentials: [gatewayToken("hmac:2222222222222222")] }));
    raw.exec("INSERT INTO guard (x) VALUES ('no-such-node')");
    const errors: (Error | undefined)[] = [];
    store.whenDurable((error) => errors.push(error));
    store.whenDurable((error) => errors.push(error));
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toHaveLength(2);
    expect(errors[0]?.message).toMatch(/FOREIGN KEY/);
    // Memory had moved to seq 2 (a failing report, a rotation); the store never did, and the fleet says what the store says.
    const [view] = fleet.list();
    expect(view!.current!.seq).toBe(1n);
    expect(view!.lastSeq).toBe(1n);
    expect(fleet.rotations.get("mini-01")).toBeUndefined();
    raw.exec("PRAGMA foreign_keys = OFF; DROP TABLE guard;");
    // The agent resends seq 2: stored now, with its transition events.
    expect(fleet.record(report(2n, { verdict: "fail", credentials: [gatewayToken("hmac:2222222222222222")] }))).toBe("stored");
    await new Promise((resolve) => store.whenDurable(resolve));
    expect(fleet.list()[0]!.current!.seq).toBe(2n);
    expect(fleet.rotations.get("mini-01")?.get("gateway_token")).toBe(1);
    store.close();
  });

  it("skips what it knows is stored (a report body, a node's current seq and credentials), yet writes it again after a failed commit lost it or a prune deleted it", async () => {
    const store = new SqliteStore(join(dir, "bodies-known.db"));
    const durable = () => new Promise<Error | undefined>((resolve) => store.whenDurable(resolve));
    const ok = (seq: bigint) => report(seq, { receivedAtMs: 1000 * Number(seq), credentials: [gatewayToken("hmac:1111111111111111")] });
    const failing = (seq: bigint) => report(seq, { verdict: "fail", receivedAtMs: 1000 * Number(seq), credentials: [gatewayToken("hmac:2222222222222222")] });
    const uses = () => store.credentialUses().map((u) => `${u.fingerprint} ${u.retiredMs ?? "in use"}`);
    store.upsertNode(identity(), 0, 0);
    store.applyReport(ok(1n), []);
    expect(await durable()).toBeUndefined();
    // A new body in a commit that fails (a deferred foreign-key violation is checked only at COMMIT).
    const raw = (store as unknown as { db: DatabaseSync }).db;
    raw.exec("CREATE TABLE guard (x INTEGER REFERENCES nodes(node_id) DEFERRABLE INITIALLY DEFERRED); PRAGMA foreign_keys = ON;");
    store.applyReport(failing(2n), []);
    raw.exec("INSERT INTO guard (x) VALUES ('no-such-node')");
    expect((await durable())?.message).toMatch(/FOREIGN KEY/);
    raw.exec("PRAGMA foreign_keys = OFF; DROP TABLE guard;");
    // The same body again: written, so the node's current report reads back whole (a missing body reads as none).
    store.applyReport(failing(3n), []);
    expect(await durable()).toBeUndefined();
    expect(store.listNodes()[0]!.current).toMatchObject({ seq: 3n, verdict: "fail" });
    // Report 3 is newer than what is stored (1), and its credential replaces report 1's: report 2 never happened.
    expect(uses()).toEqual(["hmac:1111111111111111 3000", "hmac:2222222222222222 in use"]);
    // Report 1 ages out and its body with it; the body comes back with report 4.
    expect(store.prune({ reportsMaxAgeMs: 500, eventsMaxAgeMs: 1_000_000, eventsMaxRows: 1000 }, 4000).reports).toBe(1);
    store.applyReport(ok(4n), []);
    expect(await durable()).toBeUndefined();
    expect(store.listNodes()[0]!.current).toMatchObject({ seq: 4n, verdict: "ok" });
    expect(uses()).toEqual(["hmac:1111111111111111 in use", "hmac:2222222222222222 4000"]);
    store.close();
  });

  it("writes nothing for an unchanged credential set, yet dates every use right: active ones by their node, retired ones by their last report", async () => {
    const path = join(dir, "cred-dates.db");
    const store = new SqliteStore(path);
    const fleet = new Fleet(store);
    fleet.connect(identity(), 1, "peer", 0, 500);
    fleet.record(report(1n, { receivedAtMs: 1000, credentials: [gatewayToken("hmac:aaaaaaaaaaaaaaaa")] }));
    fleet.record(report(2n, { receivedAtMs: 2000, credentials: [gatewayToken("hmac:aaaaaaaaaaaaaaaa")] }));
    await new Promise((resolve) => store.whenDurable(resolve));
    const raw = new DatabaseSync(path, { readOnly: true });
    expect(raw.prepare("SELECT last_seen_ms FROM credentials").all()).toEqual([{ last_seen_ms: 1000 }]); // report 2 did not rewrite it
    expect(store.credentialUses()).toMatchObject([{ fingerprint: "hmac:aaaaaaaaaaaaaaaa", firstSeenMs: 1000, lastSeenMs: 2000 }]);
    fleet.record(report(3n, { receivedAtMs: 3000, credentials: [gatewayToken("hmac:bbbbbbbbbbbbbbbb")] }));
    const uses = store.credentialUses();
    expect(uses.find((u) => u.fingerprint === "hmac:aaaaaaaaaaaaaaaa")).toMatchObject({ lastSeenMs: 2000, retiredMs: 3000 });
    expect(uses.find((u) => u.fingerprint === "hmac:bbbbbbbbbbbbbbbb")).toMatchObject({ firstSeenMs: 3000, lastSeenMs: 3000, retiredMs: undefined });
    raw.close();
    store.close();
  });

  it("reads one node's credentials by its key and the fleet's in-use ones without the retired rows every rotation leaves", () => {
    const path = join(dir, "cred.db");
    const store = new SqliteStore(path);
    const fleet = new Fleet(store);
    for (const nodeId of ["mini-01", "mini-02"]) {
      fleet.connect(identity(nodeId), 1, "peer", 0, 500);
      // Three rotations each: two retired fingerprints per node, one in use.
      for (const seq of [1n, 2n, 3n]) fleet.record(report(seq, { nodeId, receivedAtMs: 1000 * Number(seq), credentials: [gatewayToken(`hmac:${nodeId === "mini-01" ? "a" : "b"}${"0".repeat(14)}${seq}`)] }));
    }
    const mine = store.credentialUses({ nodeId: "mini-01" });
    expect(mine.map((u) => `${u.nodeId} ${u.fingerprint} ${u.retiredMs ?? "in use"}`)).toEqual([
      "mini-01 hmac:a000000000000001 2000",
      "mini-01 hmac:a000000000000002 3000",
      "mini-01 hmac:a000000000000003 in use",
    ]);
    expect(store.credentialUses({ activeOnly: true }).map((u) => u.fingerprint)).toEqual(["hmac:a000000000000003", "hmac:b000000000000003"]);
    expect(store.credentialUses()).toHaveLength(6);
    // By the primary key: one node's read does not grow with the rest of the fleet's history.
    const reader = new DatabaseSync(path, { readOnly: true });
    const plan = (where: string) => JSON.stringify(reader.prepare(`EXPLAIN QUERY PLAN SELECT * FROM credentials ${where} ORDER BY +fingerprint, node_id, first_seen_ms`).all("mini-01"));
    expect(plan("WHERE node_id = ?")).toMatch(/SEARCH credentials USING PRIMARY KEY \(node_id=\?\)/);
    // The in-use ones: one pass over the table, not a lookup per row through the fingerprint index.
    expect(plan("WHERE retired_ms IS NULL AND ?1 IS NOT NULL")).not.toContain("credentials_fingerprint");
    reader.close();
    store.close();
  });

  it("opens the silences of every node it knows at start in one commit, not one fsync per node", () => {
    const path = join(dir, "start.db");
    const seeding = new SqliteStore(path);
    const now = 10_000_000;
    for (let i = 0; i < 2000; i++) {
      const nodeId = `mini-${String(i).padStart(4, "0")}`;
      seeding.upsertNode(identity(nodeId), now - 60_000, 0);
      seeding.applyReport(report(1n, { nodeId, receivedAtMs: now - 60_000, maySleep: i % 2 === 0 }), []);
    }
    seeding.close(); // the last connection checkpoints and removes the WAL
    const store = new SqliteStore(path);
    const fleet = new Fleet(store, now);
    expect(fleet.list().map((v) => v.silence)).toEqual(Array.from({ length: 2000 }, (_, i) => (i % 2 === 0 ? "asleep" : "unreachable")));
    expect(store.silences("mini-0007", 5)).toEqual([{ id: expect.any(Number), nodeId: "mini-0007", startedMs: now, endedMs: undefined, label: "unreachable", relabelled: false }]);
    // A commit per node writes at least a page each (2,000 × 4 KiB); one commit writes the few pages the rows fill.
    expect(statSync(`${path}-wal`).size).toBeLessThan(1024 * 1024);
    store.close();
  });

  it("keeps one fingerprint key for the fleet across restarts", () => {
    const first = new SqliteStore(join(dir, "k.db"));
    const key = Buffer.from(first.fingerprintKey());
    first.close();
    const second = new SqliteStore(join(dir, "k.db"));
    expect(key).toHaveLength(32);
    expect(Buffer.from(second.fingerprintKey())).toEqual(key);
    second.close();
  });

  it("refuses a file that is not a database, naming it, without overwriting it", () => {
    const path = join(dir, "corrupt.db");
    const junk = "this is not sqlite ".repeat(300);
    writeFileSync(path, junk);
    expect(() => new SqliteStore(path)).toThrow(StoreError);
    expect(() => new SqliteStore(path)).toThrow(new RegExp(`${path}: cannot open the collector database`));
    expect(readFileSync(path, "utf8")).toBe(junk);
  });
});
