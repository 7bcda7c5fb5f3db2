// The same fleet families and samples as collector/metrics/fleet-exposition.ts,
// built the straightforward way with prom-client labelled gauges: the peer the
// exposition benchmark compares against (and why the collector does not use it).
// test/unit/prom-client-fleet-metrics.test.ts proves both render the same samples;
// a family added to one and not the other fails it.
import { Counter, Gauge, type Registry } from "prom-client";
import { STATUS_RANK } from "../shared/taxonomy.ts";
import { activeProblems, layerStatuses, NODE_STATES } from "../collector/classify/node-state.ts";
import { headlineFinding, summarizeNode } from "../collector/query/fleet-view.ts";
import type { Fleet } from "../collector/state/fleet.ts";

export function registerFleetMetrics(registry: Registry, fleet: Fleet): void {
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], collect?: () => void) =>
    new Gauge({ name, help, labelNames, registers: [registry], ...(collect ? { collect } : {}) });
  // Registration order is output order: the same as fleet-exposition.ts.
  const up = gauge("clawfleet_node_up", "1 while the node's agent holds its stream to the collector open, else 0.", ["node"], () => refresh());
  const state = gauge("clawfleet_node_state", "Node state, one-hot: healthy, degraded, failing, asleep or unreachable.", ["node", "state"]);
  const headline = gauge("clawfleet_node_headline", "1 for what the node leads with: its state and, unless healthy, the layer and reason code to act on first.", ["node", "state", "layer", "code"]);
  const layer = gauge("clawfleet_layer_status", "Worst status of each layer in the node's last report: 0 ok, 1 warn, 2 fail.", ["node", "layer"]);
  const finding = gauge("clawfleet_finding", "1 for each problem (layer and reason code) active on the node.", ["node", "layer", "code"]);
  const lastReport = gauge("clawfleet_last_report_timestamp_seconds", "When the collector received the node's last report, Unix seconds.", ["node"]);
  const lastWake = gauge("clawfleet_node_last_wake_timestamp_seconds", "When the node last woke from sleep, as it reported, Unix seconds.", ["node"]);
  const rotations = new Counter({ name: "clawfleet_credential_rotations_total", help: "Credential rotations seen on the node, by kind.", labelNames: ["node", "kind"], registers: [registry] });
  const simulated = gauge("clawfleet_node_simulated", "1 for a node that `clawfleet sim` plays.", ["node"]);
  const probe = gauge("clawfleet_probe_duration_seconds", "How long probing the node took, seconds, by path.", ["node", "path"]);

  // One callback refreshes every family, so a scrape sees one consistent snapshot
  // (prom-client collects families in registration order: node_up is first).
  function refresh(): void {
    for (const metric of [up, state, headline, layer, finding, lastReport, lastWake, rotations, simulated, probe]) metric.reset();
    const fleetFindings = fleet.fleetFindings();
    for (const view of fleet.list()) {
      const node = view.identity.nodeId;
      const connected = view.streams.size > 0;
      up.set({ node }, connected ? 1 : 0);
      if (view.identity.simulated) simulated.set({ node }, 1);
      const summary = summarizeNode(view, fleetFindings);
      for (const s of NODE_STATES) state.set({ node, state: s }, s === summary.state ? 1 : 0);
      const lead = headlineFinding(summary);
      headline.set(lead?.code ? { node, state: summary.state, layer: lead.layer, code: lead.code } : { node, state: summary.state }, 1);
      const collectorFindings = fleetFindings.get(node) ?? [];
      for (const [kind, count] of fleet.rotations.get(node) ?? []) rotations.inc({ node, kind }, count);
      if (view.peerProbe && connected) probe.set({ node, path: "tailnet" }, view.peerProbe.durationMs / 1000);
      const report = view.current;
      for (const f of [...collectorFindings, ...(report ? activeProblems(report.findings) : [])]) finding.set({ node, layer: f.layer, code: f.code! }, 1);
      if (!report) continue;
      for (const [name, status] of layerStatuses([...report.findings, ...collectorFindings])) layer.set({ node, layer: name }, STATUS_RANK[status]);
      lastReport.set({ node }, report.receivedAtMs / 1000);
      if (report.lastWakeMs > 0) lastWake.set({ node }, report.lastWakeMs / 1000);
      probe.set({ node, path: "check" }, report.durationMs / 1000);
    }
  }
}
