// One judgement everywhere: for a node in every state the collector knows
// (healthy, degraded, failing with a root cause and its consequences, asleep,
// unreachable), what `collector query nodes` leads with, what the fleet page's
// row shows, what `clawfleet_node_headline` exports and which alerts the real
// Prometheus fires from the shipped rules must all name the same thing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALERT_NAMES, alertedCodes } from "../../deploy/generate/alert-catalog.ts";
import { alertRuleGroups } from "../../deploy/generate/alert-rules.ts";
import { prometheusConfig } from "../../deploy/generate/prometheus-config.ts";
import { toYaml, type YamlValue } from "../../deploy/generate/yaml.ts";
import { problem, type Finding } from "../../shared/finding.ts";
import type { Code } from "../../shared/taxonomy.ts";
import { healthyFindings, startSimulatedAgent, type SimulatedAgent } from "../helpers/agent-simulator.ts";
import { startCollectorProcess, type TestCollector } from "../helpers/collector.ts";
import { runClawfleet, stopAll } from "../helpers/processes.ts";
import { startPrometheus, type TestPrometheus } from "../helpers/prometheus.ts";

interface Case {
  node: string;
  findings: Finding[];
  maySleep?: boolean;
  /** Falls silent after its first report. */
  silent?: boolean;
  state: string;
  /** The headline every view must show: [layer, code], or none when healthy. */
  headline?: [string, Code];
  /** Alerts Prometheus fires about the node from the shipped rules: the headline's, never a consequence's. */
  firing: Code[];
}

const CASES: Case[] = [
  { node: "ok-01", findings: healthyFindings(), state: "healthy", firing: [] },
  { node: "drift-01", findings: [...healthyFindings(), problem("drift", "credentials_exposed", "~/.openclaw/.env is mode 644")], state: "degraded", headline: ["drift", "credentials_exposed"], firing: ["credentials_exposed"] },
  {
    node: "gw-01",
    // The agent's root cause and the two symptoms it explains.
    findings: [problem("startup", "config_refused", "Invalid config"), problem("gateway", "not_running", "no gateway process"), problem("session", "token_mismatch", "handshake failed")],
    state: "failing",
    headline: ["gateway", "config_refused"],
    firing: ["config_refused"],
  },
  { node: "session-01", findings: [healthyFindings()[0]!, problem("session", "token_mismatch", "token rejected")], state: "failing", headline: ["session", "token_mismatch"], firing: ["token_mismatch"] },
  { node: "provider-01", findings: [...healthyFindings(), problem("provider", "api_key_missing", "no OpenAI key", { agent: "main", provider: "openai", envVar: "OPENAI_API_KEY" })], state: "failing", headline: ["provider", "api_key_missing"], firing: ["api_key_missing"] },
  {
    node: "tunnel-01",
    findings: [...healthyFindings(), problem("tunnel", "tailscale_needs_login", "tailscale: NeedsLogin"), problem("tunnel", "tailnet_unreachable", "https://tunnel-01.example.ts.net does not answer")],
    state: "failing",
    headline: ["tunnel", "tailscale_needs_login"],
    firing: ["tailscale_needs_login"],
  },
  { node: "laptop-01", findings: healthyFindings(), maySleep: true, silent: true, state: "asleep", headline: ["power", "silent_asleep"], firing: ["silent_asleep"] },
  // Its last report's session failure is stale: the silence leads, and the session rule stays quiet.
  { node: "mini-gone", findings: [healthyFindings()[0]!, problem("session", "token_mismatch", "token rejected")], silent: true, state: "unreachable", headline: ["fleet", "silent_unreachable"], firing: ["silent_unreachable"] },
];

/** Every alert's for: shortened to two seconds (the shortest hold window the rules' ranges allow). */
const FOR_SECONDS = Object.fromEntries(ALERT_NAMES.map((name) => [name, 2]));

interface Views {
  cli: Map<string, { state: string; layer?: string; code?: string }>;
  page: Map<string, { state: string; layer?: string; code?: string }>;
  metric: Map<string, { state: string; layer?: string; code?: string }>;
  alerts: Map<string, string[]>;
}

describe("one headline per node: CLI, page, metrics and alerts agree for every node state", () => {
  let dir: string;
  let collector: TestCollector;
  let prometheus: TestPrometheus;
  const agents: SimulatedAgent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "clawfleet-headline-"));
    collector = await startCollectorProcess(join(dir, "collector.db"));
    prometheus = await startPrometheus({
      config: toYaml(prometheusConfig({ collectors: [collector.httpAddress], alertmanagers: [], ruleFiles: ["rules.yml"], scrapeIntervalSeconds: 1, evaluationIntervalSeconds: 1 }) as unknown as YamlValue),
      files: { "rules.yml": toYaml(alertRuleGroups({ forSeconds: FOR_SECONDS }) as unknown as YamlValue) },
    });
    for (const c of CASES) agents.push(startSimulatedAgent({ collector: collector.grpcAddress, nodeId: c.node, maySleep: c.maySleep ?? false, findings: c.findings, intervalMs: 1000 }));
    await Promise.all(agents.map((a) => a.connected));
    // Silent nodes report first (so the collector knows whether they may sleep), then drop their stream.
    await waitUntil(async () => (await prometheus.query("clawfleet_last_report_timestamp_seconds")).length === CASES.length, "every node's first report scraped");
    for (const [i, c] of CASES.entries()) if (c.silent) agents[i]!.stop();
  }, 90_000);

  afterAll(async () => {
    agents.forEach((a) => a.stop());
    await prometheus?.stop();
    await stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("names the same state, layer and code for every node, and fires exactly the headline's alert", async () => {
    let views: Views | undefined;
    // Alerts need a scrape, an evaluation and their for:; poll until every view settled on the expected answer.
    await waitUntil(async () => {
      views = await readViews();
      return CASES.every((c) => sameHeadline(views!.metric.get(c.node), c) && sameHeadline(views!.cli.get(c.node), c) && sameCodes(views!.alerts.get(c.node), c.firing));
    }, "every view settled").catch(() => undefined);
    for (const c of CASES) {
      const expected = { state: c.state, layer: c.headline?.[0], code: c.headline?.[1] };
      expect(views!.cli.get(c.node), `collector query nodes: ${c.node}`).toEqual(expected);
      expect(views!.page.get(c.node), `fleet page row: ${c.node}`).toEqual(expected);
      expect(views!.metric.get(c.node), `clawfleet_node_headline: ${c.node}`).toEqual(expected);
      expect(views!.alerts.get(c.node) ?? [], `firing alerts: ${c.node}`).toEqual(c.firing);
      // The headline's code has an alert whenever the rules cover it, and that alert carries the same layer.
      if (c.headline && alertedCodes().has(c.headline[1])) expect(c.firing).toContain(c.headline[1]);
    }
    const alertLayers = await prometheus.query('ALERTS{alertstate="firing"}');
    for (const sample of alertLayers) {
      const c = CASES.find((x) => x.node === sample.metric.node)!;
      expect(`${sample.metric.layer}/${sample.metric.code}`, sample.metric.node).toBe(`${c.headline![0]}/${c.headline![1]}`);
    }
  }, 60_000);

  async function readViews(): Promise<Views> {
    const cliRun = await runClawfleet(["collector", "query", "nodes", "--insecure", "--collector", collector.grpcAddress, "--json"]);
    const nodes = (JSON.parse(cliRun.stdout) as { nodes: { id: string; state: string; primary: { layer: string; code: string } | null }[] }).nodes;
    const cli = new Map(nodes.map((n) => [n.id, { state: n.state, layer: n.primary?.code ? n.primary.layer : undefined, code: n.primary?.code || undefined }]));
    const metric = new Map(
      (await prometheus.query("clawfleet_node_headline == 1")).map((s) => [s.metric.node!, { state: s.metric.state!, layer: s.metric.layer, code: s.metric.code }]),
    );
    const alerts = new Map<string, string[]>();
    for (const s of await prometheus.query('ALERTS{alertstate="firing"}')) alerts.set(s.metric.node!, [...(alerts.get(s.metric.node!) ?? []), s.metric.code!].sort());
    return { cli, page: pageRows(await (await fetch(`http://${collector.httpAddress}/`)).text()), metric, alerts };
  }
});

/** The fleet page's rows: data-node, data-state and the layer and code cells (`–` when none). */
function pageRows(page: string): Map<string, { state: string; layer?: string; code?: string }> {
  const rows = new Map<string, { state: string; layer?: string; code?: string }>();
  for (const [, node, state, body] of page.matchAll(/<tr class="row[^"]*" data-node="([^"]+)" data-state="([^"]+)">([\s\S]*?)<\/tr>/g)) {
    const cell = (name: string) => body!.match(new RegExp(`<td class="${name}"><code>([^<]*)</code>`))?.[1];
    rows.set(node!, { state: state!, layer: cell("layer"), code: cell("code") });
  }
  return rows;
}

function sameHeadline(view: { state: string; layer?: string; code?: string } | undefined, c: Case): boolean {
  return view?.state === c.state && view.code === c.headline?.[1];
}

function sameCodes(seen: string[] | undefined, expected: Code[]): boolean {
  return JSON.stringify(seen ?? []) === JSON.stringify([...expected].sort());
}

async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}`);
}
