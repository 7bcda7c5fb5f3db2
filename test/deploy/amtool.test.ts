// Alertmanager routes under amtool: the config loads, each alert reaches the
// receiver its layer's owners read, and a wrong expectation is caught (so the
// route tests are real). Inhibitions and grouping need a running Alertmanager:
// test/e2e/alerting.test.ts proves them.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ALERTS, layerOf, severityOf, type AlertName } from "../../deploy/generate/alert-catalog.ts";
import { codesOf } from "../../deploy/generate/alert-rules.ts";
import { alertmanagerConfig, PLACEHOLDER_WEBHOOK } from "../../deploy/generate/alertmanager-config.ts";
import { findBinary } from "../helpers/prometheus.ts";
import { REPO_ROOT } from "../helpers/processes.ts";

const CONFIG = join(REPO_ROOT, "deploy", "alertmanager", "alertmanager.yml");

function amtool(...args: string[]) {
  const result = spawnSync(findBinary("amtool"), args, { encoding: "utf8", timeout: 30_000 });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Who must get each alert (the routing table), independent of the config under test. */
const EXPECTED_RECEIVER: Record<AlertName, string> = {
  ClawfleetTunnelDown: "network-owners",
  ClawfleetSessionAuthFailing: "gateway-owners",
  ClawfleetProviderCredentialMissing: "gateway-owners",
  ClawfleetGatewayDown: "gateway-owners",
  ClawfleetNodeUnreachable: "fleet-oncall",
  ClawfleetNodeAsleep: "tickets",
  ClawfleetDrift: "tickets",
  ClawfleetSleepEnabled: "tickets",
};

const cases = ALERTS.flatMap((alert) =>
  codesOf(alert).map((code) => ({ alert: alert.name, code, labels: { alertname: alert.name, node: "mini-01", layer: layerOf(code), code, severity: severityOf(alert, code) } })),
);

describe("Alertmanager config (amtool)", () => {
  it("passes amtool check-config", () => {
    const result = amtool("check-config", CONFIG);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain("3 inhibit rules");
  });

  it.each(cases.map((c) => [c.alert, c.code, c.labels] as const))("routes %s (%s) to its owners", (alert, _code, labels) => {
    const result = amtool("config", "routes", "test", `--config.file=${CONFIG}`, `--verify.receivers=${EXPECTED_RECEIVER[alert]}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`));
    expect(result.code, result.output).toBe(0);
  });

  it("catches a wrong route expectation: a tunnel alert is not for the gateway owners", () => {
    const result = amtool("config", "routes", "test", `--config.file=${CONFIG}`, "--verify.receivers=gateway-owners", "alertname=ClawfleetTunnelDown", "layer=tunnel", "node=mini-01");
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("network-owners");
  });

  it("groups by layer, never by node, on the paging routes: a fleet-wide outage is one notification", () => {
    const config = alertmanagerConfig({ webhookUrl: PLACEHOLDER_WEBHOOK });
    expect(config.route.group_by).toEqual(["layer"]);
    for (const route of config.route.routes.filter((r) => r.receiver !== "tickets")) expect(route).not.toHaveProperty("group_by");
  });

  it("inhibits per node: silent nodes silence everything else, a down gateway silences session, provider and tunnel; a fleet-wide loss is one page", () => {
    const { inhibit_rules } = alertmanagerConfig({ webhookUrl: PLACEHOLDER_WEBHOOK });
    expect(inhibit_rules.map((r) => [r.source_matchers, r.target_matchers, r.equal])).toEqual([
      [['alertname=~"ClawfleetNode(Unreachable|Asleep)"'], ['alertname=~"Clawfleet.+"', 'alertname!~"ClawfleetNode(Unreachable|Asleep)"'], ["node"]],
      // Fleet-wide, so across nodes: no `equal`.
      [['alertname="ClawfleetFleetMostlyUnreachable"'], ['alertname="ClawfleetNodeUnreachable"'], undefined],
      [['alertname="ClawfleetGatewayDown"'], ['layer=~"session|provider|tunnel"'], ["node"]],
    ]);
  });

  it("routes the collector's own alerts: pages to fleet on-call, tickets to tickets", () => {
    for (const [labels, receiver] of [
      [["alertname=ClawfleetCollectorDown", "layer=collector", "severity=page"], "fleet-oncall"],
      [["alertname=ClawfleetFleetMostlyUnreachable", "layer=collector", "severity=page"], "fleet-oncall"],
      [["alertname=ClawfleetEventLogNearRetention", "layer=collector", "severity=ticket"], "tickets"],
    ] as const) {
      const result = amtool("config", "routes", "test", `--config.file=${CONFIG}`, `--verify.receivers=${receiver}`, ...labels);
      expect(result.code, result.output).toBe(0);
    }
  });
});
