// The parts of a Grafana dashboard JSON the tests read, and every PromQL
// query in it with Grafana's variables replaced as Grafana would at query time.

export interface DashboardTarget {
  expr: string;
  datasource: { type: string; uid: string };
  instant?: boolean;
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource: { type: string; uid: string };
  targets: DashboardTarget[];
  fieldConfig: { overrides: { matcher: { id: string; options: string }; properties: { id: string; value: any }[] }[] };
}

export interface DashboardJson {
  uid: string;
  title: string;
  panels?: (DashboardPanel | { type: "row"; id: number; title: string })[];
  templating?: { list: { name: string; type: string; query?: unknown; definition?: string }[] };
}

export function dashboardPanels(board: DashboardJson): DashboardPanel[] {
  return (board.panels ?? []).filter((p): p is DashboardPanel => p.type !== "row");
}

/** Grafana's built-in interval variables, and the dashboard's own, as values Prometheus accepts. */
export function interpolate(expr: string, variables: Record<string, string>): string {
  return expr
    .replaceAll("$__rate_interval", "30s")
    .replaceAll("$__interval", "15s")
    .replaceAll("$__range", "5m")
    .replace(/\$(\w+)/g, (whole, name: string) => variables[name] ?? whole);
}

/** Metric names a query reads (clawfleet_* and Prometheus' own ALERTS). */
export function metricNames(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\b(clawfleet_[a-z0-9_]+|ALERTS)\b/g)].map((m) => m[1]!))];
}
