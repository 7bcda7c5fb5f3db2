// `clawfleet start` (what `npm start` runs): a collector with its SQLite store
// plus an agent for this host reporting to it over real gRPC, in one process.
import { join } from "node:path";
import { defineCommand, parseAddress, UsageError } from "../shared/cli.ts";
import { parseDuration } from "../shared/duration.ts";
import { createLogger, LOG_FLAGS, logFlagsHelp, logOptionsFromFlags } from "../shared/log.ts";
import { dataDir } from "../shared/paths.ts";
import { waitForSignal } from "../shared/signals.ts";
import { ALL_CHECKS } from "../agent/checks/index.ts";
import { nodeInfo } from "../agent/discovery/node-identity.ts";
import { startReportLoop } from "../agent/run/report-loop.ts";
import { SequenceFile } from "../agent/run/sequence-file.ts";
import { startCollector } from "../collector/collector.ts";
import { DEFAULT_GRPC_ADDRESS as DEFAULT_GRPC_LISTEN, DEFAULT_HTTP_ADDRESS as DEFAULT_HTTP_LISTEN } from "../shared/defaults.ts";
import type { SimFleet } from "../agent/sim/sim-fleet.ts";

const MAX_DEMO_NODES = 10_000;

export const startCommand = defineCommand({
  path: ["start"],
  help: `Usage: clawfleet start [--grpc-listen ADDR] [--http-listen ADDR] [--data-dir DIR] [--interval 10s] [--demo N]

Starts a collector (SQLite store in the data directory, loopback listeners) and
an agent for this host that reports to it over gRPC: the whole product on one
machine, to try it. It runs without authentication (--insecure, loopback only);
a fleet uses \`collector serve\` with mTLS and \`agent enroll\`. With --demo N, N
simulated nodes (\`clawfleet sim\`, default failure mix, sleepers and dropouts) report too,
so the page and the dashboards have a fleet to show; they are marked simulated.

Options:
  --grpc-listen HOST:PORT   collector gRPC (default ${DEFAULT_GRPC_LISTEN})
  --http-listen HOST:PORT   /metrics and /healthz (default ${DEFAULT_HTTP_LISTEN})
  --data-dir DIR            store and agent state (default: $CLAWFLEET_DATA_DIR or the platform data dir)
  --interval DURATION       agent check interval (default 10s)
  --demo N                  also simulate N nodes (1–${MAX_DEMO_NODES}), marked simulated (clawfleet sim --help)
${logFlagsHelp(28)}
  -h, --help                show this help

Examples:
  npm start                                   # the same, from a checkout
  clawfleet start --data-dir /tmp/clawfleet-try --interval 5s
  npm start -- --demo 200                     # plus 200 simulated nodes`,
  options: {
    "grpc-listen": { type: "string", default: DEFAULT_GRPC_LISTEN },
    "http-listen": { type: "string", default: DEFAULT_HTTP_LISTEN },
    "data-dir": { type: "string" },
    interval: { type: "string", default: "10s" },
    demo: { type: "string" },
    ...LOG_FLAGS,
  },
  async run(values) {
    const logging = logOptionsFromFlags(values);
    const dir = values["data-dir"] ?? dataDir();
    const intervalMs = parseDuration(values.interval!);
    const demo = values.demo === undefined ? 0 : Number(values.demo);
    if (values.demo !== undefined && (!/^\d+$/.test(values.demo) || demo < 1 || demo > MAX_DEMO_NODES)) throw new UsageError(`--demo must be a whole number from 1 to ${MAX_DEMO_NODES}, got "${values.demo}"`);
    // Loaded only for a demo: a plain start pays nothing for the simulator.
    const sim = demo > 0 ? await import("../agent/sim/sim-fleet.ts") : undefined;
    const collector = await startCollector({
      grpcListen: parseAddress("grpc-listen", values["grpc-listen"]!),
      httpListen: parseAddress("http-listen", values["http-listen"]!),
      dbPath: join(dir, "collector.db"),
      // A one-machine demo on loopback; collector serve is the secure one.
      insecure: true,
      // The simulated fleet connects from this one address.
      limits: sim?.simIngestLimits(demo),
      log: createLogger("collector", process.stderr, logging),
    });
    const node = nodeInfo();
    const loop = startReportLoop({
      collector: collector.grpcAddress,
      fleetKeyPath: join(dir, "agent", `${node.id}.fleet-key`),
      spoolDir: join(dir, "agent", `${node.id}.spool`),
      node,
      intervalMs,
      checks: ALL_CHECKS,
      sequence: new SequenceFile(join(dir, "agent", `${node.id}.seq`)),
      env: process.env,
      log: createLogger("agent", process.stderr, logging),
    });
    const fleet: SimFleet | undefined = sim && (await startDemoFleet(sim, collector.grpcAddress, demo, createLogger("sim", process.stderr, logging)));
    process.stdout.write(`clawfleet is running: a collector and an agent for ${node.id}${fleet ? `, and ${demo} simulated nodes (sim-…)` : ""}.
  fleet page   http://${collector.httpAddress}/
  metrics      http://${collector.httpAddress}/metrics
  fleet        npx clawfleet collector query nodes --insecure --collector ${collector.grpcAddress}
  this host    npx clawfleet agent check
  store        ${join(dir, "collector.db")}
  security     none: plaintext gRPC on loopback, for trying it on one machine.
               A fleet uses \`clawfleet collector serve\` (mTLS, enrollment tokens).
Stop with Ctrl-C.
`);
    await waitForSignal();
    fleet?.stop();
    loop.stop();
    await collector.stop();
    return 0;
  },
});

/** The simulator's defaults (failure mix, sleepers, sleep cycle), plaintext like the rest of the demo. */
async function startDemoFleet(sim: typeof import("../agent/sim/sim-fleet.ts"), collector: string, nodes: number, log: ReturnType<typeof createLogger>): Promise<SimFleet> {
  const { DEFAULT_SIM, parseSleepCycle } = await import("../agent/sim/sim-command.ts");
  const { DEFAULT_FAILURE_MIX, parseFailureMix } = await import("../agent/sim/failure-mix.ts");
  const { freshSeed } = await import("../agent/sim/seeded-random.ts");
  return sim.startSimFleet({
    collector,
    nodes,
    mix: parseFailureMix(DEFAULT_FAILURE_MIX),
    sleepersPct: DEFAULT_SIM.sleepersPct,
    dropoutsPct: DEFAULT_SIM.dropoutsPct,
    sleepCycle: parseSleepCycle(DEFAULT_SIM.sleepCycle),
    intervalMs: parseDuration(DEFAULT_SIM.interval),
    seed: freshSeed(),
    prefix: DEFAULT_SIM.prefix,
    connectPerSecond: DEFAULT_SIM.connectRate,
    log,
  });
}
