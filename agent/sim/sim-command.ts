// `clawfleet sim`: a fleet of simulated nodes against a real collector, for
// load, for demos and for the page and dashboards to have a fleet to show.
import { dirname, join } from "node:path";
import { defineCommand, parseAddress, UsageError } from "../../shared/cli.ts";
import { DEFAULT_GRPC_ADDRESS } from "../../shared/defaults.ts";
import { parseCollectorSpec } from "../../shared/collector-list.ts";
import { orderCollectors } from "../../shared/collector-order.ts";
import { lookupSrv, SrvLookupError } from "../../shared/srv-lookup.ts";
import { CollectorDirectory } from "../run/collector-choice.ts";
import { parseDuration } from "../../shared/duration.ts";
import { LOG_FLAGS, logFlagsHelp, loggerFromFlags } from "../../shared/log.ts";
import { isLoopbackHost } from "../../shared/loopback.ts";
import { NODE_ID_PATTERN } from "../../shared/node-id.ts";
import { dataDir } from "../../shared/paths.ts";
import { waitForSignal } from "../../shared/signals.ts";
import { pkiDirFor } from "../../collector/pki/collector-security.ts";
import { DEFAULT_FAILURE_MIX, FailureMixError, parseFailureMix, type FailureMix } from "./failure-mix.ts";
import { realNodesAmong } from "./real-node-guard.ts";
import { freshSeed } from "./seeded-random.ts";
import { mintIdentities, SimIdentityError } from "./sim-identities.ts";
import { simIngestLimitFlags, simNodeIds, startSimFleet } from "./sim-fleet.ts";
import type { SleepCycle } from "./sim-node.ts";

const MAX_NODES = 100_000;
/** Certificates outlive a run by this much; without --duration they last as long as an enrolled agent's. */
const CERTIFICATE_MARGIN_MS = 3_600_000;
const DEFAULT_CERTIFICATE_LIFETIME_MS = 30 * 86_400_000;

export const DEFAULT_SIM = { sleepersPct: 5, dropoutsPct: 1, sleepCycle: "20m/10m", interval: "30s", prefix: "sim", connectRate: 100 } as const;

export const simCommand = defineCommand({
  path: ["sim"],
  help: `Usage: clawfleet sim --nodes N [--collector HOST:PORT[,HOST:PORT…] | srv:NAME] [--failure-mix MIX] [--sleepers PCT] [--dropouts PCT] [--interval 30s] [--duration D] [--seed S] [--db PATH | --insecure]

Plays N nodes against a real collector with the agent's own client code: each
opens its stream (hello, welcome, acks, resend, reconnect), reports every
interval (jittered ±10%) with every check's finding, as a real agent's report
(realistic evidence, credentials as keyed fingerprints with the fleet key the
welcome carries). Each hello says the node is simulated: \`collector query nodes\`
marks it "(sim)" (JSON "simulated": true) and clawfleet_node_simulated{node} is 1.

Transport, as the collector requires:
  mTLS (default)  each node its own certificate and connection, minted with the
                  CA of a collector on this host (--db: its store; the CA is in
                  pki/ beside it) and recorded in its trust store, as \`collector
                  enroll\` + \`agent enroll\` would; names are PREFIX-0001…, so
                  \`collector revoke sim-0001\` works.
  --insecure      plaintext, to a collector started with --insecure on loopback;
                  the nodes share a few connections.
The whole fleet connects from one address: start the collector with
  ${simIngestLimitFlags(1000)}
(for 1,000 nodes; 2×N for more), or it refuses hellos past its per-address limits.

Options:
  --nodes N               how many nodes (1–${MAX_NODES}), named PREFIX-0001 …
  --collector LIST        collector gRPC address, or several (HOST:PORT,HOST:PORT or srv:NAME): each
                          node orders them and moves between them as \`agent run\` does
                          (default $CLAWFLEET_COLLECTOR or ${DEFAULT_GRPC_ADDRESS})
  --failure-mix MIX       CODE=WEIGHT,… share of nodes with each problem; "healthy" for none.
                          Codes are those a node's checks report (shared/taxonomy.ts).
                          Counts are exact (largest remainder). Default:
                          ${DEFAULT_FAILURE_MIX}
  --sleepers PCT          percent of nodes that may sleep: their power check says so, and
                          they go silent (asleep) and wake on the sleep cycle (default ${DEFAULT_SIM.sleepersPct})
  --dropouts PCT          percent of nodes that cannot sleep but drop off the network on the
                          same cycle: the collector calls them unreachable (default ${DEFAULT_SIM.dropoutsPct})
  --sleep-cycle AWAKE/ASLEEP  how long a sleeper or dropout stays up, then silent, ±10% (default ${DEFAULT_SIM.sleepCycle})
  --interval DURATION     time between reports, as \`agent run\` (default ${DEFAULT_SIM.interval}, minimum 1s)
  --duration DURATION     stop by itself after this long (default: until Ctrl-C / SIGTERM)
  --seed N                which node gets which problem, sleeps, platform (default: random, printed)
  --prefix NAME           node id prefix (default ${DEFAULT_SIM.prefix})
  --db PATH               the collector's store on this host: its CA, and which ids are real nodes
                          (default: <data dir>/collector.db)
  --insecure              plaintext to a --insecure collector on loopback
  --connect-rate N        new connections per second while the fleet comes up (default ${DEFAULT_SIM.connectRate})
${logFlagsHelp(26)}
  -h, --help              show this help

Examples:
  clawfleet sim --nodes 200 --collector 127.0.0.1:4317
  clawfleet sim --nodes 30 --insecure --collector 127.0.0.1:4317 --failure-mix healthy=90,token_mismatch=10 --seed 7
  clawfleet sim --nodes 1000 --sleepers 10 --sleep-cycle 5m/2m --duration 1h

A node id the collector's store (--db) holds as a real node is never simulated:
the simulator refuses to start rather than speak for it.

Exit status: 0 when stopped (signal or --duration), 1 when it cannot start
(no CA in --db, the collector does not hold it, a real node has one of the
ids), 2 on a usage error.`,
  options: {
    nodes: { type: "string" },
    collector: { type: "string" },
    "failure-mix": { type: "string", default: DEFAULT_FAILURE_MIX },
    sleepers: { type: "string", default: String(DEFAULT_SIM.sleepersPct) },
    dropouts: { type: "string", default: String(DEFAULT_SIM.dropoutsPct) },
    "sleep-cycle": { type: "string", default: DEFAULT_SIM.sleepCycle },
    interval: { type: "string", default: DEFAULT_SIM.interval },
    duration: { type: "string" },
    seed: { type: "string" },
    prefix: { type: "string", default: DEFAULT_SIM.prefix },
    db: { type: "string" },
    insecure: { type: "boolean" },
    "connect-rate": { type: "string", default: String(DEFAULT_SIM.connectRate) },
    ...LOG_FLAGS,
  },
  async run(values) {
    const nodes = wholeNumber("nodes", values.nodes, 1, MAX_NODES);
    const collector = values.collector ?? process.env.CLAWFLEET_COLLECTOR ?? DEFAULT_GRPC_ADDRESS;
    const spec = parseCollectorSpec("collector", collector);
    const mix = failureMix(values["failure-mix"]!);
    const sleepersPct = percent("sleepers", values.sleepers!);
    const dropoutsPct = percent("dropouts", values.dropouts!);
    const sleepCycle = parseSleepCycle(values["sleep-cycle"]!);
    const intervalMs = duration("interval", values.interval!);
    if (intervalMs < 1000) throw new UsageError(`--interval must be at least 1s, got ${values.interval}`);
    const durationMs = values.duration === undefined ? undefined : duration("duration", values.duration);
    const seed = values.seed === undefined ? freshSeed() : wholeNumber("seed", values.seed, 0, 2 ** 32 - 1);
    const prefix = values.prefix!;
    if (!NODE_ID_PATTERN.test(`${prefix}-${"0".repeat(Math.max(4, String(nodes).length))}`)) throw new UsageError(`--prefix "${prefix}" does not make valid node ids (lowercase letters, digits, ".", "_" or "-")`);
    const connectPerSecond = wholeNumber("connect-rate", values["connect-rate"], 1, 100_000);
    if (values.insecure) {
      if (spec.kind === "srv") throw new UsageError("--insecure sends plaintext: only to collectors on loopback given as HOST:PORT, not an SRV name");
      for (const { host } of spec.addresses.map((a) => parseAddress("collector", a))) {
        if (!isLoopbackHost(host)) throw new UsageError(`--insecure sends plaintext: only to a collector on loopback, not ${host}`);
      }
    }
    const log = loggerFromFlags("sim", values);
    const db = values.db ?? join(dataDir(), "collector.db");
    const ids = simNodeIds(prefix, nodes);
    const real = realNodesAmong(db, ids);
    if (real.length > 0) {
      process.stderr.write(`clawfleet sim: ${real.slice(0, 3).join(", ")}${real.length > 3 ? ` and ${real.length - 3} more` : ""} ${real.length === 1 ? "is a real node" : "are real nodes"} in ${db}: a simulated node must not speak for it; choose another --prefix\n`);
      return 1;
    }

    let identities;
    if (!values.insecure) {
      const lifetimeMs = durationMs === undefined ? DEFAULT_CERTIFICATE_LIFETIME_MS : durationMs + CERTIFICATE_MARGIN_MS;
      const started = performance.now();
      try {
        const addresses = spec.kind === "list" ? spec.addresses : orderCollectors(await lookupSrv(spec.name), "");
        identities = await mintIdentities({ pkiDir: pkiDirFor(dirname(db)), addresses: addresses.map((a) => parseAddress("collector", a)), names: ids, lifetimeMs });
      } catch (error) {
        if (!(error instanceof SimIdentityError || error instanceof SrvLookupError)) throw error;
        process.stderr.write(`clawfleet sim: ${error.message}\n`);
        return 1;
      }
      log.info("minted node certificates", { count: nodes, ms: Math.round(performance.now() - started), validUntil: new Date(Date.now() + lifetimeMs).toISOString() });
    }
    const fleet = startSimFleet({ collector: new CollectorDirectory(spec), nodes, mix, sleepersPct, dropoutsPct, sleepCycle, intervalMs, seed, prefix, identities, connectPerSecond, log });
    process.stdout.write(
      `simulating ${nodes} node${nodes === 1 ? "" : "s"} (${prefix}-…) against ${spec.text} over ${values.insecure ? "plaintext (--insecure)" : "mTLS"}, seed ${seed}\n` +
        `  mix       ${[...fleet.conditions].map(([c, n]) => `${c} ${n}`).join(", ")}\n` +
        `  sleepers  ${fleet.nodes.filter((n) => n.host.sleeper).length}, dropouts ${fleet.dropouts} (up ${values["sleep-cycle"]!.replace("/", ", silent ")})\n` +
        `  reports   every ${values.interval} ±10%${durationMs === undefined ? "; Ctrl-C to stop" : `; stops after ${values.duration}`}\n`,
    );
    await (durationMs === undefined ? waitForSignal() : Promise.race([waitForSignal(), new Promise((resolve) => setTimeout(resolve, durationMs))]));
    fleet.stop();
    log.info("simulated fleet stopped", { reports: fleet.reports });
    return 0;
  },
});

function wholeNumber(flag: string, text: string | undefined, min: number, max: number): number {
  if (text === undefined) throw new UsageError(`--${flag} is required`);
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  return value;
}

function percent(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || value > 100) throw new UsageError(`--${flag} must be a percentage from 0 to 100, got "${text}"`);
  return value;
}

function duration(flag: string, text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new UsageError(`--${flag}: ${(error as Error).message}`);
  }
}

function failureMix(text: string): FailureMix {
  try {
    return parseFailureMix(text);
  } catch (error) {
    if (error instanceof FailureMixError) throw new UsageError(error.message);
    throw error;
  }
}

export function parseSleepCycle(text: string): SleepCycle {
  const [awake, asleep, ...rest] = text.split("/");
  if (!awake || !asleep || rest.length > 0) throw new UsageError(`--sleep-cycle must be AWAKE/ASLEEP, e.g. 20m/10m, got "${text}"`);
  const cycle = { awakeMs: duration("sleep-cycle", awake), asleepMs: duration("sleep-cycle", asleep) };
  if (cycle.awakeMs < 1000 || cycle.asleepMs < 1000) throw new UsageError(`--sleep-cycle: both parts must be at least 1s, got "${text}"`);
  return cycle;
}
