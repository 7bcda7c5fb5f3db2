// The Fleet on a shared PostgreSQL store (fleet.ts shared mode): a node's writes in order with
// memory following each once stored, the nodes other collectors hold read back as connected,
// and a lease lost to another collector ends the stream that relied on it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Fleet, REMOTE_STREAM } from "../../collector/state/fleet.ts";
import { PgCoordinator } from "../../collector/state/pg-leases.ts";
import { PgStore } from "../../collector/state/pg-store.ts";
import type { StoredReport } from "../../collector/state/store.ts";
import { passed, problem } from "../../shared/finding.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { startCollector } from "../../collector/collector.ts";
import { createLogger } from "../../shared/log.ts";
import { startLoad } from "../helpers/load-generator.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let server: TestPostgres;
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  server = await startPostgres();
}, 120_000);

afterAll(async () => {
  for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
  await server?.stop();
});

async function sharedFleet(url: string, collectorId: string) {
  const env = { env: { PGPASSWORD: server.password } };
  const store = await PgStore.open(url, { ...env, collectorId });
  const coordinator = await PgCoordinator.start(url, { ...env, collectorId, leaseTtlMs: 10_000 });
  const fleet = await Fleet.openShared(store, { coordinator, refreshMs: 200 });
  closers.push(() => store.close(), () => coordinator.close(), () => fleet.stop());
  return { store, coordinator, fleet };
}

const identity = (nodeId: string) => ({ nodeId, hostname: nodeId, platform: "darwin", agentVersion: "t", openclawVersion: "" });

function report(nodeId: string, seq: bigint, failing: boolean): StoredReport {
  const now = Date.now();
  return {
    nodeId, seq, observedAtMs: now, receivedAtMs: now, verdict: failing ? "fail" : "ok", primaryIndex: failing ? 0 : -1,
    findings: [failing ? problem("session", "token_mismatch", "rejected", {}) : passed("session", "session", "accepted")],
    durationMs: 1, maySleep: false, lastWakeMs: 0, lastSleepMs: 0, openclawVersion: "", credentials: [],
  };
}

describe("the Fleet on a shared PostgreSQL store", () => {
  it("applies a node's reports in order, each deriving its events from the one before, and remembers each once stored", async () => {
    const url = await server.createDatabase();
    const { fleet, store } = await sharedFleet(url, "one");
    expect(await fleet.connect(identity("mini-01"), 1, "peer", Date.now(), Date.now())).toBe(0n);
    // Made in one turn, as a spool replay arrives: ok, fail, ok.
    const outcomes = [1n, 2n, 3n].map((seq) => fleet.record(report("mini-01", seq, seq === 2n)));
    expect(fleet.get("mini-01")?.current).toBeUndefined(); // nothing before its commit
    expect(await Promise.all(outcomes)).toEqual(["stored", "stored", "stored"]);
    expect(fleet.get("mini-01")?.current?.seq).toBe(3n);
    const raised = await store.events({ sinceMs: 0, nodeId: "mini-01", kind: "finding_raised", limit: 10 });
    const cleared = await store.events({ sinceMs: 0, nodeId: "mini-01", kind: "finding_cleared", limit: 10 });
    expect([raised.length, cleared.length]).toEqual([1, 1]);
    expect(await fleet.record(report("mini-01", 2n, true))).toBe("duplicate");
  });

  it("shows a node another collector holds as connected (its last stored report), and as silent once it is let go", async () => {
    const url = await server.createDatabase();
    const a = await sharedFleet(url, "a");
    const b = await sharedFleet(url, "b");
    await a.fleet.connect(identity("mini-02"), 7, "peer", Date.now(), Date.now());
    await a.fleet.record(report("mini-02", 1n, true));
    const seen = async (check: () => boolean) => {
      for (let i = 0; i < 50 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
      return check();
    };
    expect(await seen(() => b.fleet.get("mini-02")?.streams.has(REMOTE_STREAM) === true)).toBe(true);
    expect(b.fleet.get("mini-02")?.current?.seq).toBe(1n);
    expect(b.fleet.exposes(b.fleet.get("mini-02")!)).toBe(false);
    expect(a.fleet.exposes(a.fleet.get("mini-02")!)).toBe(true);

    a.fleet.disconnect("mini-02", 7, Date.now());
    expect(await seen(() => b.fleet.get("mini-02")?.streams.size === 0)).toBe(true);
    expect(b.fleet.get("mini-02")?.silence).toBe("unreachable");
  });

  it("ends the stream whose lease another collector took: the next write is refused in its transaction and memory stays as stored", async () => {
    const url = await server.createDatabase();
    const a = await sharedFleet(url, "holder");
    const b = await sharedFleet(url, "taker");
    let lost = 0;
    await a.fleet.connect(identity("mini-03"), 1, "peer", Date.now(), Date.now(), () => lost++);
    await a.fleet.record(report("mini-03", 1n, false));
    // The lease lapses behind A's back (as when its renewals could not reach the server), and B takes it.
    await server.admin((c) => c.query("UPDATE node_leases SET expires_at = now() - interval '1 second' WHERE node_id = 'mini-03'"), new URL(url).pathname.slice(1));
    await b.coordinator.take("mini-03");
    await expect(a.fleet.record(report("mini-03", 2n, true))).rejects.toMatchObject({ code: "CF001" });
    expect(lost).toBe(1);
    expect(a.fleet.get("mini-03")?.current?.seq).toBe(1n);
    expect((await a.store.listNodes()).find((n) => n.nodeId === "mini-03")?.lastSeq).toBe(1n);
  });

  it("a collector stopped in order writes its nodes' silences and lets their leases go (password from a file)", async () => {
    const url = await server.createDatabase();
    const dir = mkdtempSync(join(tmpdir(), "clawfleet-shared-"));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "pgpass"), `${server.password}\n`, { mode: 0o600 });
    const log = createLogger("collector", process.stderr, { level: "error" });
    const collector = await startCollector({
      grpcListen: { host: "127.0.0.1", port: 0 }, httpListen: { host: "127.0.0.1", port: 0 }, dbPath: url, dbPasswordFile: join(dir, "pgpass"), insecure: true, log,
    });
    const load = startLoad({ collector: collector.grpcAddress, nodes: 3, ratePerNode: 2, nodePrefix: "stop", channels: 1 });
    await load.welcomed;
    await new Promise((r) => setTimeout(r, 800));
    await collector.stop();
    load.stop();
    const database = new URL(url).pathname.slice(1);
    const leases = await server.admin((c) => c.query("SELECT node_id FROM node_leases"), database);
    expect(leases.rows).toEqual([]);
    const silences = await server.admin((c) => c.query("SELECT node_id, label FROM silences WHERE ended_ms IS NULL ORDER BY node_id"), database);
    expect(silences.rows).toEqual(["stop-00000", "stop-00001", "stop-00002"].map((node_id) => ({ node_id, label: "unreachable" })));
  });
});
