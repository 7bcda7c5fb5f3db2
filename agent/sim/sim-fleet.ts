// A simulated fleet: N hosts drawn from the seed (condition from the failure
// mix, exact counts; sleepers; platform and facts), each a SimNode on its own
// mTLS channel with its own certificate, or with --insecure on a few shared
// plaintext channels. Connections ramp up, as a fleet's jittered starts do:
// thousands of TLS handshakes at once would time out on both sides.
import * as grpc from "@grpc/grpc-js";
import type { IngestLimits } from "../../collector/ingest/limits.ts";
import type { Logger } from "../../shared/log.ts";
import { collectorCredentials, COLLECTOR_CHANNEL_OPTIONS } from "../../shared/pki/collector-channel.ts";
import type { LinkChannel } from "../run/collector-link.ts";
import { assignConditions, HEALTHY, mixCounts, type Condition, type FailureMix } from "./failure-mix.ts";
import { foldedLinkLog } from "./link-log.ts";
import { seededRandom, shuffle } from "./seeded-random.ts";
import type { SimIdentity } from "./sim-identities.ts";
import { simHost } from "./sim-host.ts";
import { SimNode, type SleepCycle } from "./sim-node.ts";
import { CollectorDirectory } from "../run/collector-choice.ts";

/** Plaintext nodes share this many channels (one TCP connection each). */
const INSECURE_CHANNELS = 4;
const STATUS_EVERY_MS = 30_000;

export interface SimFleetOptions {
  /** One collector's address, or the fleet's collectors (each node orders them as an agent does). */
  collector: string | CollectorDirectory;
  nodes: number;
  mix: FailureMix;
  /** Percent of nodes that may sleep and follow the sleep cycle. */
  sleepersPct: number;
  /** Percent of nodes that cannot sleep but go off the network on the same cycle (unreachable). */
  dropoutsPct: number;
  sleepCycle: SleepCycle;
  intervalMs: number;
  seed: number;
  prefix: string;
  /** Certificates by node id (mTLS); absent: plaintext, --insecure. */
  identities?: ReadonlyMap<string, SimIdentity>;
  connectPerSecond: number;
  log: Logger;
}

export interface SimFleet {
  nodes: readonly SimNode[];
  dropouts: number;
  /** How many nodes have each condition (the mix, in exact counts). */
  conditions: ReadonlyMap<Condition, number>;
  readonly reports: number;
  stop(): void;
}

/** Node ids for a fleet of `count`: prefix-0001 …, at least four digits so they sort. */
export function simNodeIds(prefix: string, count: number): string[] {
  const width = Math.max(4, String(count).length);
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(width, "0")}`);
}

/**
 * What a collector must allow for a simulated fleet, which connects from one
 * address: every node's hello and stream, and every new node id at once.
 */
export function simIngestLimits(nodes: number): Partial<IngestLimits> {
  const room = Math.max(2 * nodes, 2000);
  return { hellosPerPeerBurst: room, newNodesBurst: room, streamsPerPeer: room };
}

/** The same, as `collector serve` flags. */
export const simIngestLimitFlags = (nodes: number) =>
  `--ingest-limit hellos-per-peer-burst=${Math.max(2 * nodes, 2000)} --ingest-limit new-nodes-burst=${Math.max(2 * nodes, 2000)} --ingest-limit streams-per-peer=${Math.max(2 * nodes, 2000)}`;

export function startSimFleet(options: SimFleetOptions): SimFleet {
  const random = seededRandom(options.seed);
  const ids = simNodeIds(options.prefix, options.nodes);
  const conditions = assignConditions(options.mix, options.nodes, random);
  const sleeperCount = Math.round((options.nodes * options.sleepersPct) / 100);
  const dropoutCount = Math.min(options.nodes - sleeperCount, Math.round((options.nodes * options.dropoutsPct) / 100));
  const shuffled = shuffle([...ids], random);
  const sleepers = new Set(shuffled.slice(0, sleeperCount));
  const dropouts = new Set(shuffled.slice(sleeperCount, sleeperCount + dropoutCount));
  const timing = seededRandom(options.seed ^ 0x5eed);
  const folded = foldedLinkLog(options.log);
  const now = Date.now();
  const plaintext = Array.from({ length: INSECURE_CHANNELS }, (_, i): LinkChannel => ({
    credentials: grpc.credentials.createInsecure(),
    // grpc-js shares one connection between channels with equal options: this option makes a few.
    options: { "clawfleet.sim_channel": i },
  }));
  let reports = 0;
  // One directory for the whole fleet: an SRV name is resolved once, not once per node.
  const collectors = typeof options.collector === "string" ? CollectorDirectory.single(options.collector) : options.collector;
  const nodes = ids.map((nodeId, i) => {
    const identity = options.identities?.get(nodeId);
    if (options.identities && !identity) throw new Error(`no certificate minted for ${nodeId}`);
    const channel = identity ? { credentials: collectorCredentials(identity), options: COLLECTOR_CHANNEL_OPTIONS } : plaintext[i % INSECURE_CHANNELS]!;
    const sleeper = sleepers.has(nodeId);
    return new SimNode({
      host: simHost({ nodeId, condition: conditions[i]!, sleeper, seed: options.seed, random, nowMs: now }),
      collectors,
      channel,
      intervalMs: options.intervalMs,
      sleepCycle: sleeper || dropouts.has(nodeId) ? options.sleepCycle : undefined,
      random: timing,
      log: folded.link,
      onReport: () => reports++,
    });
  });
  const starters = nodes.map((node, i) => setTimeout(() => node.start(), (i * 1000) / options.connectPerSecond));
  const status = setInterval(() => {
    folded.flush();
    const connected = nodes.filter((n) => n.connected).length;
    const silent = nodes.filter((n) => n.silent).length;
    options.log.info("simulated fleet", { nodes: nodes.length, connected, silent, reports, rssMb: Math.round(process.memoryUsage.rss() / 1e6) });
  }, STATUS_EVERY_MS);
  status.unref();
  // Healthy first, then the most common problems; ties in the mix's order.
  const counts = [...mixCounts(options.mix, options.nodes)].filter(([, n]) => n > 0);
  return {
    nodes,
    dropouts: dropoutCount,
    conditions: new Map(counts.sort((a, b) => Number(b[0] === HEALTHY) - Number(a[0] === HEALTHY) || b[1] - a[1])),
    get reports() {
      return reports;
    },
    stop() {
      starters.forEach(clearTimeout);
      clearInterval(status);
      nodes.forEach((n) => n.stop());
      folded.flush();
    },
  };
}
