// Node leases and the leader on a real PostgreSQL (pg-leases.ts, migration 2): one collector
// holds a node at a time, a report write checks the lease in its own transaction, a dead
// collector's leases are free at once (presence) and a silent one's after the TTL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { PgStore } from "../../collector/state/pg-store.ts";
import { isLeaseLost, LeaseHeld, PgCoordinator } from "../../collector/state/pg-leases.ts";
import type { StoredReport } from "../../collector/state/store.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";

let server: TestPostgres;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  server = await startPostgres();
}, 120_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await server?.stop();
});

const env = () => ({ env: { PGPASSWORD: server.password } });

/** A collector's two halves on the database: its store (writes name it) and its coordinator. */
async function collector(url: string, collectorId: string, leaseTtlMs = 10_000) {
  const store = await PgStore.open(url, { ...env(), collectorId });
  const coordinator = await PgCoordinator.start(url, { ...env(), collectorId, leaseTtlMs });
  closers.push(() => store.close(), () => coordinator.close());
  return { store, coordinator };
}

function report(nodeId: string, seq: bigint): StoredReport {
  const now = Date.now();
  return { nodeId, seq, observedAtMs: now, receivedAtMs: now, verdict: "ok", primaryIndex: -1, findings: [], durationMs: 1, maySleep: false, lastWakeMs: 0, lastSleepMs: 0, openclawVersion: "", credentials: [] };
}

const identity = (nodeId: string) => ({ nodeId, hostname: nodeId, platform: "linux", agentVersion: "t", openclawVersion: "" });

describe("node leases on a shared PostgreSQL", () => {
  it("lets one collector hold a node; another is refused, naming the holder, and cannot write the node's reports", async () => {
    const url = await server.createDatabase();
    const a = await collector(url, "collector-a");
    const b = await collector(url, "collector-b");
    await a.coordinator.take("mini-01");
    await a.coordinator.take("mini-01"); // its own lease again: renewed, not refused
    const refused = await b.coordinator.take("mini-01").catch((error: Error) => error);
    expect(refused).toBeInstanceOf(LeaseHeld);
    expect((refused as LeaseHeld).holder).toBe("collector-a");

    await a.store.upsertNode(identity("mini-01"), Date.now(), 0);
    expect(await a.store.applyReport(report("mini-01", 1n), [])).toBe("stored");
    // In the same transaction as the write: B's report for A's node is refused, nothing of it stored.
    const write = await b.store.applyReport(report("mini-01", 2n), []).catch((error: Error) => error);
    expect(isLeaseLost(write)).toBe(true);
    expect((await a.store.listNodes()).find((n) => n.nodeId === "mini-01")?.lastSeq).toBe(1n);
    // Batched with a write it may make, the refused one fails alone.
    await b.coordinator.take("mini-02");
    await b.store.upsertNode(identity("mini-02"), Date.now(), 0);
    const both = await Promise.allSettled([b.store.applyReport(report("mini-02", 1n), []), b.store.applyReport(report("mini-01", 3n), [])]);
    expect(both.map((r) => r.status)).toEqual(["fulfilled", "rejected"]);

    expect(await a.coordinator.holders()).toEqual(new Map([["mini-01", "collector-a"], ["mini-02", "collector-b"]]));
    await a.coordinator.release("mini-01");
    await b.coordinator.take("mini-01");
    // A lost it: its next write for the node is refused.
    expect(isLeaseLost(await a.store.applyReport(report("mini-01", 4n), []).catch((error: Error) => error))).toBe(true);
    expect(await b.store.applyReport(report("mini-01", 4n), [])).toBe("stored");
  });

  it("frees a dead collector's leases at once (its presence lock goes with its connection) and a silent one's after the TTL", async () => {
    const url = await server.createDatabase();
    const dead = await collector(url, "collector-dead");
    const hung = await collector(url, "collector-hung", 1500);
    const alive = await collector(url, "collector-alive");
    await dead.coordinator.take("mini-01");
    await hung.coordinator.take("mini-02");
    await expect(alive.coordinator.take("mini-01")).rejects.toBeInstanceOf(LeaseHeld);
    await expect(alive.coordinator.take("mini-02")).rejects.toBeInstanceOf(LeaseHeld);

    // The server ends the dead collector's sessions, as it does when a killed process's sockets close.
    await server.admin(async (client: pg.Client) => {
      await client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'clawfleet-collector' AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid IN (SELECT presence::bigint::oid FROM node_leases WHERE collector = 'collector-dead'))");
    }, new URL(url).pathname.slice(1));
    const freedAt = Date.now();
    await alive.coordinator.take("mini-01");
    expect(Date.now() - freedAt).toBeLessThan(1000);

    // The hung one still holds its presence but renews nothing: its lease lapses with the TTL.
    const started = Date.now();
    for (;;) {
      const taken = await alive.coordinator.take("mini-02").then(() => true, () => false);
      if (taken) break;
      expect(Date.now() - started).toBeLessThan(5000);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Renewing finds it gone: the hung collector learns it lost the node.
    expect(await hung.coordinator.renew(["mini-02"])).toEqual(["mini-02"]);
  });

  it("elects one leader; when its connection goes, another takes over", async () => {
    const url = await server.createDatabase();
    const [a, b] = [await collector(url, "lead-a"), await collector(url, "lead-b")];
    expect(await a.coordinator.tryLead()).toBe(true);
    expect(await b.coordinator.tryLead()).toBe(false);
    await a.coordinator.close();
    expect(await b.coordinator.tryLead()).toBe(true);
  });
});
