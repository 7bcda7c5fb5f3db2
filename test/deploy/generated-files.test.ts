// The deploy/ files are generated from shared/taxonomy.ts (alerts, actions) and
// deploy/generate/ (policy, dashboards); the committed copies must be what the
// generator makes today. And the end-to-end test's variants of them must differ
// only in timing, so what it proves holds for the committed files.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ALERTS } from "../../deploy/generate/alert-catalog.ts";
import { alertRuleGroups } from "../../deploy/generate/alert-rules.ts";
import { COLLECTOR_ALERTS } from "../../deploy/generate/collector-alerts.ts";
import { alertmanagerConfig, PLACEHOLDER_WEBHOOK, RECEIVERS } from "../../deploy/generate/alertmanager-config.ts";
import { generatedFiles } from "../../deploy/generate/outputs.ts";
import { toYaml, type YamlValue } from "../../deploy/generate/yaml.ts";
import { REPO_ROOT } from "../helpers/processes.ts";
import { E2E_ALERTMANAGER_TIMING, E2E_COLLECTOR_FOR_SECONDS, E2E_FOR_SECONDS } from "../e2e/e2e-timing.ts";

describe("generated deploy files", () => {
  it.each(generatedFiles().map((f) => [f.path, f.content] as const))("%s is current (regenerate with npm run generate:deploy)", (path, content) => {
    expect(readFileSync(join(REPO_ROOT, path), "utf8"), `${path} is stale: run npm run generate:deploy`).toBe(content);
  });

  it("the end-to-end rules differ from the committed ones only in for: (and the hold window that follows it)", () => {
    const strip = (text: string) => text.replace(/^(\s*for:) .*$/gm, "$1 <for>").replace(/(max_over_time\([^[]*)\[\w+\]/g, "$1[<for>]");
    const committed = toYaml(alertRuleGroups() as unknown as YamlValue);
    const e2e = toYaml(alertRuleGroups({ forSeconds: E2E_FOR_SECONDS }) as unknown as YamlValue);
    expect(e2e).not.toBe(committed);
    expect(strip(e2e)).toBe(strip(committed));
  });

  it("the end-to-end Alertmanager config differs from the committed one only in timing and webhook URLs", () => {
    const shape = (config: ReturnType<typeof alertmanagerConfig>) =>
      JSON.parse(JSON.stringify(config, (key, value) => (/_(wait|interval)$/.test(key) || key === "url" ? "<redacted>" : value)));
    const committed = alertmanagerConfig({ webhookUrl: PLACEHOLDER_WEBHOOK });
    const e2e = alertmanagerConfig({ webhookUrl: (r) => `http://127.0.0.1:1/${r}`, timing: E2E_ALERTMANAGER_TIMING });
    expect(shape(e2e)).toEqual(shape(committed));
    expect(committed.receivers.map((r) => r.name)).toEqual([...RECEIVERS]);
  });

  it("quiets a paging rule only by causes that page themselves (a down gateway whose cause is a ticket still pages)", () => {
    const rules = alertRuleGroups().groups.flatMap((g) => g.rules);
    const severity = new Map<string, string>(rules.map((r) => [r.labels.code, r.labels.severity]));
    let quieted = 0;
    for (const rule of rules.filter((r) => r.labels.severity === "page")) {
      for (const [, codes] of rule.expr.matchAll(/clawfleet_finding\{code=~"([^"]+)"\}/g)) {
        for (const cause of codes!.split("|")) {
          expect(severity.get(cause), `${rule.labels.code} is quieted by ${cause}`).toBe("page");
          quieted++;
        }
      }
    }
    expect(quieted).toBeGreaterThan(10);
    // The cases that made the rule: a config refusal (gateway, page) quiets not_running; a placeholder (drift, ticket) does not quiet token_mismatch.
    const expr = (code: string) => rules.find((r) => r.labels.code === code)!.expr;
    expect(expr("not_running")).toContain("config_refused");
    expect(expr("token_mismatch")).not.toContain("secret_placeholder");
  });

  it("the fleet-loss page fires before the per-node unreachable pages it inhibits, in production and end to end", () => {
    // Alertmanager's inhibition holds back only notifications not yet sent: the source must be firing first.
    const nodeUnreachable = ALERTS.find((a) => a.name === "ClawfleetNodeUnreachable")!.forSeconds;
    const fleetLoss = COLLECTOR_ALERTS.find((a) => a.name === "ClawfleetFleetMostlyUnreachable")!.forSeconds;
    expect(fleetLoss).toBeLessThan(nodeUnreachable);
    expect(E2E_COLLECTOR_FOR_SECONDS.ClawfleetFleetMostlyUnreachable!).toBeLessThan(E2E_FOR_SECONDS.ClawfleetNodeUnreachable);
    const inhibition = alertmanagerConfig({ webhookUrl: PLACEHOLDER_WEBHOOK }).inhibit_rules.find((r) => r.source_matchers.includes('alertname="ClawfleetFleetMostlyUnreachable"'));
    expect(inhibition?.target_matchers).toEqual(['alertname="ClawfleetNodeUnreachable"']);
  });

  it("writes YAML that quotes what go-yaml would misread", () => {
    expect(toYaml({ a: "yes", b: "2m", c: 'layer="tunnel"', d: "it's", e: ["x", "y"], f: "multi\nline" })).toBe(
      'a: \'yes\'\nb: 2m\nc: \'layer="tunnel"\'\nd: "it\'s"\ne: [x, \'y\']\nf: |-\n  multi\n  line\n',
    );
  });
});
