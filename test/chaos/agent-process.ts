// A real `clawfleet agent run` for chaos tests, and what it costs the host.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { noGateway } from "../helpers/no-gateway.ts";
import { spawnClawfleet, stopAll, type Spawned } from "../helpers/processes.ts";
import { afterEach } from "vitest";
import { startFakeCollector, type FakeCollector } from "../helpers/fake-collector.ts";

/** Starts fake collectors for a describe block; after each test they and every spawned agent are stopped. */
export function fakeCollectors(): (...args: Parameters<typeof startFakeCollector>) => Promise<FakeCollector> {
  const fakes: FakeCollector[] = [];
  afterEach(async () => {
    await stopAll();
    await Promise.all(fakes.splice(0).map((f) => f.stop()));
  });
  return async (...args) => {
    const started = await startFakeCollector(...args);
    fakes.push(started);
    return started;
  };
}

export async function spawnAgent(collector: string, nodeId: string, stateDir: string, home: string, interval = "1s"): Promise<Spawned> {
  return spawnClawfleet(["agent", "run", "--insecure", "--collector", collector, "--node-id", nodeId, "--interval", interval, "--state-dir", stateDir], await noGateway(home));
}

export const seqFile = (stateDir: string, nodeId: string) => join(stateDir, `${nodeId}.seq`);
export const spoolDir = (stateDir: string, nodeId: string) => join(stateDir, `${nodeId}.spool`);

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticksPerSecond = 100; // USER_HZ, 100 on every Linux we run on
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** Lines of a process's output that match. */
export function linesMatching(output: string, pattern: RegExp): string[] {
  return output.split("\n").filter((line) => pattern.test(line));
}

/** Every seq an agent logged as made (`report seq=N`): each was spooled, or kept in memory, before the line. */
export function madeSeqs(...outputs: string[]): bigint[] {
  return outputs.flatMap((output) => [...output.matchAll(/ report seq=(\d+) /g)].map((m) => BigInt(m[1]!)));
}

export interface StoredRow {
  seq: bigint;
  observedAtMs: bigint;
}

/** A node's stored reports, read straight from the collector's SQLite file (read-only; fine beside a running collector: WAL). */
export function storedReports(db: string, nodeId: string): StoredRow[] {
  const store = new DatabaseSync(db, { readOnly: true });
  try {
    const statement = store.prepare("SELECT seq, observed_at_ms FROM reports WHERE node_id = ? ORDER BY seq");
    statement.setReadBigInts(true);
    return (statement.all(nodeId) as { seq: bigint; observed_at_ms: bigint }[]).map((r) => ({ seq: r.seq, observedAtMs: r.observed_at_ms }));
  } finally {
    store.close();
  }
}

/** Seqs of the reports an (exited) agent still holds unacknowledged in its spool. */
export function spooledSeqs(stateDir: string, nodeId: string): Set<bigint> {
  return new Set(readdirSync(spoolDir(stateDir, nodeId)).filter((name) => /^\d{20}\.report$/.test(name)).map((name) => BigInt(name.slice(0, 20))));
}

/**
 * The delivery contract: every report the agent made is stored, or still in
 * its spool to be resent (the last one may be made as it stops); and each is
 * stored once (one row per report: none re-stored under a second seq).
 */
export function expectDeliveredOnce(stored: StoredRow[], made: bigint[], spooled: Set<bigint> = new Set()): void {
  const storedSeqs = new Set(stored.map((r) => r.seq));
  const missing = made.filter((seq) => !storedSeqs.has(seq) && !spooled.has(seq));
  if (missing.length > 0) throw new Error(`reports made but neither stored nor spooled: ${missing.join(", ")}`);
  const observed = new Map<bigint, bigint[]>();
  for (const row of stored) observed.set(row.observedAtMs, [...(observed.get(row.observedAtMs) ?? []), row.seq]);
  const twice = [...observed.values()].filter((seqs) => seqs.length > 1);
  if (twice.length > 0) throw new Error(`one report stored under several seqs: ${twice.map((s) => s.join("/")).join(", ")}`);
}

export async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
