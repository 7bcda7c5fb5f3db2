import { join } from "node:path";
import { defineCommand, UsageError } from "../../shared/cli.ts";
import { parseCollectorSpec } from "../../shared/collector-list.ts";
import { CollectorDirectory } from "../run/collector-choice.ts";
import { parseDuration } from "../../shared/duration.ts";
import { LOG_FLAGS, logFlagsHelp, loggerFromFlags } from "../../shared/log.ts";
import { NODE_ID_PATTERN } from "../../shared/node-id.ts";
import { dataDir } from "../../shared/paths.ts";
import { ALL_CHECKS } from "../checks/index.ts";
import { nodeInfo } from "../discovery/node-identity.ts";
import { startReportLoop } from "../run/report-loop.ts";
import { SequenceFile } from "../run/sequence-file.ts";
import { waitForSignal } from "../../shared/signals.ts";
import { identityDir, readIdentity, type StoredIdentity } from "../../shared/pki/identity-files.ts";

/** The certificate `agent enroll` stored; without one there is nothing to report as. */
function enrolledIdentity(stateDir: string, nodeIdFlag: string | undefined): StoredIdentity {
  let identity: StoredIdentity | undefined;
  try {
    identity = readIdentity(identityDir(stateDir));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!identity) {
    throw new UsageError(
      `this host is not enrolled (no certificate in ${identityDir(stateDir)}): on the collector's host run \`clawfleet collector enroll NODE\`, then here \`clawfleet agent enroll --collector HOST:PORT --token TOKEN\` (or --insecure for a collector started with --insecure on loopback)`,
    );
  }
  if (identity.role !== "node") throw new UsageError(`${identityDir(stateDir)} holds an ${identity.role} certificate, not a node's: enroll with a node token`);
  if (nodeIdFlag !== undefined && nodeIdFlag !== identity.name) throw new UsageError(`--node-id ${nodeIdFlag} is not this host's enrolled node id "${identity.name}"; drop the flag`);
  return identity;
}

import { DEFAULT_GRPC_ADDRESS as DEFAULT_COLLECTOR } from "../../shared/defaults.ts";
import { MAX_COLLECTORS } from "../../shared/collector-list.ts";

/** The flag, else $CLAWFLEET_COLLECTOR, else what enrollment recorded; an error says which of them is wrong. */
function collectorSpecFrom(flag: string | undefined, enrolled: string | undefined) {
  if (flag !== undefined) return parseCollectorSpec("collector", flag);
  const [value, source] = process.env.CLAWFLEET_COLLECTOR !== undefined ? [process.env.CLAWFLEET_COLLECTOR, "$CLAWFLEET_COLLECTOR"] : enrolled !== undefined ? [enrolled, "the collector recorded at enrollment"] : [DEFAULT_COLLECTOR, "default"];
  try {
    return parseCollectorSpec("collector", value);
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (from ${source}; pass --collector)`);
  }
}

export const runCommand = defineCommand({
  path: ["agent", "run"],
  help: `Usage: clawfleet agent run [--collector HOST:PORT[,HOST:PORT…] | --collector srv:NAME] [--interval 30s] [--state-dir DIR] [--insecure --node-id ID]

Runs every check each interval (jittered ±10%), at once after the host wakes
and whenever the collector asks, and streams the findings to the collector over
gRPC with mutual TLS, as the node its certificate names (\`clawfleet agent enroll\`
first). Reports the collector has not acknowledged are resent after a reconnect.
The certificate is renewed before it expires, with no gap in reporting.

Several collectors of one fleet (one store, one CA): each node tries them in
its own order (rendezvous hashing of its node id, so a fleet spreads over them
and a node returns to the same one), moves to the next at once when one is
unreachable, sends it elsewhere, or its stream dies, and backs off per
collector. It goes back to its first choice only when it must reconnect
anyway. Reports no collector acknowledged are resent to the next one.

Options:
  --collector LIST        collector gRPC address, or several: HOST:PORT,HOST:PORT (at most ${MAX_COLLECTORS}),
                          or srv:NAME, a DNS SRV record whose answers are the list (priority, then weight)
                          (default: $CLAWFLEET_COLLECTOR, what \`agent enroll\` recorded, or ${DEFAULT_COLLECTOR})
  --node-id ID            this node's fleet id (default: the certificate's; with --insecure $CLAWFLEET_NODE_ID or short hostname)
  --insecure              plaintext and no certificate, to a collector started with --insecure on loopback (a demo)
  --interval DURATION     time between check runs, e.g. 30s, 1m (default 30s, minimum 1s)
  --state-dir DIR         where the agent keeps its sequence number, fleet key and unsent reports (default: <data dir>/agent)
${logFlagsHelp(26)}
  -h, --help              show this help

Examples:
  clawfleet agent run --collector fleet-collector.tailnet.ts.net:4317
  clawfleet agent run --collector collector-a.tailnet.ts.net:4317,collector-b.tailnet.ts.net:4317
  clawfleet agent run --collector srv:_clawfleet._tcp.example.ts.net
  clawfleet agent run --collector 127.0.0.1:4317 --node-id mini-03 --interval 15s`,
  options: {
    collector: { type: "string" },
    "node-id": { type: "string" },
    interval: { type: "string", default: "30s" },
    "state-dir": { type: "string" },
    insecure: { type: "boolean" },
    ...LOG_FLAGS,
  },
  async run(values) {
    let intervalMs: number;
    try {
      intervalMs = parseDuration(values.interval!);
    } catch (error) {
      throw new UsageError(`--interval: ${(error as Error).message}`);
    }
    if (intervalMs < 1000) throw new UsageError(`--interval must be at least 1s, got ${values.interval}`);
    const flagged = values["node-id"];
    if (flagged !== undefined && !NODE_ID_PATTERN.test(flagged)) throw new UsageError(`--node-id must be lowercase letters, digits, ".", "_" or "-" (max 63), got "${flagged}"`);
    if (values.collector !== undefined) parseCollectorSpec("collector", values.collector);
    const stateDir = values["state-dir"] ?? join(dataDir(), "agent");
    const identity = values.insecure ? undefined : enrolledIdentity(stateDir, flagged);
    const collector = collectorSpecFrom(values.collector, identity?.collector);
    const node = nodeInfo(identity?.name ?? flagged);
    if (!NODE_ID_PATTERN.test(node.id)) throw new UsageError(`the node id "${node.id}" (from the hostname) is not lowercase letters, digits, ".", "_" or "-" (max 63): pass --node-id`);
    const log = loggerFromFlags("agent", values);
    const sequence = new SequenceFile(join(stateDir, `${node.id}.seq`));
    log.info("agent starting", { node: node.id, collector: collector.text, intervalMs, transport: identity ? "mtls" : "insecure" });
    const fleetKeyPath = join(stateDir, `${node.id}.fleet-key`);
    const spoolDir = join(stateDir, `${node.id}.spool`);
    const loop = startReportLoop({
      collectors: new CollectorDirectory(collector),
      fleetKeyPath,
      spoolDir,
      node,
      intervalMs,
      checks: ALL_CHECKS,
      sequence,
      env: process.env,
      log,
      identity: identity ? { dir: identityDir(stateDir), current: identity } : undefined,
    });
    await waitForSignal();
    loop.stop();
    log.info("agent stopped");
    return 0;
  },
});
