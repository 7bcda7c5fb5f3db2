// Node drill-down: one node's state, layers over time, findings with actions,
// alerts, wake and probe timings. Linked from every node cell of the overview.
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { BigValueColorMode, BigValueGraphMode, VisibilityMode } from "@grafana/grafana-foundation-sdk/common";
import { PanelBuilder as StatPanel } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as StateTimelinePanel } from "@grafana/grafana-foundation-sdk/statetimeline";
import { PanelBuilder as TablePanel } from "@grafana/grafana-foundation-sdk/table";
import { PanelBuilder as TimeSeriesPanel } from "@grafana/grafana-foundation-sdk/timeseries";
import { DATASOURCE, FLEET_UID, NODE_UID, baseDashboard, findingsTable, numberPanels, layerStatusMappings, nodeStateIndex, nodeStateMappings, target } from "./common.ts";

const NODE = 'node="$node"';

export function nodeDetail(): dashboard.Dashboard {
  return numberPanels(
    baseDashboard("Clawfleet / Node", NODE_UID, "One OpenClaw gateway host: state, layers, findings with actions, alerts, sleep and probes.")
      .withVariable(
        new dashboard.QueryVariableBuilder("node")
          .label("Node")
          .datasource(DATASOURCE)
          .query({ qryType: 1, query: "label_values(clawfleet_node_up, node)", refId: "PrometheusVariableQueryEditor-VariableQuery" })
          .definition("label_values(clawfleet_node_up, node)")
          .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
          .sort(dashboard.VariableSort.AlphabeticalAsc),
      )
      .link(new dashboard.DashboardLinkBuilder("Fleet overview").type(dashboard.DashboardLinkType.Link).url(`/d/${FLEET_UID}/clawfleet-fleet-overview?\${datasource:queryparam}`).keepTime(true))
      .withPanel(stateStat())
      .withPanel(streamStat())
      .withPanel(lastReportStat())
      .withPanel(lastWakeStat())
      .withPanel(layerTimeline())
      .withPanel(findingsTable("Findings and what to do", NODE, false).height(8).span(24))
      .withPanel(findingTimeline())
      .withPanel(nodeAlerts())
      .withPanel(stateTimeline())
      .withPanel(probeLatency())
      .withPanel(tokenRotations())
      .build(),
  );
}

function stateStat(): StatPanel {
  return new StatPanel()
    .title("State")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: nodeStateIndex(NODE), instant: true }, "A"))
    .mappings(nodeStateMappings())
    .colorMode(BigValueColorMode.Background)
    .graphMode(BigValueGraphMode.None)
    .height(4)
    .span(6);
}

function streamStat(): StatPanel {
  return new StatPanel()
    .title("Agent stream")
    .description("Whether the node's agent holds its stream to the collector open.")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: `max(clawfleet_node_up{${NODE}})`, instant: true }, "A"))
    .mappings([{ type: dashboard.MappingType.ValueToText, options: { "0": { text: "silent", color: "purple", index: 0 }, "1": { text: "connected", color: "green", index: 1 } } }])
    .colorMode(BigValueColorMode.Background)
    .graphMode(BigValueGraphMode.None)
    .height(4)
    .span(6);
}

function lastReportStat(): StatPanel {
  return new StatPanel()
    .title("Since last report")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: `time() - max(clawfleet_last_report_timestamp_seconds{${NODE}})`, instant: true }, "A"))
    .unit("s")
    .thresholds(new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([{ value: null, color: "green" }, { value: 120, color: "red" }]))
    .graphMode(BigValueGraphMode.None)
    .height(4)
    .span(6);
}

function lastWakeStat(): StatPanel {
  return new StatPanel()
    .title("Since last wake")
    .description("Since the host last woke from sleep, as its agent reported it.")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: `time() - max(clawfleet_node_last_wake_timestamp_seconds{${NODE}} > 0)`, instant: true }, "A"))
    .unit("s")
    .graphMode(BigValueGraphMode.None)
    .noValue("never slept")
    .height(4)
    .span(6);
}

function layerTimeline(): StateTimelinePanel {
  return new StateTimelinePanel()
    .title("Layers over time")
    .description("Worst status per layer in each report; gaps are layers the agent skipped (a consequence of an earlier layer, or not applicable here).")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: `max by (layer) (clawfleet_layer_status{${NODE}})`, legend: "{{layer}}" }, "A"))
    .mappings(layerStatusMappings())
    .showValue(VisibilityMode.Never)
    .height(8)
    .span(24);
}

function findingTimeline(): StateTimelinePanel {
  return new StateTimelinePanel()
    .title("Findings over time")
    .description("When each problem was active: a token rotation shows up as a session finding starting right after it.")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: `max by (layer, code) (clawfleet_finding{${NODE}})`, legend: "{{layer}} / {{code}}" }, "A"))
    .mappings([{ type: dashboard.MappingType.ValueToText, options: { "1": { text: "active", color: "red", index: 0 } } }])
    .showValue(VisibilityMode.Never)
    .height(8)
    .span(24);
}

function nodeAlerts(): TablePanel {
  return new TablePanel()
    .title("Firing alerts")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: `max by (alertname, severity, layer, code) (ALERTS{alertname=~"Clawfleet.+", alertstate="firing", ${NODE}})`, instant: true }, "A"))
    .withTransformation({ id: "organize", options: { excludeByName: { Time: true, Value: true } } })
    .height(6)
    .span(12);
}

function stateTimeline(): StateTimelinePanel {
  return new StateTimelinePanel()
    .title("State over time (sleep and wake)")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: nodeStateIndex(NODE), legend: "{{node}}" }, "A"))
    .mappings(nodeStateMappings())
    .showValue(VisibilityMode.Never)
    .height(6)
    .span(12);
}

function probeLatency(): TimeSeriesPanel {
  return new TimeSeriesPanel()
    .title("Check duration by path")
    .description("path=check: the agent's whole check run (near its deadlines: a slow gateway or a hung probe). path=tailnet: the collector's own probe of the node's tailnet URL (collector serve --probe-tailnet); slow or absent while loopback is fine points at the tunnel.")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: `max by (path) (clawfleet_probe_duration_seconds{${NODE}})`, legend: "{{path}}" }, "A"))
    .unit("s")
    .height(8)
    .span(12);
}

function tokenRotations(): TimeSeriesPanel {
  return new TimeSeriesPanel()
    .title("Credential rotations")
    .description("Needs clawfleet_credential_rotations_total, which the collector does not expose yet (`clawfleet collector query tokens` has the history).")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: `sum by (kind) (increase(clawfleet_credential_rotations_total{${NODE}}[$__rate_interval]))`, legend: "{{kind}}" }, "A"))
    .height(8)
    .span(12);
}
