// Every dashboard query against a real Prometheus scraping a real collector
// that simulated agents (real gRPC protocol) report to: each query must parse,
// and each one that reads only metrics the collector exposes today must
// return series. Queries on metrics the collector does not expose yet
// (PENDING_METRICS) are checked for syntax only, and every metric a panel
// names must be one of the two, so a typo cannot hide as "pending".
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problem } from "../../shared/finding.ts";
import { PENDING_METRICS } from "../../deploy/generate/dashboards/common.ts";
import { fleetOverview } from "../../deploy/generate/dashboards/fleet-overview.ts";
import { nodeDetail } from "../../deploy/generate/dashboards/node-detail.ts";
import { prometheusConfig } from "../../deploy/generate/prometheus-config.ts";
import { toYaml, type YamlValue } from "../../deploy/generate/yaml.ts";
import { healthyFindings, sendInvalidHello, startSimulatedAgent, type SimulatedAgent } from "../helpers/agent-simulator.ts";
import { startCollectorProcess, type TestCollector } from "../helpers/collector.ts";
import { scrape } from "../helpers/metrics.ts";
import { startPrometheus, type TestPrometheus } from "../helpers/prometheus.ts";
import { stopAll } from "../helpers/processes.ts";
import { dashboardPanels, interpolate, metricNames, type DashboardJson } from "./dashboard-queries.ts";

/** The node the drill-down dashboard is opened on: it has findings, so its tables have rows. */
const NODE = "mini-02";

const queries = (
  [
    ["fleet overview", fleetOverview() as unknown as DashboardJson],
    ["node drill-down", nodeDetail() as unknown as DashboardJson],
  ] as const
).flatMap(([board, json]) =>
  dashboardPanels(json).flatMap((panel) => panel.targets.map((target) => ({ name: `${board} / ${panel.title}`, expr: interpolate(target.expr, { node: NODE }) }))),
);

describe("Grafana panel queries against a real Prometheus scraping a real collector", () => {
  let dir: string;
  let collector: TestCollector;
  let prometheus: TestPrometheus;
  let exposed: Set<string>;
  const agents: SimulatedAgent[] = [];
  const returnsSeries = (expr: string) => metricNames(expr).every((name) => exposed.has(name));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-grafana-"));
    collector = await startCollectorProcess(join(dir, "collector.db"));
    const agent = (nodeId: string, maySleep: boolean, findings = healthyFindings(), lastWakeMs = 0) => {
      const sim = startSimulatedAgent({ collector: collector.grpcAddress, nodeId, maySleep, findings, lastWakeMs });
      agents.push(sim);
      return sim;
    };
    agent("mini-01", false);
    agent("mini-02", false, [
      ...healthyFindings().filter((f) => f.layer !== "session"),
      problem("session", "token_mismatch", "Gateway rejects the client's token.", { fingerprint: "hmac:0123456789abcdef", source: "env OPENCLAW_GATEWAY_TOKEN" }),
      problem("drift", "token_drift", "2 different gateway tokens are configured.", { sources: "2 sources" }),
    ], Date.now() - 3 * 3_600_000);
    const laptop = agent("laptop-01", true, [...healthyFindings(), problem("power", "sleep_enabled", "pmset: sleep 10")], Date.now() - 20 * 60_000);
    await Promise.all(agents.map((a) => a.connected));
    await sendInvalidHello(collector.grpcAddress); // so the rejections panel has a series
    laptop.stop(); // asleep from now on

    prometheus = await startPrometheus({
      config: toYaml(prometheusConfig({ collectors: [collector.httpAddress], alertmanagers: [], ruleFiles: [], scrapeIntervalSeconds: 1, evaluationIntervalSeconds: 1 }) as unknown as YamlValue),
    });
    exposed = new Set([...(await scrape(collector.httpAddress)).keys()].map((key) => key.replace(/\{.*$/, "")));
    // Rates need two scrapes in their window; wait until every query that should return series does.
    const deadline = Date.now() + 30_000;
    for (const { expr } of queries.filter((q) => returnsSeries(q.expr))) {
      while ((await prometheus.query(expr)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    }
  }, 90_000);

  afterAll(async () => {
    for (const agent of agents) agent.stop();
    await prometheus?.stop();
    await stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("names only metrics the collector exposes or that are listed as pending", () => {
    const unknown = [...new Set(queries.flatMap((q) => metricNames(q.expr)))].filter((name) => name !== "ALERTS" && !exposed.has(name) && !(name in PENDING_METRICS));
    expect(unknown).toEqual([]);
  });

  it("the simulated fleet is what the dashboards show: asleep, failing and healthy nodes", async () => {
    const states = await prometheus.query("clawfleet_node_state == 1");
    expect(Object.fromEntries(states.map((s) => [s.metric.node, s.metric.state]))).toEqual({ "mini-01": "healthy", "mini-02": "failing", "laptop-01": "asleep" });
  });

  it.each(queries.map((q) => [q.name, q.expr] as const))("%s: PromQL parses and returns series (when its metrics exist)", async (_name, expr) => {
    const result = await prometheus.query(expr); // rejects on a parse or evaluation error
    if (returnsSeries(expr)) expect(result.length, expr).toBeGreaterThan(0);
    else expect(metricNames(expr).some((name) => name in PENDING_METRICS || name === "ALERTS"), expr).toBe(true);
  });

  it("the findings table gets one row per active finding with the code copied into problem and action columns", async () => {
    const { expr } = queries.find((q) => q.name === "fleet overview / Failing findings and what to do")!;
    const rows = (await prometheus.query(expr)).map((s) => s.metric);
    expect(rows).toEqual(
      expect.arrayContaining([
        { node: "mini-02", layer: "session", code: "token_mismatch", problem: "token_mismatch", action: "token_mismatch" },
        { node: "laptop-01", layer: "power", code: "sleep_enabled", problem: "sleep_enabled", action: "sleep_enabled" },
      ]),
    );
  });
});
