// Fleet overview: which nodes are broken and in which layer, what to do about
// each finding, who slept when, and the collector's own health.
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { BigValueColorMode, BigValueGraphMode, BigValueTextMode, GraphDrawStyle, TableCellDisplayMode, VisibilityMode } from "@grafana/grafana-foundation-sdk/common";
import { PanelBuilder as BarGaugePanel } from "@grafana/grafana-foundation-sdk/bargauge";
import { PanelBuilder as StatPanel } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as StateTimelinePanel } from "@grafana/grafana-foundation-sdk/statetimeline";
import { PanelBuilder as TablePanel } from "@grafana/grafana-foundation-sdk/table";
import { PanelBuilder as TimeSeriesPanel } from "@grafana/grafana-foundation-sdk/timeseries";
import { NODE_STATES } from "../../../collector/classify/node-state.ts";
import {
  DATASOURCE,
  FLEET_UID,
  baseDashboard,
  numberPanels,
  findingsTable,
  layerStatusMappings,
  nodeDrillDownLink,
  nodeStateIndex,
  nodeStateMappings,
  stateColor,
  target,
} from "./common.ts";

export function fleetOverview(): dashboard.Dashboard {
  return numberPanels(
    baseDashboard("Clawfleet / Fleet overview", FLEET_UID, "OpenClaw gateways by node and layer: which are broken, where, and the next action.")
      .link(new dashboard.DashboardLinkBuilder("Node drill-down").type(dashboard.DashboardLinkType.Dashboards).tags(["clawfleet"]).includeVars(true).keepTime(true).asDropdown(true))
      .withRow(new dashboard.RowBuilder("Fleet now"))
      .withPanel(nodesByState())
      .withPanel(failingLayers())
      .withPanel(layerMatrix())
      .withRow(new dashboard.RowBuilder("Findings and alerts"))
      .withPanel(findingsTable("Failing findings and what to do", "", true).height(10).span(24))
      .withPanel(activeAlerts())
      .withRow(new dashboard.RowBuilder("Sleep and wake"))
      .withPanel(stateTimeline())
      .withPanel(sinceLastWake())
      .withRow(new dashboard.RowBuilder("Credentials"))
      .withPanel(tokenRotations())
      .withPanel(credentialFindings())
      .withRow(new dashboard.RowBuilder("Collector"))
      .withPanel(collectorStreams())
      .withPanel(collectorReports())
      .withPanel(collectorRejections())
      .withPanel(storeLatency())
      .build(),
  );
}

function nodesByState(): StatPanel {
  const panel = new StatPanel()
    .title("Nodes by state")
    .description("One-hot clawfleet_node_state summed per state. Asleep nodes are tickets, unreachable nodes page.")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: "sum by (state) (clawfleet_node_state)", legend: "{{state}}", instant: true }, "A"))
    .colorMode(BigValueColorMode.Background)
    .graphMode(BigValueGraphMode.None)
    .textMode(BigValueTextMode.ValueAndName)
    .height(5)
    .span(12);
  for (const state of NODE_STATES) panel.overrideByName(state, [{ id: "color", value: { mode: dashboard.FieldColorModeId.Fixed, fixedColor: stateColor(state) } }]);
  return panel;
}

function failingLayers(): BarGaugePanel {
  return new BarGaugePanel()
    .title("Nodes failing, by layer")
    .description("How many nodes fail each layer now. Earlier layers explain later ones: fix gateway before session, session before provider.")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: "sum by (layer) (clawfleet_layer_status == bool 2)", legend: "{{layer}}", instant: true }, "A"))
    .min(0)
    .thresholds(new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([{ value: null, color: "green" }, { value: 1, color: "red" }]))
    .height(5)
    .span(12);
}

function layerMatrix(): TablePanel {
  return new TablePanel()
    .title("Layer status by node")
    .description("Worst status of each layer in every node's last report (skipped layers are blank).")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: "max by (node, layer) (clawfleet_layer_status)", instant: true }, "A"))
    .withTransformation({ id: "groupingToMatrix", options: { columnField: "layer", rowField: "node", valueField: "Value" } })
    .mappings(layerStatusMappings())
    .overrideByName("node\\layer", [nodeDrillDownLink()])
    .cellOptions({ type: TableCellDisplayMode.ColorBackground })
    .height(8)
    .span(24);
}

function activeAlerts(): TablePanel {
  return new TablePanel()
    .title("Firing clawfleet alerts")
    .description("What Prometheus is sending to Alertmanager now (inhibited ones included: Alertmanager decides who is told).")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: 'max by (alertname, severity, node, layer, code) (ALERTS{alertname=~"Clawfleet.+", alertstate="firing"})', instant: true }, "A"))
    .withTransformation({ id: "organize", options: { excludeByName: { Time: true, Value: true } } })
    .overrideByName("node", [nodeDrillDownLink()])
    .height(8)
    .span(24);
}

function stateTimeline(): StateTimelinePanel {
  return new StateTimelinePanel()
    .title("Node state over time (sleep and wake)")
    .description("Blue spans are sleep (the node may sleep and went silent), purple ones unreachable.")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: nodeStateIndex(""), legend: "{{node}}" }, "A"))
    .mappings(nodeStateMappings())
    .showValue(VisibilityMode.Never)
    .height(10)
    .span(16);
}

function sinceLastWake(): TablePanel {
  return new TablePanel()
    .title("Time since last wake")
    .description("From the agent's wake detection (wall-clock jump). Nodes that never reported a wake are not listed.")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: "time() - max by (node) (clawfleet_node_last_wake_timestamp_seconds > 0)", instant: true }, "A"))
    .withTransformation({ id: "organize", options: { excludeByName: { Time: true }, renameByName: { Value: "since wake" } } })
    .unit("s")
    .height(10)
    .span(8);
}

function tokenRotations(): TimeSeriesPanel {
  return new TimeSeriesPanel()
    .title("Credential rotations")
    .description("Fingerprint changes of gateway tokens and provider keys per node. Rotate one at a time: a failure right after names its change. Needs clawfleet_credential_rotations_total, which the collector does not expose yet (`clawfleet collector query tokens` has the history).")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: "sum by (node, kind) (increase(clawfleet_credential_rotations_total[$__rate_interval]))", legend: "{{node}} {{kind}}" }, "A"))
    .drawStyle(GraphDrawStyle.Bars)
    .height(8)
    .span(12);
}

function credentialFindings(): TablePanel {
  return new TablePanel()
    .title("Credential hygiene findings")
    .description("Token drift between sources, one token on several nodes, rotations done together.")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: 'max by (node, layer, code) (clawfleet_finding{code=~"token_drift|token_shared|simultaneous_rotation|credentials_exposed|secret_in_history"}) == 1', instant: true }, "A"))
    .withTransformation({ id: "organize", options: { excludeByName: { Time: true, Value: true } } })
    .overrideByName("node", [nodeDrillDownLink()])
    .height(8)
    .span(12);
}

function collectorStreams(): StatPanel {
  return new StatPanel()
    .title("Agent streams")
    .description("Agents connected to this collector now.")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: "sum(clawfleet_collector_streams)", instant: true }, "A"))
    .graphMode(BigValueGraphMode.Area)
    .height(6)
    .span(6);
}

function collectorReports(): TimeSeriesPanel {
  return new TimeSeriesPanel()
    .title("Reports received")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: "sum by (outcome) (rate(clawfleet_collector_reports_total[$__rate_interval]))", legend: "{{outcome}}" }, "A"))
    .unit("reqps")
    .height(6)
    .span(6);
}

function collectorRejections(): TimeSeriesPanel {
  return new TimeSeriesPanel()
    .title("Requests refused")
    .description("Refused by reason: bad input (a version skew or a hostile peer), a limit (floods), or failed authentication and enrollment (no, revoked or another node's certificate).")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: "sum by (reason) (rate(clawfleet_collector_rejected_total[$__rate_interval]))", legend: "{{reason}}" }, "A"))
    .unit("reqps")
    .height(6)
    .span(6);
}

function storeLatency(): TimeSeriesPanel {
  return new TimeSeriesPanel()
    .title("Store write latency (p99)")
    .datasource(DATASOURCE)
    .withTarget(target({ expr: "histogram_quantile(0.99, sum by (le) (rate(clawfleet_collector_store_write_seconds_bucket[$__rate_interval])))", legend: "p99" }, "A"))
    .unit("s")
    .height(6)
    .span(6);
}

