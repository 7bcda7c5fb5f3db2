// Collector ingest against Debian's Pushgateway, at 1k and 10k streams, in one run.
// Ours: a real `collector serve --insecure` (plaintext: what mTLS costs is
// bench/mtls-ingest.ts's job), each node on its own gRPC stream sending reports as
// fast as acks allow; ack means committed (group commit; WAL, crash-durable).
// Peer: prometheus-pushgateway holding one group per node with the series our
// /metrics shows for that node (taken from the collector after our run), PUT over
// keep-alive HTTP, one client per node as on our side, as shipped and with
// --push.disable-consistency-check.
// The load runs in separate processes (bench/load/) whose CPU is reported too.
//   node bench/ingest.ts [--quick]      CPU profile of the collector: BENCH_CPU_PROF=<dir>
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { percentile, processCpuSeconds, processRssBytes, runStandalone, type BenchOptions, type BenchResult, type BenchRow } from "./harness.ts";
import { forkGenerator, type GeneratorChild, type WindowStats } from "./load/child-ipc.ts";
import { groupsFromExposition, startPushgateway, writeGroups } from "./peers/pushgateway.ts";
import { fleetFromOneAddress } from "../test/helpers/load-generator.ts";
import { freePort } from "../test/helpers/ports.ts";
import { spawnClawfleet, type Spawned } from "../test/helpers/processes.ts";

/** Generator processes for either side: the same for ours and the peer. */
const GENERATORS = 2;
/** Keep-alive connections that fill the Pushgateway before a measurement. */
const POPULATE_CONNECTIONS = 64;
/**
 * One client per node on both sides, one report in flight each: the same
 * number of outstanding requests, so throughput and latency compare (by
 * Little's law a side with more in flight would only show more latency).
 */
const IN_FLIGHT = 1;
/** Per generator process: at 10,000 hellos at once on a busy machine, hellos wait past the collector's 10 s hello timeout. */
const CONNECTS_PER_SECOND = 500;
export const budgetSeconds = 240;

interface Measured {
  perSecond: number;
  p99Ms: number;
  /** Server CPU seconds per 1,000 reports (pushes). */
  cpuPer1000: number;
  serverCores: number;
  rssMb: number;
  /** CPU the generator processes used, in cores, during the window. */
  generatorCores: number;
  errors: number;
  errorKinds: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Warm up, then one window: rate, p99, server CPU and RSS (from /proc), generator CPU. */
async function measureWindow(serverPid: number, generators: GeneratorChild[], warmMs: number, windowMs: number): Promise<Measured> {
  await sleep(warmMs);
  const cpu0 = await processCpuSeconds(serverPid);
  const gen0 = await Promise.all(generators.map((g) => g.cpuSeconds()));
  generators.forEach((g) => g.windowStart());
  const started = performance.now();
  await sleep(windowMs);
  const stats: WindowStats[] = await Promise.all(generators.map((g) => g.windowEnd()));
  const seconds = (performance.now() - started) / 1000;
  const cpu = (await processCpuSeconds(serverPid)) - cpu0;
  const gen = (await Promise.all(generators.map((g) => g.cpuSeconds()))).reduce((a, b) => a + b, 0) - gen0.reduce((a, b) => a + b, 0);
  const done = stats.reduce((a, s) => a + s.done, 0);
  const latencies = stats.flatMap((s) => s.latenciesMs);
  const errorKinds: Record<string, number> = {};
  for (const s of stats) for (const [k, n] of Object.entries(s.errorKinds)) errorKinds[k] = (errorKinds[k] ?? 0) + n;
  return {
    perSecond: done / seconds,
    p99Ms: latencies.length > 0 ? percentile(latencies, 99) : Number.NaN,
    cpuPer1000: done > 0 ? (cpu * 1000) / done : Number.NaN,
    serverCores: cpu / seconds,
    rssMb: (await processRssBytes(serverPid)) / 1e6,
    generatorCores: gen / seconds,
    errors: stats.reduce((a, s) => a + s.errors, 0),
    errorKinds,
  };
}

/** Our collector under load; returns the measurement and its /metrics (the series each node implies). */
async function ours(nodes: number, warmMs: number, windowMs: number): Promise<{ m: Measured; exposition: string; notWelcomed: number; refusals: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-bench-ingest-"));
  const grpc = `127.0.0.1:${await freePort()}`;
  const http = `127.0.0.1:${await freePort()}`;
  const profDir = process.env.BENCH_CPU_PROF;
  const collector: Spawned = spawnClawfleet(
    ["collector", "serve", "--insecure", "--grpc-listen", grpc, "--http-listen", http, "--db", join(dir, "c.db"), ...fleetFromOneAddress(nodes)],
    profDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profDir}` } : {},
  );
  const generators: GeneratorChild[] = [];
  try {
    await collector.waitFor(/collector ready/, 30_000);
    for (let g = 0; g < GENERATORS; g++) {
      generators.push(forkGenerator("collector-load-child.ts", { collector: grpc, nodes: Math.ceil(nodes / GENERATORS), nodePrefix: `ingest${g}`, inflight: IN_FLIGHT, channels: 8, connectPerSecond: CONNECTS_PER_SECOND }));
    }
    const ready = await Promise.all(generators.map((g) => g.ready));
    const m = await measureWindow(collector.child.pid!, generators, warmMs, windowMs);
    // Taken while every node is still connected: the series a live node implies.
    const exposition = await (await fetch(`http://${http}/metrics`)).text();
    const refusals = ready.flatMap((r) => Object.entries((r.errorKinds ?? {}) as Record<string, number>).map(([why, n]) => `${n}x ${why}`));
    return { m, exposition, notWelcomed: ready.reduce((a, r) => a + Number(r.notWelcomed ?? 0), 0), refusals };
  } finally {
    await Promise.all(generators.map((g) => g.stop()));
    await collector.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The Pushgateway in one mode, already holding every group (from the persistence file), under the same load shape. */
async function peer(consistencyCheck: boolean, groupsFile: string, persistenceFile: string, populate: boolean, warmMs: number, windowMs: number): Promise<Measured> {
  const gateway = await startPushgateway({ consistencyCheck, persistenceFile });
  const generators: GeneratorChild[] = [];
  try {
    if (populate) {
      const filler = forkGenerator("push-child.ts", { url: gateway.url, groupsFile, connections: POPULATE_CONNECTIONS, populate: true });
      await filler.ready;
      await filler.stop();
    }
    for (let g = 0; g < GENERATORS; g++) generators.push(forkGenerator("push-child.ts", { url: gateway.url, groupsFile: `${groupsFile}.${g}` }));
    await Promise.all(generators.map((g) => g.ready));
    return await measureWindow(gateway.process.child.pid!, generators, warmMs, windowMs);
  } finally {
    await Promise.all(generators.map((g) => g.stop()));
    await gateway.stop(); // SIGTERM: the Pushgateway writes its persistence file
  }
}

export async function bench(options: BenchOptions): Promise<BenchResult> {
  const sizes = options.quick ? [200] : [1000, 10_000];
  const warmMs = options.quick ? 1000 : 3000;
  const windowMs = options.quick ? 3000 : 8000;
  const rows: BenchRow[] = [];
  const notes: string[] = [
    `collector in plaintext (--insecure): the ingest figure without TLS; what mTLS costs is bench/mtls-ingest.ts's job`,
    `${GENERATORS} generator processes on either side, one client per node with ${IN_FLIGHT} report in flight: ours one gRPC stream per node (8 HTTP/2 connections per process), peer one keep-alive HTTP client per node PUTting its own group`,
    `latency: ours send -> ack (ack = committed to the SQLite WAL, crash-durable); peer push -> 200; warm-up ${warmMs / 1000} s, window ${windowMs / 1000} s`,
  ];
  for (const nodes of sizes) {
    const k = nodes >= 1000 ? `${nodes / 1000}k` : String(nodes);
    const our = await ours(nodes, warmMs, windowMs);
    const groups = groupsFromExposition(our.exposition);
    const seriesPerGroup = groups.reduce((a, g) => a + g.body.split("\n").filter((l) => l && !l.startsWith("#")).length, 0) / Math.max(1, groups.length);
    // Each push process takes its own half of the groups, as each of ours takes half the nodes.
    const files = writeGroups(groups);
    for (let g = 0; g < GENERATORS; g++) writeFileSync(`${files.file}.${g}`, JSON.stringify(groups.filter((_, i) => i % GENERATORS === g)));
    const persistence = join(files.file, "..", "pushgateway.db");
    try {
      const disabled = await peer(false, files.file, persistence, true, warmMs, windowMs);
      const shipped = await peer(true, files.file, persistence, false, warmMs, windowMs);
      const label = (mode: string) => `pushgateway ${mode}`;
      const what = (s: string) => `${s}, ${k} streams`;
      rows.push(
        { what: what("ingest"), unit: "reports/s", ours: our.m.perSecond, peer: disabled.perSecond, peerName: label("--push.disable-consistency-check"), better: "higher", ...(nodes === 10_000 ? { goal: 3 * disabled.perSecond } : {}) },
        { what: what("ingest"), unit: "reports/s", ours: our.m.perSecond, peer: shipped.perSecond, peerName: label("as shipped"), better: "higher" },
        { what: what("p99 report-to-stored"), unit: "ms", ours: our.m.p99Ms, peer: disabled.p99Ms, peerName: label("--push.disable-consistency-check"), better: "lower" },
        { what: what("p99 report-to-stored"), unit: "ms", ours: our.m.p99Ms, peer: shipped.p99Ms, peerName: label("as shipped"), better: "lower" },
        { what: what("server CPU per 1,000 reports"), unit: "CPU s", ours: our.m.cpuPer1000, peer: disabled.cpuPer1000, peerName: label("--push.disable-consistency-check"), better: "lower" },
        { what: what("server RSS"), unit: "MB", ours: our.m.rssMb, peer: disabled.rssMb, peerName: label("--push.disable-consistency-check"), better: "lower" },
      );
      const describe = (name: string, m: Measured) =>
        `${k}: ${name}: ${m.perSecond.toFixed(0)}/s, server ${m.serverCores.toFixed(2)} cores, generator ${m.generatorCores.toFixed(2)} cores (of ${GENERATORS} processes), ${m.errors} errors${m.errors > 0 ? ` (${Object.entries(m.errorKinds).map(([w, n]) => `${n}x ${w}`).join("; ")})` : ""}`;
      notes.push(describe("clawfleet", our.m) + (our.notWelcomed > 0 ? `, ${our.notWelcomed} nodes never welcomed (${our.refusals.join("; ")})` : ""), describe("pushgateway --push.disable-consistency-check", disabled), describe("pushgateway as shipped", shipped));
      notes.push(`${k}: ${groups.length} groups of ${seriesPerGroup.toFixed(1)} series on average (the node-labelled series of the collector's /metrics after our run)`);
    } finally {
      files.remove();
    }
  }
  return { name: "ingest", rows, notes };
}

if (import.meta.main) await runStandalone("ingest", bench).then(() => process.exit(0));
