// The agent's footprint on a healthy host, beside the agent people already run
// on every host, in one run: `clawfleet agent run --insecure` against a real
// healthy gateway and a real collector on loopback, and Debian's
// prometheus-node-exporter scraped at the same interval. Steady RSS, and CPU
// per cycle counting the processes the agent spawns (its reaped children's
// time, cutime+cstime, from /proc). The agent runs as it ships (the compiled
// package: dist/ from scripts/build-dist.ts, no sources beside it) and, for
// comparison, from the TypeScript sources. Then `agent check` against
// `openclaw gateway status --json`, paired runs A B A B.
//   npx node bench/agent-footprint.ts [--quick]
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { linuxPortOwner } from "../agent/discovery/live-gateway.ts";
import { AGENT_NODE_FLAGS } from "../agent/service/agent-service-spec.ts";
import { startCollectorProcess } from "../test/helpers/collector.ts";
import { createGateway, OPENCLAW_ENTRY, type TestGateway } from "../test/helpers/openclaw-gateway.ts";
import { freePort } from "../test/helpers/ports.ts";
import { baseEnv, CLAWFLEET_BIN, spawnProcess, type Spawned } from "../test/helpers/processes.ts";
import { median, processRssBytes, runStandalone, type BenchOptions, type BenchResult, type BenchRow } from "./harness.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** What scripts/build-dist.ts compiles from (as test/release/pack-install.test.ts copies them). */
const BUILD_SOURCES = ["package.json", "bin", "agent", "collector", "shared", "cli", "scripts", "tsconfig.json", "tsconfig.build.json"];
const NODE_EXPORTER = "prometheus-node-exporter";
const MB = 1024 * 1024;
/** The agent takes a second look at a listener younger than this (gateway-restarts.ts): not a steady cycle. */
const YOUNG_GATEWAY_MS = 61_000;

/** CPU seconds of a process and of the children it has reaped (utime+stime+cutime+cstime), from /proc. */
export function treeCpuSeconds(pid: number | "self"): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
}

/** The compiled package as `npm pack` ships it: package.json, bin/, dist/; dependencies linked. Returns its launcher. */
function buildCompiledPackage(work: string): string {
  const src = join(work, "src");
  for (const source of BUILD_SOURCES) cpSync(join(ROOT, source), join(src, source), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(src, "node_modules"), "dir");
  execFileSync(process.execPath, [join(src, "scripts", "build-dist.ts")], { cwd: src, stdio: "ignore" });
  // No sources beside dist/: bin/clawfleet.js runs them when they exist.
  const pkg = join(work, "pkg");
  mkdirSync(pkg);
  cpSync(join(src, "package.json"), join(pkg, "package.json"));
  cpSync(join(src, "bin"), join(pkg, "bin"), { recursive: true });
  renameSync(join(src, "dist"), join(pkg, "dist"));
  symlinkSync(join(ROOT, "node_modules"), join(pkg, "node_modules"), "dir");
  rmSync(src, { recursive: true, force: true });
  return join(pkg, "bin", "clawfleet.js");
}

interface Watched {
  label: string;
  pid: number;
  /** Cycles (reports, scrapes) done so far. */
  cycles(): number;
  rss: number[];
  cpuAtStart?: number;
  cyclesAtStart?: number;
  cpuAtEnd?: number;
  cyclesAtEnd?: number;
}

function startAgent(label: string, bin: string, gateway: TestGateway, collector: string, stateDir: string, intervalS: number, nodeFlags: string[] = []): { spawned: Spawned; watched: Watched } {
  const args = [...nodeFlags, bin, "agent", "run", "--insecure", "--collector", collector, "--node-id", label, "--interval", `${intervalS}s`, "--state-dir", stateDir];
  const spawned = spawnProcess(process.execPath, args, { ...baseEnv(), ...gateway.clientEnv() }, gateway.home);
  const cycles = () => spawned.stderr.match(/ info  agent: report seq=/g)?.length ?? 0;
  return { spawned, watched: { label, pid: spawned.child.pid!, cycles, rss: [] } };
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The floor under any Node agent speaking our protocol, measured rather than assumed: Node 24 under the units'
 * flags with grpc-js, protobuf-es and the generated messages loaded and one idle channel to the collector; no checks.
 * Written into the compiled package so it resolves the same modules.
 */
const FLOOR_SCRIPT = `import * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import * as agent from "./dist/shared/gen/clawfleet/v1/agent_pb.js";
import * as report from "./dist/shared/gen/clawfleet/v1/report_pb.js";
const client = new grpc.Client(process.argv[2], grpc.credentials.createInsecure());
client.waitForReady(Date.now() + 5000, () => {});
globalThis.keep = [create, toBinary, agent, report];
setInterval(() => {}, 60_000);
`;

function startFloor(pkgDir: string, collector: string): Spawned {
  const script = join(pkgDir, "floor.mjs");
  writeFileSync(script, FLOOR_SCRIPT);
  return spawnProcess(process.execPath, [...AGENT_NODE_FLAGS, script, collector], baseEnv(), pkgDir);
}

/** Whole-process wall time, and CPU of the process and its children (reaped into ours by spawnSync). */
function timedRun(args: string[], env: NodeJS.ProcessEnv, cwd: string): { wallMs: number; cpuMs: number } {
  const cpu = treeCpuSeconds("self");
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { env, cwd, encoding: "utf8" });
  const wallMs = performance.now() - started;
  // Our own CPU over spawnSync is next to nothing: it blocks.
  const cpuMs = (treeCpuSeconds("self") - cpu) * 1000;
  if (result.status !== 0) throw new Error(`${args.slice(0, 3).join(" ")} exited ${result.status}: ${result.stderr.slice(-500)}`);
  return { wallMs, cpuMs };
}

export async function bench(options: BenchOptions): Promise<BenchResult> {
  const intervalS = options.quick ? 2 : 5;
  const windowCycles = options.quick ? 4 : 8;
  const checkPairs = options.quick ? 2 : 3;
  const work = mkdtempSync(join(tmpdir(), "clawfleet-footprint-"));
  const notes: string[] = [];
  const stops: (() => Promise<unknown>)[] = [];
  let gateway: TestGateway | undefined;
  try {
    const compiledBin = buildCompiledPackage(work);
    gateway = await createGateway({ token: "bench-token-7c1e9a3f5b2d4086" });
    const collector = await startCollectorProcess(join(work, "collector.db"));
    stops.push(() => collector.process.stop());

    // As the shipped launchd/systemd units run it: the compiled package under the units' V8 flags.
    const compiled = startAgent("bench-compiled-unit", compiledBin, gateway, collector.grpcAddress, join(work, "state-compiled"), intervalS, [...AGENT_NODE_FLAGS]);
    const sources = startAgent("bench-sources", CLAWFLEET_BIN, gateway, collector.grpcAddress, join(work, "state-sources"), intervalS);
    // The same package under Node's defaults: what the units' flags buy.
    const bare = startAgent("bench-compiled-bare", compiledBin, gateway, collector.grpcAddress, join(work, "state-bare"), intervalS);
    stops.push(() => compiled.spawned.stop(), () => sources.spawned.stop(), () => bare.spawned.stop());

    const floor = startFloor(join(compiledBin, "..", ".."), collector.grpcAddress);
    stops.push(() => floor.stop());

    const exporterPort = await freePort();
    const exporter = spawnProcess(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${exporterPort}`], baseEnv(), work);
    stops.push(() => exporter.stop());
    let scrapes = 0;
    let scrapeBytes = 0;
    const scrapeTimer = setInterval(() => {
      fetch(`http://127.0.0.1:${exporterPort}/metrics`)
        .then((r) => r.text())
        .then((text) => {
          scrapes++;
          scrapeBytes = text.length;
        })
        .catch(() => {});
    }, intervalS * 1000);
    stops.push(async () => clearInterval(scrapeTimer));
    const exporterWatched: Watched = { label: NODE_EXPORTER, pid: exporter.child.pid!, cycles: () => scrapes, rss: [] };
    const watched = [compiled.watched, sources.watched, bare.watched, exporterWatched];

    // Steady means: past start-up, and a gateway old enough that a cycle takes no second look at the port.
    const owner = await linuxPortOwner(gateway.port);
    const gatewayStartedAtMs = owner.gateway?.startedAtMs ?? Date.now();
    await waitUntil(() => watched.every((w) => w.cycles() >= 2), 60_000 + 3 * intervalS * 1000, "the first reports and scrapes");
    if (!options.quick) await waitUntil(() => Date.now() - gatewayStartedAtMs >= YOUNG_GATEWAY_MS, YOUNG_GATEWAY_MS, "the gateway to be a minute old");

    // Each process's window starts and ends right after one of its cycles, so whole cycles are counted.
    const rssTimer = setInterval(() => {
      for (const w of watched) if (w.cyclesAtStart !== undefined && w.cyclesAtEnd === undefined) processRssBytes(w.pid).then((b) => w.rss.push(b), () => {});
    }, 500);
    stops.push(async () => clearInterval(rssTimer));
    await Promise.all(watched.map(async (w) => {
      const first = w.cycles();
      await waitUntil(() => w.cycles() > first, 3 * intervalS * 1000, `${w.label} to finish a cycle`);
      w.cpuAtStart = treeCpuSeconds(w.pid);
      w.cyclesAtStart = w.cycles();
      await waitUntil(() => w.cycles() >= w.cyclesAtStart! + windowCycles, (windowCycles + 3) * intervalS * 1500, `${w.label} to run ${windowCycles} cycles`);
      w.cpuAtEnd = treeCpuSeconds(w.pid);
      w.cyclesAtEnd = w.cycles();
    }));
    const floorRss: number[] = [];
    for (let i = 0; i < 5; i++, await new Promise((r) => setTimeout(r, 200))) floorRss.push(await processRssBytes(floor.child.pid!));
    for (const s of stops.splice(1).reverse()) await s();

    const cpuPerCycleMs = (w: Watched) => ((w.cpuAtEnd! - w.cpuAtStart!) * 1000) / (w.cyclesAtEnd! - w.cyclesAtStart!);
    const rssMb = (w: Watched) => median(w.rss) / MB;
    const peer = { peerName: `node_exporter (${NODE_EXPORTER})` };
    const rows: BenchRow[] = [
      { what: `agent run RSS steady, as the units run it (compiled, ${AGENT_NODE_FLAGS.join(" ")}), interval ${intervalS}s`, unit: "MB", ours: rssMb(compiled.watched), ...peer, peer: rssMb(exporterWatched), better: "lower", goal: 60 },
      { what: `agent run CPU per cycle incl. children, as the units run it`, unit: "ms", ours: cpuPerCycleMs(compiled.watched), ...peer, peer: cpuPerCycleMs(exporterWatched), better: "lower", goal: 50 },
      { what: `floor: Node + grpc-js + protobuf-es, one idle channel, no checks, units' flags`, unit: "MB", ours: median(floorRss) / MB, ...peer, peer: rssMb(exporterWatched), better: "lower" },
      { what: `agent run RSS steady, compiled, Node's default flags`, unit: "MB", ours: rssMb(bare.watched), ...peer, peer: rssMb(exporterWatched), better: "lower" },
      { what: `agent run CPU per cycle incl. children, compiled, Node's default flags`, unit: "ms", ours: cpuPerCycleMs(bare.watched), ...peer, peer: cpuPerCycleMs(exporterWatched), better: "lower" },
      { what: `agent run RSS steady, from TypeScript sources`, unit: "MB", ours: rssMb(sources.watched), ...peer, peer: rssMb(exporterWatched), better: "lower" },
      { what: `agent run CPU per cycle incl. children, from sources`, unit: "ms", ours: cpuPerCycleMs(sources.watched), ...peer, peer: cpuPerCycleMs(exporterWatched), better: "lower" },
    ];
    for (const w of watched) notes.push(`${w.label}: ${w.cyclesAtEnd! - w.cyclesAtStart!} cycles, RSS median ${rssMb(w).toFixed(1)} MB, max ${(Math.max(...w.rss) / MB).toFixed(1)} MB over ${w.rss.length} samples`);
    notes.push(`node_exporter: Debian's defaults, ${(scrapeBytes / 1024).toFixed(0)} KiB per scrape; agent CPU counts the processes it spawned and reaped (systemctl, journalctl…)`);

    // agent check vs openclaw gateway status, paired (A B A B) so machine drift hits both; after the daemons stopped.
    const env = { ...baseEnv(), ...gateway.clientEnv() };
    const commands = {
      compiled: [compiledBin, "agent", "check", "--json"],
      sources: [CLAWFLEET_BIN, "agent", "check", "--json"],
      openclaw: [OPENCLAW_ENTRY, "gateway", "status", "--json"],
    };
    for (const args of Object.values(commands)) timedRun(args, env, gateway.home); // warm the file cache
    const runs: Record<keyof typeof commands, { wallMs: number; cpuMs: number }[]> = { compiled: [], sources: [], openclaw: [] };
    const ratios: number[] = [];
    for (let i = 0; i < checkPairs; i++) {
      for (const [name, args] of Object.entries(commands) as [keyof typeof commands, string[]][]) runs[name].push(timedRun(args, env, gateway.home));
      ratios.push(runs.openclaw.at(-1)!.wallMs / runs.compiled.at(-1)!.wallMs);
    }
    const wall = (name: keyof typeof commands) => median(runs[name].map((r) => r.wallMs));
    const cpu = (name: keyof typeof commands) => median(runs[name].map((r) => r.cpuMs));
    const openclawPeer = { peer: wall("openclaw"), peerName: "openclaw gateway status --json" };
    rows.push(
      { what: "agent check --json wall, compiled package", unit: "ms", ours: wall("compiled"), ...openclawPeer, better: "lower" },
      { what: "agent check --json wall, from sources", unit: "ms", ours: wall("sources"), ...openclawPeer, better: "lower" },
      { what: "agent check speed-up over openclaw gateway status (paired median)", unit: "x", ours: median(ratios), better: "higher", goal: 10 },
      { what: "agent check --json CPU incl. children, compiled package", unit: "ms", ours: cpu("compiled"), peer: cpu("openclaw"), peerName: "openclaw gateway status --json", better: "lower" },
    );
    notes.push(`agent check: ${checkPairs} paired runs after the daemons stopped; speed-up per pair min ${Math.min(...ratios).toFixed(1)}x max ${Math.max(...ratios).toFixed(1)}x`);
    notes.push("2 shared cores: wall times are noise when others run; the CPU figures hold better");
    return { name: "agent-footprint", rows, notes };
  } finally {
    for (const s of stops.reverse()) await s().catch(() => {});
    await gateway?.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) await runStandalone("agent-footprint", bench);
