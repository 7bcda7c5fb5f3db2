// The same fleet families as collector/metrics/fleet-exposition.ts, built the
// straightforward way with prom-client labelled gauges: the peer the
// exposition benchmark compares against (and why the collector does not use it).
// Per-node metrics (as collector/metrics/fleet-exposition.ts), computed from the live fleet at scrape time.
// Label values are bounded: node ids (validated), layers, codes and states from
// the taxonomy; never free text.
import { Gauge, type Registry } from "prom-client";
import { STATUS_RANK } from "../shared/taxonomy.ts";
import { activeProblems, layerStatuses, nodeState, NODE_STATES } from "../collector/classify/node-state.ts";
import type { Fleet } from "../collector/state/fleet.ts";

export function registerFleetMetrics(registry: Registry, fleet: Fleet): void {
  const up = new Gauge({
    name: "clawfleet_node_up",
    help: "1 while the node's agent holds its stream to the collector open, else 0.",
    labelNames: ["node"] as const,
    registers: [registry],
    collect: () => refresh(),
  });
  const state = new Gauge({
    name: "clawfleet_node_state",
    help: "Node state, one-hot: healthy, degraded, failing, asleep or unreachable.",
    labelNames: ["node", "state"] as const,
    registers: [registry],
  });
  const layer = new Gauge({
    name: "clawfleet_layer_status",
    help: "Worst status of each layer in the node's last report: 0 ok, 1 warn, 2 fail. Layers that were skipped are absent.",
    labelNames: ["node", "layer"] as const,
    registers: [registry],
  });
  const finding = new Gauge({
    name: "clawfleet_finding",
    help: "1 for each problem (layer and reason code) active in the node's last report.",
    labelNames: ["node", "layer", "code"] as const,
    registers: [registry],
  });
  const lastWake = new Gauge({
    name: "clawfleet_node_last_wake_timestamp_seconds",
    help: "When the node last woke from sleep, as it reported, Unix seconds. Absent when it never reported a wake.",
    labelNames: ["node"] as const,
    registers: [registry],
  });
  const lastReport = new Gauge({
    name: "clawfleet_last_report_timestamp_seconds",
    help: "When the collector received the node's last report, Unix seconds.",
    labelNames: ["node"] as const,
    registers: [registry],
  });

  // One callback refreshes every family, so a scrape sees one consistent snapshot
  // (prom-client collects families in registration order: node_up is first).
  function refresh(): void {
    for (const gauge of [up, state, layer, finding, lastReport, lastWake]) gauge.reset();
    const fleetFindings = fleet.fleetFindings();
    for (const view of fleet.list()) {
      const node = view.identity.nodeId;
      const connected = view.streams.size > 0;
      up.set({ node }, connected ? 1 : 0);
      const current = nodeState(connected, view.current, view.silence);
      for (const s of NODE_STATES) state.set({ node, state: s }, s === current ? 1 : 0);
      for (const f of fleetFindings.get(node) ?? []) finding.set({ node, layer: f.layer, code: f.code }, 1);
      if (!view.current) continue;
      if (view.current.lastWakeMs > 0) lastWake.set({ node }, view.current.lastWakeMs / 1000);
      lastReport.set({ node }, view.current.receivedAtMs / 1000);
      for (const [name, status] of layerStatuses(view.current.findings)) layer.set({ node, layer: name }, STATUS_RANK[status]);
      for (const f of activeProblems(view.current.findings)) finding.set({ node, layer: f.layer, code: f.code }, 1);
    }
  }
}
