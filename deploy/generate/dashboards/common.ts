// Pieces both dashboards share: the datasource variable every panel points
// at (no hard-coded uid, so one JSON imports into any Grafana), Prometheus
// targets, and value mappings generated from the collector's state and status
// vocabularies.
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import { TableCellDisplayMode, TableCellHeight } from "@grafana/grafana-foundation-sdk/common";
import { DataqueryBuilder, PromQueryFormat } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as TablePanel } from "@grafana/grafana-foundation-sdk/table";
import { NODE_STATES } from "../../../collector/classify/node-state.ts";
import { CODES, type Code } from "../../../shared/taxonomy.ts";
import { genericAction } from "../alert-text.ts";

export const DATASOURCE: { type: string; uid: string } = { type: "prometheus", uid: "${datasource}" };

export const FLEET_UID = "clawfleet-fleet";
export const NODE_UID = "clawfleet-node";

export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder("datasource").label("Data source").type("prometheus");
}

/**
 * Metrics the dashboards chart before the collector exposes them (proposed
 * names). The query test checks these only for syntax.
 */
export const PENDING_METRICS = {
  clawfleet_credential_rotations_total:
    "proposed: counter of the collector's credential_rotated events by node and kind (gateway_token, provider_key)",
} as const;

export interface Query {
  expr: string;
  legend?: string;
  /** Table panels want one row per series at the dashboard's end time. */
  instant?: boolean;
}

export function target(query: Query, refId: string): cog.Builder<cog.Dataquery> {
  const builder = new DataqueryBuilder().expr(query.expr).refId(refId).datasource(DATASOURCE);
  if (query.legend) builder.legendFormat(query.legend);
  if (query.instant) builder.instant().format(PromQueryFormat.Table);
  else builder.range();
  return builder;
}

const STATE_COLORS: Record<(typeof NODE_STATES)[number], string> = {
  healthy: "green",
  degraded: "yellow",
  failing: "red",
  asleep: "blue",
  unreachable: "purple",
};

export function stateColor(state: (typeof NODE_STATES)[number]): string {
  return STATE_COLORS[state];
}

/**
 * clawfleet_node_state is one-hot; this folds it into one number per node
 * (its index in NODE_STATES) so a timeline can draw one row per node.
 */
export function nodeStateIndex(selector: string): string {
  return NODE_STATES.map((state, i) => `${i} * max by (node) (clawfleet_node_state{${selector ? `${selector}, ` : ""}state="${state}"})`).join("\n+ ");
}

export function nodeStateMappings(): dashboard.ValueMapping[] {
  return [
    {
      type: dashboard.MappingType.ValueToText,
      options: Object.fromEntries(NODE_STATES.map((state, i) => [String(i), { text: state, color: STATE_COLORS[state], index: i }])),
    },
  ];
}

/** clawfleet_layer_status: 0 ok, 1 warn, 2 fail (STATUS_RANK). */
export function layerStatusMappings(): dashboard.ValueMapping[] {
  return [
    {
      type: dashboard.MappingType.ValueToText,
      options: { "0": { text: "ok", color: "green", index: 0 }, "1": { text: "warn", color: "yellow", index: 1 }, "2": { text: "fail", color: "red", index: 2 } },
    },
  ];
}

/** Code → action (or title), so a findings table shows what to do next. */
export function codeMappings(text: (code: Code) => string): dashboard.ValueMapping[] {
  return [
    {
      type: dashboard.MappingType.ValueToText,
      options: Object.fromEntries((Object.keys(CODES) as Code[]).map((code, index) => [code, { text: text(code), index }])),
    },
  ];
}

/**
 * Active findings as table rows. The code label is copied into `problem` and
 * `action` columns, which value mappings turn into the taxonomy's title and
 * action text: Prometheus labels stay bounded, the table still reads as advice.
 */
export function findingsQuery(selector: string): Query {
  const active = `max by (node, layer, code) (clawfleet_finding${selector ? `{${selector}}` : ""}) == 1`;
  return {
    expr: `label_replace(\n  label_replace(${active}, "problem", "$1", "code", "(.+)"),\n  "action", "$1", "code", "(.+)"\n)`,
    instant: true,
  };
}

export function findingsTable(title: string, selector: string, nodeLink: boolean): TablePanel {
  const panel = new TablePanel()
    .title(title)
    .description("Every active problem with the taxonomy's next action. Words in capitals stand for the host's own values: `clawfleet collector query node NODE` prints them filled in.")
    .datasource(DATASOURCE)
    .withTarget(target(findingsQuery(selector), "A"))
    .withTransformation({ id: "organize", options: { excludeByName: { Time: true, Value: true }, indexByName: { node: 0, layer: 1, code: 2, problem: 3, action: 4 } } })
    .overrideByName("problem", [{ id: "mappings", value: codeMappings((code) => CODES[code].title) }])
    .overrideByName("action", [
      { id: "mappings", value: codeMappings(genericAction) },
      { id: "custom.cellOptions", value: { type: TableCellDisplayMode.Auto, wrapText: true } },
    ])
    .cellHeight(TableCellHeight.Auto);
  if (nodeLink) panel.overrideByName("node", [nodeDrillDownLink()]);
  return panel;
}

/** A field override linking a cell holding a node id to the node dashboard. */
export function nodeDrillDownLink(): dashboard.DynamicConfigValue {
  return { id: "links", value: [{ title: "Open node ${__value.raw}", url: `/d/${NODE_UID}/clawfleet-node?var-node=\${__value.raw}&\${datasource:queryparam}` }] };
}

/**
 * Gives every panel (rows included) a stable id in layout order: Grafana needs
 * ids for links to a single panel, and the SDK leaves them unset.
 */
export function numberPanels(board: dashboard.Dashboard): dashboard.Dashboard {
  (board.panels ?? []).forEach((panel, i) => {
    panel.id = i + 1;
  });
  return board;
}

/** What every clawfleet dashboard shares: tags, refresh, time range, and the datasource variable. */
export function baseDashboard(title: string, uid: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(["clawfleet", "generated"])
    .refresh("30s")
    .time({ from: "now-6h", to: "now" })
    .timezone("browser")
    .editable()
    .withVariable(datasourceVariable());
}
