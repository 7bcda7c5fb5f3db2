// Per-node metrics (the families docs/architecture.md lists), rendered straight to Prometheus text from the
// live fleet. At 10,000 nodes prom-client's labelled gauges took ~630 ms and
// ~350 MB extra per scrape (bench/metrics-exposition.ts), blocking ingest; this
// renderer writes the same families in a fraction of that and reuses its text
// while nothing changed. Label values are bounded: validated node ids, layers,
// codes and states from the taxonomy; never free text.
import { STATUS_RANK } from "../../shared/taxonomy.ts";
import { activeProblems, layerStatuses, NODE_STATES } from "../classify/node-state.ts";
import { headlineFinding, summarizeNode } from "../query/fleet-view.ts";
import type { Fleet } from "../state/fleet.ts";

const FAMILIES = {
  up: ["clawfleet_node_up", "1 while the node's agent holds its stream to the collector open, else 0."],
  state: ["clawfleet_node_state", "Node state, one-hot: healthy, degraded, failing, asleep or unreachable."],
  headline: ["clawfleet_node_headline", "1 for what the node leads with on the page and in `collector query`: its state and, unless healthy, the layer and reason code to act on first (a silent node's silence, else the root cause its agent named)."],
  layer: ["clawfleet_layer_status", "Worst status of each layer in the node's last report: 0 ok, 1 warn, 2 fail. Layers that were skipped are absent."],
  finding: ["clawfleet_finding", "1 for each problem (layer and reason code) active on the node, from its last report or found by the collector across the fleet."],
  lastReport: ["clawfleet_last_report_timestamp_seconds", "When the collector received the node's last report, Unix seconds."],
  lastWake: ["clawfleet_node_last_wake_timestamp_seconds", "When the node last woke from sleep, as it reported, Unix seconds. Absent when it never reported a wake."],
  rotations: ["clawfleet_credential_rotations_total", "Credential rotations seen on the node (a source's fingerprint changed), by kind: gateway_token or provider_key."],
  // One series per simulated node and none for real ones: no label on every other family, and a
  // dashboard leaves the demo fleet out with `unless on(node) clawfleet_node_simulated`.
  simulated: ["clawfleet_node_simulated", "1 for a node that `clawfleet sim` plays (no real host behind it); absent for real nodes."],
  probe: ["clawfleet_probe_duration_seconds", "How long probing the node took, seconds: path=\"check\" its last full check run, path=\"tailnet\" the collector's GET of its tailnet /healthz (--probe-tailnet)."],
} as const;

type Family = keyof typeof FAMILIES;

/** Prometheus label value escaping: backslash, double quote and newline. */
export function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") : value;
}

export function renderFleetMetrics(fleet: Fleet, nowMs = Date.now()): string {
  const lines: Record<Family, string[]> = { up: [], state: [], headline: [], layer: [], finding: [], lastReport: [], lastWake: [], rotations: [], simulated: [], probe: [] };
  const fleetFindings = fleet.fleetFindings(nowMs);
  for (const view of fleet.list()) {
    // Several collectors on one store: each speaks for the nodes it holds, the leader for the rest.
    if (!fleet.exposes(view)) continue;
    const node = escapeLabel(view.identity.nodeId);
    const connected = view.streams.size > 0;
    lines.up.push(`clawfleet_node_up{node="${node}"} ${connected ? 1 : 0}`);
    if (view.identity.simulated) lines.simulated.push(`clawfleet_node_simulated{node="${node}"} 1`);
    // The same summary the page and the CLI render, so the three never disagree about a node.
    const summary = summarizeNode(view, fleetFindings);
    for (const s of NODE_STATES) lines.state.push(`clawfleet_node_state{node="${node}",state="${s}"} ${s === summary.state ? 1 : 0}`);
    const lead = headlineFinding(summary);
    lines.headline.push(`clawfleet_node_headline{node="${node}",state="${summary.state}"${lead?.code ? `,layer="${lead.layer}",code="${lead.code}"` : ""}} 1`);
    // One series per (layer, code): the agent and the collector may both find the same problem.
    const collectorFindings = fleetFindings.get(view.identity.nodeId) ?? [];
    const active = new Set(collectorFindings.map((f) => `${f.layer}\0${f.code}`));
    for (const [kind, count] of fleet.rotations.get(view.identity.nodeId) ?? []) lines.rotations.push(`clawfleet_credential_rotations_total{node="${node}",kind="${escapeLabel(kind)}"} ${count}`);
    if (view.peerProbe && connected) lines.probe.push(`clawfleet_probe_duration_seconds{node="${node}",path="tailnet"} ${view.peerProbe.durationMs / 1000}`);
    const report = view.current;
    for (const f of report ? activeProblems(report.findings) : []) active.add(`${f.layer}\0${f.code}`);
    for (const key of active) {
      const [layer, code] = key.split("\0");
      lines.finding.push(`clawfleet_finding{node="${node}",layer="${layer}",code="${code}"} 1`);
    }
    if (!report) continue;
    for (const [layer, status] of layerStatuses([...report.findings, ...collectorFindings])) lines.layer.push(`clawfleet_layer_status{node="${node}",layer="${layer}"} ${STATUS_RANK[status]}`);
    lines.lastReport.push(`clawfleet_last_report_timestamp_seconds{node="${node}"} ${report.receivedAtMs / 1000}`);
    if (report.lastWakeMs > 0) lines.lastWake.push(`clawfleet_node_last_wake_timestamp_seconds{node="${node}"} ${report.lastWakeMs / 1000}`);
    lines.probe.push(`clawfleet_probe_duration_seconds{node="${node}",path="check"} ${report.durationMs / 1000}`);
  }
  let out = "";
  for (const family of Object.keys(FAMILIES) as Family[]) {
    const [name, help] = FAMILIES[family];
    out += `# HELP ${name} ${help}\n# TYPE ${name} ${family === "rotations" ? "counter" : "gauge"}\n`;
    if (lines[family].length > 0) out += lines[family].join("\n") + "\n";
  }
  return out;
}

/** Re-renders only when the fleet changed or a second passed (time-based findings). */
export function cachedFleetMetrics(fleet: Fleet): () => string {
  let cache: { version: number; second: number; text: string } | undefined;
  return () => {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (!cache || cache.version !== fleet.version || cache.second !== second) {
      cache = { version: fleet.version, second, text: renderFleetMetrics(fleet, now) };
    }
    return cache.text;
  };
}
