// Growth (issue 13, benchmark 5): the collector's start and every query as its
// store grows, from 10,000 to 1,000,000 events and from 1,000 to 10,000
// nodes. Each size is seeded straight into SQLite (bench/store-seed.ts), then
// a real `clawfleet collector serve` process starts on it and is queried over
// loopback: the RPCs through an in-bench gRPC client (so the CLI's own process
// start is not counted), the pages and /metrics over HTTP, and each query's
// CLI once for its whole wall time. No other tool holds this state, so the
// peer of each figure is the same collector at the smallest size: the ratio
// is how much worse the big store is (1.00x = does not grow).
//   node bench/store-growth.ts [--quick]
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { allRotations, QUERY_CHANNEL_OPTIONS } from "../collector/query/query-client.ts";
import { GetNodeRequestSchema, ListCredentialsRequestSchema, ListEventsRequestSchema, ListNodesRequestSchema, QueryService } from "../shared/gen/clawfleet/v1/query_pb.ts";
import { createClient } from "../shared/grpc-adapter.ts";
import { freePort } from "../test/helpers/ports.ts";
import { baseEnv, CLAWFLEET_BIN, spawnProcess } from "../test/helpers/processes.ts";
import { median, processCpuSeconds, processRssBytes, runStandalone, type BenchOptions, type BenchResult, type BenchRow } from "./harness.ts";
import { nodeName, seedStore } from "./store-seed.ts";

interface Size {
  nodes: number;
  events: number;
}

interface Measured {
  size: Size;
  seed: { seconds: number; rotations: number; fileMb: number };
  startSeconds: number;
  startCpuSeconds: number;
  rssMb: number;
  rssAfterMb: number;
  /** Median latency per query, ms. */
  queries: Map<string, number>;
  /** One CLI run per gRPC query, whole process, ms. */
  cli: Map<string, number>;
}

const RUNS = 5;
const HOUR = 3_600_000;
/** A flapping node (the seed gives the first 1 % of nodes a fifth of all events): the heaviest node page. */
const NODE = nodeName(1);
/** A node like most: its page should not care how big the rest of the log is. */
const TYPICAL = nodeName(500);

const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
const sizeLabel = (s: Size) => `${label(s.events)} events, ${label(s.nodes)} nodes`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timed(work: () => Promise<unknown>, runs = RUNS): Promise<number> {
  await work(); // warm: prepared statements, the JIT, the connection
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return median(times);
}

async function httpGet(url: string): Promise<void> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  await response.arrayBuffer();
}

function cliWall(args: string[]): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) =>
    // The CLI exits 1 when something listed is failing: that is an answer, not an error.
    execFile(process.execPath, [CLAWFLEET_BIN, ...args], { env: baseEnv(), maxBuffer: 256 * 1024 * 1024 }, (error, _stdout, stderr) =>
      error && error.code !== 1 ? reject(new Error(`clawfleet ${args.join(" ")}: ${stderr.slice(-500)}`)) : resolve(performance.now() - started),
    ),
  );
}

async function measure(size: Size, dir: string): Promise<Measured> {
  const path = join(dir, `${size.nodes}-${size.events}.db`);
  const seeded = seedStore(path, size.nodes, size.events);
  const grpcAddress = `127.0.0.1:${await freePort()}`;
  const httpAddress = `127.0.0.1:${await freePort()}`;
  const spawnedAt = performance.now();
  const collector = spawnProcess(process.execPath, [CLAWFLEET_BIN, "collector", "serve", "--insecure", "--grpc-listen", grpcAddress, "--http-listen", httpAddress, "--db", path], baseEnv());
  const client = createClient(QueryService, grpcAddress, grpc.credentials.createInsecure(), QUERY_CHANNEL_OPTIONS);
  try {
    await collector.waitFor(/collector ready/, 180_000);
    const startSeconds = (performance.now() - spawnedAt) / 1000;
    const pid = collector.child.pid!;
    const startCpuSeconds = await processCpuSeconds(pid);
    const rssMb = (await processRssBytes(pid)) / 1e6;
    const deadline = () => ({ deadline: Date.now() + 60_000 });
    const now = Date.now();
    const rpc: [string, () => Promise<unknown>, string[]][] = [
      ["query nodes", () => client.listNodes(create(ListNodesRequestSchema, {}), deadline()), ["nodes"]],
      [`query node ${NODE}`, () => client.getNode(create(GetNodeRequestSchema, { nodeId: NODE, limit: 20 }), deadline()), ["node", NODE]],
      ["query events --since 24h", () => client.listEvents(create(ListEventsRequestSchema, { sinceUnixMs: BigInt(now - 24 * HOUR), limit: 200 }), deadline()), ["events", "--since", "24h"]],
      [
        "query events --kind credential_rotated --since 30d",
        () => client.listEvents(create(ListEventsRequestSchema, { sinceUnixMs: BigInt(now - 30 * 24 * HOUR), kind: "credential_rotated", limit: 200 }), deadline()),
        ["events", "--kind", "credential_rotated", "--since", "30d"],
      ],
      // What `query tokens` does: the credentials and the first page of rotations, then every further page.
      ["query tokens", async () => allRotations(client, await client.listCredentials(create(ListCredentialsRequestSchema, {}), deadline())), ["tokens"]],
    ];
    const queries = new Map<string, number>();
    for (const [name, work] of rpc) queries.set(name, await timed(work));
    queries.set("page /", await timed(() => httpGet(`http://${httpAddress}/`)));
    queries.set(`query node ${TYPICAL}`, await timed(() => client.getNode(create(GetNodeRequestSchema, { nodeId: TYPICAL, limit: 20 }), deadline())));
    queries.set(`page /node/${NODE}`, await timed(() => httpGet(`http://${httpAddress}/node/${NODE}`)));
    queries.set(`page /node/${TYPICAL}`, await timed(() => httpGet(`http://${httpAddress}/node/${TYPICAL}`)));
    // /metrics renders at most once a second (and the fleet-wide findings with it): time it just after a
    // second turns, as every Prometheus scrape meets it.
    const scrapes: number[] = [];
    for (let i = 0; i < 3; i++) {
      await sleep(1005 - (Date.now() % 1000));
      const started = performance.now();
      await httpGet(`http://${httpAddress}/metrics`);
      scrapes.push(performance.now() - started);
    }
    queries.set("/metrics (uncached)", median(scrapes));
    const cli = new Map<string, number>();
    for (const [name, , args] of rpc) cli.set(name, await cliWall(["collector", "query", ...args, "--insecure", "--collector", grpcAddress, "--json"]));
    const rssAfterMb = (await processRssBytes(pid)) / 1e6;
    return { size, seed: { seconds: seeded.seconds, rotations: seeded.rotations, fileMb: statSync(path).size / 1e6 }, startSeconds, startCpuSeconds, rssMb, rssAfterMb, queries, cli };
  } finally {
    client.close();
    await collector.stop();
    rmSync(path, { force: true });
    rmSync(`${path}-wal`, { force: true });
    rmSync(`${path}-shm`, { force: true });
  }
}

export async function bench(options: BenchOptions): Promise<BenchResult> {
  const base: Size = { nodes: 1000, events: 10_000 };
  const events: Size[] = options.quick ? [base, { nodes: 1000, events: 100_000 }] : [base, { nodes: 1000, events: 100_000 }, { nodes: 1000, events: 1_000_000 }];
  const wideFleet: Size = { nodes: 10_000, events: options.quick ? 10_000 : 100_000 };
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-growth-"));
  const load = [loadavg()[0]!];
  const measured: Measured[] = [];
  try {
    for (const size of [...events, wideFleet]) {
      measured.push(await measure(size, dir));
      load.push(loadavg()[0]!);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const at = (size: Size) => measured.find((m) => m.size.nodes === size.nodes && m.size.events === size.events)!;
  const largest = at(events.at(-1)!);
  const narrowFleet = at({ nodes: 1000, events: wideFleet.events });
  const rows: BenchRow[] = [];
  const compare = (big: Measured, small: Measured, peerName: string) => {
    const what = (name: string) => `${name}, ${sizeLabel(big.size)}`;
    rows.push({ what: what("collector start (spawn → ready)"), unit: "s", ours: big.startSeconds, peer: small.startSeconds, peerName, better: "lower" });
    rows.push({ what: what("collector CPU to ready"), unit: "s", ours: big.startCpuSeconds, peer: small.startCpuSeconds, peerName, better: "lower" });
    rows.push({ what: what("collector RSS after start"), unit: "MB", ours: big.rssMb, peer: small.rssMb, peerName, better: "lower" });
    for (const [name, ms] of big.queries) rows.push({ what: what(name), unit: "ms", ours: ms, peer: small.queries.get(name), peerName, better: "lower" });
  };
  compare(largest, at(base), `same collector, ${sizeLabel(base)}`);
  compare(at(wideFleet), narrowFleet, `same collector, ${sizeLabel(narrowFleet.size)}`);

  const grows = [...largest.queries].filter(([name, ms]) => ms > 3 * at(base).queries.get(name)! && ms > 20).map(([name]) => name);
  const notes = [
    "peer = the same collector on a smaller store, measured in the same run: no external tool holds this state, so the ratio is growth (1.00x = flat, 0.10x = ten times slower)",
    ...measured.map((m) => `seeded ${sizeLabel(m.size)} (${m.seed.rotations} rotations, ${m.seed.fileMb.toFixed(0)} MB file) in ${m.seed.seconds.toFixed(1)} s; start ${m.startSeconds.toFixed(2)} s (CPU ${m.startCpuSeconds.toFixed(2)} s), RSS ${m.rssMb.toFixed(0)} MB after start, ${m.rssAfterMb.toFixed(0)} MB after the queries`),
    ...[...largest.queries.keys()].map((name) => `${name} (ms, median of ${name.startsWith("/metrics") ? 3 : RUNS}): ${measured.map((m) => `${sizeLabel(m.size)} ${m.queries.get(name)!.toFixed(1)}`).join("; ")}`),
    ...[...largest.cli.keys()].map((name) => `CLI wall, whole process (ms): ${name}: ${measured.map((m) => `${sizeLabel(m.size)} ${m.cli.get(name)!.toFixed(0)}`).join("; ")}`),
    grows.length > 0 ? `grow more than 3x from ${sizeLabel(base)} to ${sizeLabel(largest.size)}: ${grows.join(", ")}` : `no query grows more than 3x from ${sizeLabel(base)} to ${sizeLabel(largest.size)}`,
    "`query tokens` grows with the rotations on purpose: it lists every one (the seed makes 3 % of events rotations), a page of 5,000 at a time",
    `${NODE} is a flapper (the first 1 % of nodes carry a fifth of the events: ~600 rotations each at 1M); its node query and page list every credential it ever had, retired ones included, so they grow with its own history; ${TYPICAL} is a node like most`,
    `machine load (1-min average) before and after each size: ${load.map((l) => l.toFixed(1)).join(", ")} on 2 cores; latencies are wall time over loopback`,
  ];
  return { name: "store-growth", rows, notes };
}

if (import.meta.main) await runStandalone("store-growth", bench);
