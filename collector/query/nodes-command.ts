import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { ListNodesRequestSchema, QueryService, type NodeSummary } from "../../shared/gen/clawfleet/v1/query_pb.ts";
import { defineCommand, parseAddress } from "../../shared/cli.ts";
import { formatAge } from "../../shared/duration.ts";
import { createClient } from "../../shared/grpc-adapter.ts";
import { describeGrpcError } from "../../shared/grpc-errors.ts";
import { painter, type Paint } from "../../shared/style.ts";
import { DEFAULT_GRPC_LISTEN } from "../cli/serve-command.ts";

/** Exit statuses of every query command. */
export const QUERY_EXIT = { clean: 0, failing: 1, usage: 2, unreachable: 3 } as const;

const FAILING_STATES = new Set(["failing", "unreachable", "degraded"]);

export const nodesCommand = defineCommand({
  path: ["collector", "query", "nodes"],
  help: `Usage: clawfleet collector query nodes [--collector HOST:PORT] [--json]

Lists the fleet as the collector sees it: each node's state (healthy, degraded,
failing, asleep, unreachable), the worst layer and reason code of its last
report, and how long ago that report arrived.

Options:
  --collector HOST:PORT   collector gRPC address (default: $CLAWFLEET_COLLECTOR or ${DEFAULT_GRPC_LISTEN})
  --json                  print JSON for scripts
  -h, --help              show this help

Exit status: 0 no node is failing, 1 some node is failing, degraded or
unreachable, 2 usage error, 3 collector unreachable.

Examples:
  clawfleet collector query nodes
  clawfleet collector query nodes --json | jq '.nodes[] | select(.state != "healthy")'`,
  options: {
    collector: { type: "string" },
    json: { type: "boolean" },
  },
  async run(values) {
    const address = values.collector ?? process.env.CLAWFLEET_COLLECTOR ?? DEFAULT_GRPC_LISTEN;
    parseAddress("collector", address);
    const client = createClient(QueryService, address, grpc.credentials.createInsecure());
    try {
      const response = await client.listNodes(create(ListNodesRequestSchema, {}), { deadline: Date.now() + 5000 });
      const now = Number(response.nowUnixMs);
      if (values.json) {
        process.stdout.write(JSON.stringify({ nodes: response.nodes.map((n) => nodeJson(n, now)) }, null, 2) + "\n");
      } else {
        process.stdout.write(nodesTable(response.nodes, now, painter(process.stdout)));
      }
      return response.nodes.some((n) => FAILING_STATES.has(n.state)) ? QUERY_EXIT.failing : QUERY_EXIT.clean;
    } catch (error) {
      const e = error as grpc.ServiceError;
      process.stderr.write(`clawfleet: cannot query the collector at ${address}: ${describeGrpcError(e)}\n  Is the collector running there? Start it with \`clawfleet collector serve\`, or pass --collector HOST:PORT.\n`);
      return QUERY_EXIT.unreachable;
    } finally {
      client.close();
    }
  },
});

function nodeJson(n: NodeSummary, now: number) {
  const last = Number(n.lastReportUnixMs);
  return {
    id: n.node?.nodeId,
    hostname: n.node?.hostname,
    platform: n.node?.platform,
    agent_version: n.node?.agentVersion,
    state: n.state,
    connected: n.connected,
    worst_layer: n.worstLayer || null,
    worst_status: n.worstStatus || null,
    primary: n.primary ? { layer: n.primary.layer, code: n.primary.code, summary: n.primary.summary, action: n.primary.action } : null,
    last_report_unix_ms: last || null,
    last_report_age_seconds: last ? Math.max(0, Math.round((now - last) / 1000)) : null,
    last_seq: Number(n.lastSeq),
  };
}

const STATE_COLOUR = { healthy: "green", degraded: "yellow", failing: "red", asleep: "blue", unreachable: "red" } as const;

export function nodesTable(nodes: readonly NodeSummary[], now: number, paint: Paint): string {
  if (nodes.length === 0) return "No nodes have reported yet. Start an agent: clawfleet agent run --collector HOST:PORT\n";
  const rows = nodes.map((n) => {
    const last = Number(n.lastReportUnixMs);
    return [n.node?.nodeId ?? "?", n.state, n.worstLayer || "-", n.primary?.code || "-", last ? formatAge(now - last) : "never", n.primary?.summary ?? ""];
  });
  const header = ["NODE", "STATE", "LAYER", "CODE", "LAST REPORT", "SUMMARY"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], colour?: (cell: string, i: number) => string) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).map((c, i) => (colour ? colour(c, i) : c)).join("  ").trimEnd();
  return [
    paint("bold", line(header)),
    ...rows.map((r) => line(r, (cell, i) => (i === 1 ? paint(STATE_COLOUR[r[1] as keyof typeof STATE_COLOUR] ?? "white", cell) : cell))),
  ].join("\n") + "\n";
}
