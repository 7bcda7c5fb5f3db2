// The alerting rules under promtool: they load, every rule's unit tests pass,
// every (alert, code) rule is proven to fire by some test, and every alert has
// a case where it must stay quiet. promtool comes with the Debian `prometheus`
// package; a missing binary fails the test with the install command.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ALERT_NAMES } from "../../deploy/generate/alert-catalog.ts";
import { alertRuleGroups } from "../../deploy/generate/alert-rules.ts";
import { behaviourTests, codeTests } from "../../deploy/generate/promtool-tests.ts";
import { findBinary } from "../helpers/prometheus.ts";
import { REPO_ROOT } from "../helpers/processes.ts";

const PROMETHEUS_DIR = join(REPO_ROOT, "deploy", "prometheus");

function promtool(...args: string[]) {
  const result = spawnSync(findBinary("promtool"), args, { cwd: PROMETHEUS_DIR, encoding: "utf8", timeout: 60_000 });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("Prometheus alerting rules (promtool)", () => {
  it("pass promtool check rules", () => {
    const result = promtool("check", "rules", "clawfleet-alerts.rules.yml", "clawfleet-collector.rules.yml");
    expect(result.code, result.output).toBe(0);
    const rules = alertRuleGroups().groups.flatMap((g) => g.rules).length;
    expect(result.output).toContain(`SUCCESS: ${rules} rules found`);
  });

  it("pass every promtool unit test (positive and negative cases)", () => {
    const files = readdirSync(join(PROMETHEUS_DIR, "tests")).filter((f) => f.endsWith(".test.yml")).map((f) => join("tests", f));
    expect(files.sort()).toEqual(["tests/behaviour.test.yml", "tests/codes.test.yml", "tests/collector.test.yml"]);
    const result = promtool("test", "rules", ...files);
    expect(result.code, result.output).toBe(0);
    expect(result.output.match(/SUCCESS/g)).toHaveLength(files.length);
  });

  it("the example Prometheus configs (scrape + rule files + Alertmanager; several collectors + remote write) pass promtool check config", () => {
    for (const file of ["prometheus.example.yml", "prometheus-remote-write.example.yml"]) {
      const result = promtool("check", "config", file);
      expect(result.code, `${file}: ${result.output}`).toBe(0);
    }
  });

  it("prove every (alert, code) rule fires in some unit test", () => {
    const tests = [...codeTests().tests, ...behaviourTests().tests];
    const proven = new Set(tests.flatMap((t) => t.alert_rule_test.flatMap((a) => a.exp_alerts.map((e) => `${a.alertname} ${e.exp_labels.code}`))));
    const rules = alertRuleGroups().groups.flatMap((g) => g.rules.map((r) => `${r.alert} ${r.labels.code}`));
    expect(rules.filter((r) => !proven.has(r))).toEqual([]);
  });

  it("give every alert a scenario where it must stay quiet", () => {
    const quiet = new Set(behaviourTests().tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length === 0).map((a) => a.alertname)));
    expect(ALERT_NAMES.filter((name) => !quiet.has(name))).toEqual([]);
  });

  it("label every alert with node, layer, code and severity, and annotate it with summary, description and action", () => {
    for (const rule of alertRuleGroups().groups.flatMap((g) => g.rules)) {
      expect(Object.keys(rule.labels).sort()).toEqual(["code", "layer", "severity"]);
      expect(rule.expr).toMatch(/max by \(node\b/); // node survives aggregation; instance and job do not
      expect(rule.annotations.summary).toMatch(/^\{\{ \$labels\.node \}\}: /);
      expect(rule.annotations.action).not.toMatch(/\{\w+\}/); // every taxonomy placeholder filled or put in words
    }
  });
});
