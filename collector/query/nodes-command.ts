import { create } from "@bufbuild/protobuf";
import { ListNodesRequestSchema, type NodeSummary } from "../../shared/gen/clawfleet/v1/query_pb.ts";
import { defineCommand, UsageError } from "../../shared/cli.ts";
import { formatAge } from "../../shared/duration.ts";
import { painter, type Paint } from "../../shared/style.ts";
import { table } from "../../shared/table.ts";
import { isCode, isLayer, LAYERS } from "../../shared/taxonomy.ts";
import { NODE_STATES } from "../classify/node-state.ts";
import { callOptions, COLLECTOR_HELP, COLLECTOR_OPTION, EXIT_HELP, QUERY_EXIT, withQueryClient } from "./query-client.ts";

/** States that make a query exit 1. */
export const FAILING_STATES = new Set(["failing", "unreachable", "degraded"]);

/** After a node id in the table: `clawfleet sim` plays this node, it is no real host. */
export const SIMULATED_MARK = " (sim)";

export const nodesCommand = defineCommand({
  path: ["collector", "query", "nodes"],
  help: `Usage: clawfleet collector query nodes [--layer L] [--state S] [--code C] [--node GLOB] [--collector HOST:PORT] [--json]

Lists the fleet as the collector sees it: each node's state (healthy, degraded,
failing, asleep, unreachable), its worst layer and reason code, how long ago its
last report arrived, and the action for its primary problem. Nodes played by
\`clawfleet sim\` are marked "${SIMULATED_MARK.trim()}" after their id (JSON: "simulated": true).

Options:
  --layer LAYER           only nodes with a problem in this layer (${LAYERS.join(", ")})
  --state STATE           only nodes in this state (${NODE_STATES.join(", ")})
  --code CODE             only nodes with this active reason code (e.g. token_mismatch)
  --node GLOB             only node ids matching the glob (e.g. 'mini-*')
${COLLECTOR_HELP}

${EXIT_HELP}

Examples:
  clawfleet collector query nodes
  clawfleet collector query nodes --layer tunnel
  clawfleet collector query nodes --state unreachable --node 'mini-*'
  clawfleet collector query nodes --json | jq '.nodes[] | select(.state != "healthy")'`,
  options: { ...COLLECTOR_OPTION, layer: { type: "string" }, state: { type: "string" }, code: { type: "string" }, node: { type: "string" } },
  async run(values) {
    if (values.layer !== undefined && !isLayer(values.layer)) throw new UsageError(`--layer must be one of ${LAYERS.join(", ")}, got "${values.layer}"`);
    if (values.state !== undefined && !(NODE_STATES as readonly string[]).includes(values.state)) throw new UsageError(`--state must be one of ${NODE_STATES.join(", ")}, got "${values.state}"`);
    if (values.code !== undefined && !isCode(values.code)) throw new UsageError(`--code "${values.code}" is not a clawfleet reason code (see shared/taxonomy.ts)`);
    return withQueryClient(values, async (client) => {
      const request = create(ListNodesRequestSchema, { layer: values.layer ?? "", state: values.state ?? "", code: values.code ?? "", nodeGlob: values.node ?? "" });
      const response = await client.listNodes(request, callOptions());
      const now = Number(response.nowUnixMs);
      const versions = versionSkew(response.nodes);
      process.stdout.write(
        values.json
          ? JSON.stringify({ nodes: response.nodes.map((n) => nodeJson(n, now)), versions }, null, 2) + "\n"
          : nodesTable(response.nodes, now, painter(process.stdout)) + versionLine(versions),
      );
      return response.nodes.some((n) => FAILING_STATES.has(n.state)) ? QUERY_EXIT.failing : QUERY_EXIT.clean;
    });
  },
});

export function nodeJson(n: NodeSummary, now: number) {
  const last = Number(n.lastReportUnixMs);
  return {
    id: n.node?.nodeId,
    hostname: n.node?.hostname,
    platform: n.node?.platform,
    agent_version: n.node?.agentVersion,
    openclaw_version: n.node?.openclawVersion || null,
    simulated: n.node?.simulated ?? false,
    state: n.state,
    connected: n.connected,
    worst_layer: n.worstLayer || null,
    worst_status: n.worstStatus || null,
    primary: n.primary ? { layer: n.primary.layer, code: n.primary.code, summary: n.primary.summary, action: n.primary.action } : null,
    findings: n.findings.map((f) => ({ layer: f.layer, status: f.status, code: f.code, summary: f.summary, action: f.action })),
    last_report_unix_ms: last || null,
    last_report_age_seconds: last ? Math.max(0, Math.round((now - last) / 1000)) : null,
    last_seq: Number(n.lastSeq),
    clock_skew_ms: Number(n.clockSkewMs),
  };
}

export const STATE_COLOUR = { healthy: "green", degraded: "yellow", failing: "red", asleep: "blue", unreachable: "red" } as const;

export function nodesTable(nodes: readonly NodeSummary[], now: number, paint: Paint): string {
  if (nodes.length === 0) return "No nodes match. (A new collector lists a node once its agent connects: clawfleet agent run --collector HOST:PORT)\n";
  // The collector sends failing nodes first (fleet-view.ts failingFirst), as the page shows them.
  const rows = nodes.map((n) => {
    const last = Number(n.lastReportUnixMs);
    return [`${n.node?.nodeId ?? "?"}${n.node?.simulated ? SIMULATED_MARK : ""}`, n.state, n.primary?.layer || n.worstLayer || "-", n.primary?.code || "-", last ? formatAge(now - last) : "never", n.primary?.action || n.primary?.summary || ""];
  });
  return table(["NODE", "STATE", "LAYER", "CODE", "LAST REPORT", "NEXT ACTION"], rows, paint, (row, column) => (column === 1 ? STATE_COLOUR[row[1] as keyof typeof STATE_COLOUR] : undefined));
}

/** How many listed nodes run each OpenClaw and agent version: skew shows as more than one. */
export function versionSkew(nodes: readonly NodeSummary[]) {
  const count = (pick: (n: NodeSummary) => string | undefined) => {
    const counts: Record<string, number> = {};
    for (const n of nodes) {
      const version = pick(n);
      if (version) counts[version] = (counts[version] ?? 0) + 1;
    }
    return counts;
  };
  return { openclaw: count((n) => n.node?.openclawVersion), agent: count((n) => n.node?.agentVersion) };
}

export function versionLine(versions: ReturnType<typeof versionSkew>): string {
  const skewed = Object.entries(versions).filter(([, counts]) => Object.keys(counts).length > 1);
  if (skewed.length === 0) return "";
  const describe = ([component, counts]: [string, Record<string, number>]) =>
    `${component} ${Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([v, n]) => `${v} ×${n}`).join(", ")}`;
  return `\nVersion skew: ${skewed.map(describe).join("; ")}\n`;
}
