// The PostgreSQL store's write path against the SQLite store's (issue 11): the
// same reports through applyReport, in turns as ingest makes them (many
// reports in one event-loop turn share a commit in both stores), and the wait
// for one lone report's commit (what an ack waits for on a quiet collector).
// PostgreSQL is Debian's server, started here on loopback in a temp directory
// with its default durability (fsync on, synchronous_commit on: every commit
// waits for the disk); SQLite runs as the collector runs it (WAL,
// synchronous=NORMAL: a commit waits for no disk). The peer is the SQLite
// store; CPU is counted for this process and for the PostgreSQL server's.
//   node bench/pg-store.ts [--quick]
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { PgStore } from "../collector/state/pg-store.ts";
import { SqliteStore } from "../collector/state/sqlite-store.ts";
import type { AsyncStore, CredentialRow, EventRow, Store, StoredReport } from "../collector/state/store.ts";
import { passed, problem } from "../shared/finding.ts";
import { childPids, startPostgres } from "../test/helpers/postgres.ts";
import { median, percentile, processCpuSeconds, runStandalone, type BenchOptions, type BenchResult } from "./harness.ts";

const NODES = 1000;

interface Measured {
  reportsPerSecond: number;
  /** CPU seconds per 1,000 reports: this process, and the database server's when there is one. */
  clientCpuPerThousand: number;
  serverCpuPerThousand: number;
  loneCommitMs: { p50: number; p99: number };
}

const credentials = (node: number, round: number): CredentialRow[] => [
  { kind: "gateway_token", source: "config gateway.auth.token", fingerprint: `hmac:${(node * 7919 + Math.floor(round / 20)).toString(16).padStart(16, "0")}`, subject: "gateway:18789" },
  { kind: "provider_key", source: "auth store main/anthropic", fingerprint: `hmac:${(node * 104729).toString(16).padStart(16, "0")}`, subject: "main/anthropic" },
];

/** A report like the simulator's: mostly healthy, a few findings, a token rotated now and then. */
function reportFor(node: number, round: number): { report: StoredReport; events: EventRow[] } {
  const nodeId = `node-${String(node).padStart(5, "0")}`;
  const failing = (node + round) % 17 === 0;
  const at = 1_700_000_000_000 + round * 30_000;
  const findings = [
    passed("gateway", "gateway", "gateway answers on 127.0.0.1:18789"),
    passed("tunnel", "tunnel", "tailscale up, Serve maps 443"),
    failing ? problem("session", "token_mismatch", "the CLI's token is not the one the gateway loaded", { fingerprint: "hmac:abcd" }) : passed("session", "session", "token matches"),
  ];
  const report: StoredReport = {
    nodeId, seq: BigInt(round + 1), observedAtMs: at, receivedAtMs: at, verdict: failing ? "fail" : "ok", primaryIndex: failing ? 2 : -1, findings,
    durationMs: 40, maySleep: false, lastWakeMs: 0, lastSleepMs: 0, openclawVersion: "2026.9.6", credentials: credentials(node, round),
  };
  const events: EventRow[] = failing ? [{ nodeId, atMs: at, kind: "layer_change", layer: "session", detail: { from: "ok", to: "fail" } }] : [];
  return { report, events };
}

async function measure(store: Store | AsyncStore, serverPid: number | undefined, rounds: number, perTurn: number): Promise<Measured> {
  const durable = () => new Promise<Error | undefined>((resolve) => store.whenDurable(resolve));
  for (let node = 0; node < NODES; node++) await store.upsertNode({ nodeId: `node-${String(node).padStart(5, "0")}`, hostname: "h", platform: "linux", agentVersion: "0.1.0", openclawVersion: "2026.9.6" }, 0, 0);
  await durable();
  const serverCpu = async () => (serverPid ? (await Promise.all([serverPid, ...childPids(serverPid)].map((pid) => processCpuSeconds(pid).catch(() => 0)))).reduce((a, b) => a + b, 0) : 0);
  const cpuBefore = process.cpuUsage();
  const serverBefore = await serverCpu();
  const started = performance.now();
  let reports = 0;
  for (let round = 0; round < rounds; round++) {
    for (let first = 0; first < NODES; first += perTurn) {
      // One ingest turn: these reports arrive together and are acknowledged after their shared commit.
      const outcomes = [];
      for (let node = first; node < Math.min(NODES, first + perTurn); node++) {
        const { report, events } = reportFor(node, round);
        outcomes.push(store.applyReport(report, events));
      }
      const failed = await durable();
      if (failed) throw failed;
      for (const outcome of await Promise.all(outcomes)) if (outcome !== "stored") throw new Error(`expected stored, got ${outcome}`);
      reports += outcomes.length;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const serverSeconds = (await serverCpu()) - serverBefore;
  // A lone report per turn: the commit an ack waits for when nothing else is being written.
  const lone: number[] = [];
  for (let i = 0; i < 200; i++) {
    const { report, events } = reportFor(i % NODES, rounds + i);
    const t = performance.now();
    store.applyReport(report, events);
    await durable();
    lone.push(performance.now() - t);
  }
  return {
    reportsPerSecond: reports / seconds,
    clientCpuPerThousand: ((cpu.user + cpu.system) / 1e6 / reports) * 1000,
    serverCpuPerThousand: (serverSeconds / reports) * 1000,
    loneCommitMs: { p50: median(lone), p99: percentile(lone, 99) },
  };
}

export async function bench(options: BenchOptions): Promise<BenchResult> {
  const rounds = options.quick ? 3 : 10;
  const perTurn = 250;
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-bench-pgstore-"));
  const server = await startPostgres({ fsync: true });
  const load = loadavg()[0]!;
  try {
    const sqlite = new SqliteStore(join(dir, "bench.db"));
    const peer = await measure(sqlite, undefined, rounds, perTurn);
    sqlite.close();
    const pg = await PgStore.open(await server.createDatabase(), { env: { PGPASSWORD: server.password } });
    const ours = await measure(pg, server.pid, rounds, perTurn);
    await pg.close();
    const total = rounds * NODES;
    return {
      name: "pg-store",
      rows: [
        { what: `applyReport, ${perTurn} reports a turn, ${NODES} nodes`, unit: "reports/s", ours: ours.reportsPerSecond, peer: peer.reportsPerSecond, peerName: "SqliteStore", better: "higher" },
        { what: "CPU per 1k reports, collector process", unit: "s", ours: ours.clientCpuPerThousand, peer: peer.clientCpuPerThousand, peerName: "SqliteStore", better: "lower" },
        { what: "CPU per 1k reports, collector + database server", unit: "s", ours: ours.clientCpuPerThousand + ours.serverCpuPerThousand, peer: peer.clientCpuPerThousand, peerName: "SqliteStore", better: "lower" },
        { what: "one report's commit, p50", unit: "ms", ours: ours.loneCommitMs.p50, peer: peer.loneCommitMs.p50, peerName: "SqliteStore", better: "lower" },
        { what: "one report's commit, p99", unit: "ms", ours: ours.loneCommitMs.p99, peer: peer.loneCommitMs.p99, peerName: "SqliteStore", better: "lower" },
      ],
      notes: [
        `${total} reports per store (${rounds} rounds of ${NODES} nodes, ${perTurn} a turn), then 200 lone reports; PostgreSQL 15 on loopback with fsync and synchronous_commit on, SQLite WAL synchronous=NORMAL`,
        `load average ${load.toFixed(2)} at start on a machine shared with other work: compare the CPU rows, the wall-clock ones are noise when it is busy`,
      ],
    };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await runStandalone("pg-store", bench);
