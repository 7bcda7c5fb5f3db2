import { create } from "@bufbuild/protobuf";
import { GetNodeRequestSchema, type GetNodeResponse } from "../../shared/gen/clawfleet/v1/query_pb.ts";
import { defineCommand, UsageError } from "../../shared/cli.ts";
import { formatAge } from "../../shared/duration.ts";
import { painter, STATUS_COLOUR, type Paint } from "../../shared/style.ts";
import { table } from "../../shared/table.ts";
import { callOptions, COLLECTOR_HELP, COLLECTOR_OPTION, EXIT_HELP, isoTime, QUERY_EXIT, withQueryClient } from "./query-client.ts";
import { eventJson, eventRows } from "./events-command.ts";
import { FAILING_STATES, nodeJson, SIMULATED_MARK, STATE_COLOUR } from "./nodes-command.ts";

export const nodeCommand = defineCommand({
  path: ["collector", "query", "node"],
  allowPositionals: true,
  help: `Usage: clawfleet collector query node ID [--limit N] [--collector HOST:PORT] [--json]

Everything the collector knows about one node: its state, every active finding
with the action to take, recent events, its sleep/wake history (silences and
how they were labelled), and the fingerprints of the credentials it uses.

Options:
  --limit N               recent events and silences to show (default 20)
${COLLECTOR_HELP}

${EXIT_HELP}

Examples:
  clawfleet collector query node mini-03
  clawfleet collector query node mini-03 --json | jq .findings`,
  options: { ...COLLECTOR_OPTION, limit: { type: "string", default: "20" } },
  async run(values, positionals) {
    const [nodeId, extra] = positionals;
    if (!nodeId) throw new UsageError("which node? Give its id, e.g. `clawfleet collector query node mini-03` (ids: `clawfleet collector query nodes`)");
    if (extra) throw new UsageError(`unexpected argument "${extra}"`);
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 5000) throw new UsageError(`--limit must be a whole number from 1 to 5000, got "${values.limit}"`);
    return withQueryClient(values, async (client) => {
      const node = await client.getNode(create(GetNodeRequestSchema, { nodeId, limit }), callOptions());
      const now = Number(node.nowUnixMs);
      process.stdout.write(values.json ? JSON.stringify(nodeDetailJson(node, now), null, 2) + "\n" : nodeDetailText(node, now, painter(process.stdout)));
      return FAILING_STATES.has(node.summary!.state) ? QUERY_EXIT.failing : QUERY_EXIT.clean;
    });
  },
});

function nodeDetailJson(node: GetNodeResponse, now: number) {
  return {
    ...nodeJson(node.summary!, now),
    all_findings: node.allFindings.map((f) => ({ check: f.check, layer: f.layer, status: f.status, code: f.code || null, summary: f.summary, action: f.action || null, evidence: f.evidence })),
    events: node.events.map(eventJson),
    silences: node.silences.map((s) => ({ started: isoTime(s.startedUnixMs), ended: Number(s.endedUnixMs) ? isoTime(s.endedUnixMs) : null, label: s.label, relabelled: s.relabelled })),
    credentials: node.credentials.map((c) => ({ kind: c.kind, source: c.source, fingerprint: c.fingerprint, subject: c.subject, first_seen: isoTime(c.firstSeenUnixMs), last_seen: isoTime(c.lastSeenUnixMs), retired: Number(c.retiredUnixMs) ? isoTime(c.retiredUnixMs) : null })),
  };
}

function nodeDetailText(node: GetNodeResponse, now: number, paint: Paint): string {
  const s = node.summary!;
  const id = s.node!;
  const last = Number(s.lastReportUnixMs);
  const out: string[] = [
    `${paint(["bold", STATE_COLOUR[s.state as keyof typeof STATE_COLOUR] ?? "white"], s.state.toUpperCase())}  ${id.nodeId}${id.simulated ? SIMULATED_MARK : ""}  (${id.hostname}, ${id.platform}, agent ${id.agentVersion}${id.openclawVersion ? `, OpenClaw ${id.openclawVersion}` : ""})`,
    `last report ${last ? `${formatAge(now - last)} ago` : "never"}, ${s.connected ? "connected" : "not connected"}${Number(s.clockSkewMs) ? `, clock ${Math.round(Number(s.clockSkewMs) / 1000)} s off` : ""}`,
    "",
    paint("bold", "Findings"),
  ];
  if (s.findings.length === 0) out.push("  none: every check passed");
  for (const f of s.findings) {
    out.push(`  ${paint(STATUS_COLOUR[f.status as keyof typeof STATUS_COLOUR] ?? "white", f.status.padEnd(4))}  ${f.layer} / ${f.code}: ${f.summary}`);
    if (f.dependsOn) out.push(`        (a consequence of ${f.dependsOn})`);
    else if (f.action) out.push(`        → ${f.action}`);
  }
  out.push("", paint("bold", "Recent events"));
  out.push(node.events.length ? table(["AT", "KIND", "LAYER/CODE", "DETAIL"], eventRows(node.events, false), paint).trimEnd() : "  none");
  out.push("", paint("bold", "Sleep and silence"));
  out.push(
    node.silences.length
      ? table(["FROM", "UNTIL", "LABEL"], node.silences.map((x) => [isoTime(x.startedUnixMs), Number(x.endedUnixMs) ? isoTime(x.endedUnixMs) : "now", x.label + (x.relabelled ? " (relabelled from evidence)" : "")]), paint).trimEnd()
      : "  never silent",
  );
  out.push("", paint("bold", "Credentials (fingerprints)"));
  out.push(
    node.credentials.length
      ? table(["FINGERPRINT", "KIND", "SOURCE", "FIRST SEEN", "STATUS"], node.credentials.map((c) => [c.fingerprint, c.kind, c.source, isoTime(c.firstSeenUnixMs), Number(c.retiredUnixMs) ? `retired ${isoTime(c.retiredUnixMs)}` : "in use"]), paint).trimEnd()
      : "  none reported",
  );
  return out.join("\n") + "\n";
}
