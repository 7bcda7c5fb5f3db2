// The Grafana dashboards' structure: portable (every query goes through the
// datasource variable, no instance's uid baked in), the node dashboard
// filtered by its node variable, findings shown with the taxonomy's actions.
import { describe, expect, it } from "vitest";
import { CODES } from "../../shared/taxonomy.ts";
import { fleetOverview } from "../../deploy/generate/dashboards/fleet-overview.ts";
import { nodeDetail } from "../../deploy/generate/dashboards/node-detail.ts";
import { genericAction } from "../../deploy/generate/alert-text.ts";
import { dashboardPanels, type DashboardJson } from "./dashboard-queries.ts";

const boards: [string, DashboardJson][] = [
  ["fleet overview", fleetOverview() as unknown as DashboardJson],
  ["node drill-down", nodeDetail() as unknown as DashboardJson],
];

describe.each(boards)("Grafana dashboard: %s", (_name, board) => {
  it("selects its Prometheus through a datasource template variable", () => {
    const variables = board.templating?.list ?? [];
    expect(variables.find((v) => v.name === "datasource")).toMatchObject({ type: "datasource", query: "prometheus" });
  });

  it("points every panel and every query at ${datasource}, never at a fixed uid", () => {
    const panels = dashboardPanels(board);
    expect(panels.length).toBeGreaterThan(5);
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: "prometheus", uid: "${datasource}" });
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets) {
        expect(target.datasource, panel.title).toEqual({ type: "prometheus", uid: "${datasource}" });
        expect(target.expr.trim(), panel.title).not.toBe("");
      }
    }
    const uids = [...JSON.stringify(board).matchAll(/"uid":"([^"]*)"/g)].map((m) => m[1]);
    expect(uids.filter((uid) => uid !== "${datasource}" && uid !== board.uid)).toEqual([]);
  });

  it("gives every panel a unique id", () => {
    const ids = (board.panels ?? []).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => typeof id === "number")).toBe(true);
  });
});

describe("Grafana dashboards: content", () => {
  it("the node dashboard filters every query by its node variable, fed from clawfleet_node_up", () => {
    const board = nodeDetail() as unknown as DashboardJson;
    expect(board.templating?.list.find((v) => v.name === "node")).toMatchObject({ type: "query", definition: "label_values(clawfleet_node_up, node)" });
    for (const panel of dashboardPanels(board)) for (const target of panel.targets) expect(target.expr, panel.title).toContain('node="$node"');
  });

  it("the findings table maps every code to its taxonomy title and action", () => {
    const board = fleetOverview() as unknown as DashboardJson;
    const table = dashboardPanels(board).find((p) => p.title === "Failing findings and what to do")!;
    const mapping = (field: string) => table.fieldConfig.overrides.find((o) => o.matcher.options === field)!.properties.find((p) => p.id === "mappings")!.value[0].options;
    const actions = mapping("action");
    const titles = mapping("problem");
    for (const code of Object.keys(CODES) as (keyof typeof CODES)[]) {
      expect(actions[code].text).toBe(genericAction(code));
      expect(titles[code].text).toBe(CODES[code].title);
    }
    expect(actions.token_mismatch.text).toContain("copy the gateway's token into the client config/env");
  });

  it("the overview links node cells to the node dashboard, keeping the chosen datasource", () => {
    const json = JSON.stringify(fleetOverview());
    expect(json).toContain("/d/clawfleet-node/clawfleet-node?var-node=${__value.raw}&${datasource:queryparam}");
  });
});
