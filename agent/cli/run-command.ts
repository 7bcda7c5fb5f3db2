import { join } from "node:path";
import { defineCommand, parseAddress, UsageError } from "../../shared/cli.ts";
import { parseDuration } from "../../shared/duration.ts";
import { createLogger } from "../../shared/log.ts";
import { NODE_ID_PATTERN } from "../../shared/node-id.ts";
import { dataDir } from "../../shared/paths.ts";
import { ALL_CHECKS } from "../checks/index.ts";
import { nodeInfo } from "../discovery/node-identity.ts";
import { startReportLoop } from "../run/report-loop.ts";
import { SequenceFile } from "../run/sequence-file.ts";
import { waitForSignal } from "../../shared/signals.ts";

import { DEFAULT_GRPC_ADDRESS as DEFAULT_COLLECTOR } from "../../shared/defaults.ts";

export const runCommand = defineCommand({
  path: ["agent", "run"],
  help: `Usage: clawfleet agent run [--collector HOST:PORT] [--node-id ID] [--interval 30s] [--state-dir DIR]

Runs every check each interval (jittered ±10%), at once after the host wakes
and whenever the collector asks, and streams the findings to the collector over
gRPC. Reports the collector has not acknowledged are resent after a reconnect.

Options:
  --collector HOST:PORT   collector gRPC address (default: $CLAWFLEET_COLLECTOR or ${DEFAULT_COLLECTOR})
  --node-id ID            this node's fleet id (default: $CLAWFLEET_NODE_ID or short hostname)
  --interval DURATION     time between check runs, e.g. 30s, 1m (default 30s, minimum 1s)
  --state-dir DIR         where the agent keeps its sequence number, fleet key and unsent reports (default: <data dir>/agent)
  -h, --help              show this help

Examples:
  clawfleet agent run --collector fleet-collector.tailnet.ts.net:4317
  clawfleet agent run --collector 127.0.0.1:4317 --node-id mini-03 --interval 15s`,
  options: {
    collector: { type: "string" },
    "node-id": { type: "string" },
    interval: { type: "string", default: "30s" },
    "state-dir": { type: "string" },
    insecure: { type: "boolean" },
  },
  async run(values) {
    const collector = values.collector ?? process.env.CLAWFLEET_COLLECTOR ?? DEFAULT_COLLECTOR;
    parseAddress("collector", collector);
    let intervalMs: number;
    try {
      intervalMs = parseDuration(values.interval!);
    } catch (error) {
      throw new UsageError(`--interval: ${(error as Error).message}`);
    }
    if (intervalMs < 1000) throw new UsageError(`--interval must be at least 1s, got ${values.interval}`);
    const node = nodeInfo(values["node-id"]);
    if (!NODE_ID_PATTERN.test(node.id)) throw new UsageError(`--node-id must be lowercase letters, digits, ".", "_" or "-" (max 63), got "${node.id}"`);
    const stateDir = values["state-dir"] ?? join(dataDir(), "agent");
    const log = createLogger("agent");
    const sequence = new SequenceFile(join(stateDir, `${node.id}.seq`));
    log.info("agent starting", { node: node.id, collector, intervalMs });
    const fleetKeyPath = join(stateDir, `${node.id}.fleet-key`);
    const spoolDir = join(stateDir, `${node.id}.spool`);
    const loop = startReportLoop({ collector, fleetKeyPath, spoolDir, node, intervalMs, checks: ALL_CHECKS, sequence, env: process.env, log });
    await waitForSignal();
    loop.stop();
    log.info("agent stopped");
    return 0;
  },
});
