// The end-to-end alerting world, all real and on loopback: a collector
// process, Prometheus scraping it with the generated rules, Alertmanager with
// the generated routes and inhibitions, and a webhook receiver standing in for
// the pager and ticket systems. Agents (real or simulated) are added by tests.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alertRuleGroups } from "../../deploy/generate/alert-rules.ts";
import { collectorRuleGroups } from "../../deploy/generate/collector-alerts.ts";
import { alertmanagerConfig } from "../../deploy/generate/alertmanager-config.ts";
import { prometheusConfig } from "../../deploy/generate/prometheus-config.ts";
import { toYaml, type YamlValue } from "../../deploy/generate/yaml.ts";
import { startAlertmanager, type TestAlertmanager } from "../helpers/alertmanager.ts";
import { startCollectorProcess, type TestCollector } from "../helpers/collector.ts";
import { startPrometheus, type TestPrometheus } from "../helpers/prometheus.ts";
import { startWebhookReceiver, type Notification, type WebhookAlert, type WebhookReceiver } from "../helpers/webhook-receiver.ts";
import { E2E_ALERTMANAGER_TIMING, E2E_COLLECTOR_FOR_SECONDS, E2E_EVALUATION_SECONDS, E2E_FOR_SECONDS, E2E_SCRAPE_SECONDS } from "./e2e-timing.ts";

export interface AlertingWorld {
  dir: string;
  collector: TestCollector;
  prometheus: TestPrometheus;
  alertmanager: TestAlertmanager;
  webhook: WebhookReceiver;
  stop(): Promise<void>;
}

export async function startAlertingWorld(): Promise<AlertingWorld> {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-e2e-"));
  const webhook = await startWebhookReceiver();
  const [alertmanager, collector] = await Promise.all([
    startAlertmanager(toYaml(alertmanagerConfig({ webhookUrl: (receiver) => webhook.url(receiver), timing: E2E_ALERTMANAGER_TIMING }) as unknown as YamlValue)),
    startCollectorProcess(join(dir, "collector.db")),
  ]);
  const prometheus = await startPrometheus({
    config: toYaml(
      prometheusConfig({
        collectors: [collector.httpAddress],
        alertmanagers: [alertmanager.address],
        ruleFiles: ["clawfleet-alerts.rules.yml", "clawfleet-collector.rules.yml"],
        scrapeIntervalSeconds: E2E_SCRAPE_SECONDS,
        evaluationIntervalSeconds: E2E_EVALUATION_SECONDS,
      }) as unknown as YamlValue,
    ),
    files: {
      "clawfleet-alerts.rules.yml": toYaml(alertRuleGroups({ forSeconds: E2E_FOR_SECONDS }) as unknown as YamlValue),
      "clawfleet-collector.rules.yml": toYaml(collectorRuleGroups({ forSeconds: E2E_COLLECTOR_FOR_SECONDS }) as unknown as YamlValue),
    },
  });
  return {
    dir,
    collector,
    prometheus,
    alertmanager,
    webhook,
    async stop() {
      await Promise.allSettled([prometheus.stop(), alertmanager.stop(), collector.process.stop(), webhook.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface AlertKey {
  alertname: string;
  /** Absent for alerts about the fleet or the collector, which carry no node label. */
  node?: string;
  status?: "firing" | "resolved";
}

export function matches(alert: WebhookAlert, key: AlertKey): boolean {
  return alert.labels.alertname === key.alertname && (key.node === undefined || alert.labels.node === key.node) && (key.status === undefined || alert.status === key.status);
}

/** Waits for a notification, received at or after `sinceMs`, carrying the alert; returns both. */
export async function waitForAlert(webhook: WebhookReceiver, key: AlertKey, sinceMs: number, timeoutMs: number): Promise<{ notification: Notification; alert: WebhookAlert }> {
  const notification = await webhook.waitFor(
    (n) => n.receivedAtMs >= sinceMs && n.alerts.some((a) => matches(a, key)),
    timeoutMs,
    `${key.alertname}{node=${key.node ?? "*"}} ${key.status ?? ""}`,
  );
  return { notification, alert: notification.alerts.find((a) => matches(a, key))! };
}

/** Alerts that first showed up firing in notifications received at or after `sinceMs`. */
export function newlyFiring(webhook: Pick<WebhookReceiver, "notifications">, sinceMs: number): string[] {
  const key = (a: WebhookAlert) => `${a.labels.alertname}{node=${a.labels.node},code=${a.labels.code}}`;
  const before = new Set<string>();
  const after = new Set<string>();
  for (const n of webhook.notifications) {
    for (const a of n.alerts) {
      if (a.status !== "firing") continue;
      (n.receivedAtMs < sinceMs ? before : after).add(key(a));
    }
  }
  return [...after].filter((k) => !before.has(k)).sort();
}

/** Resolves once no notification has arrived for `quietMs` (bounded by `timeoutMs`). */
export async function waitForQuiet(webhook: WebhookReceiver, quietMs: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const last = webhook.notifications.at(-1)?.receivedAtMs ?? 0;
    if (Date.now() - last >= quietMs) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`webhook still receiving notifications after ${timeoutMs} ms`);
}

/** Polls Alertmanager until it holds no unresolved alert about any of `nodes`. */
export async function waitForNoActiveAlerts(alertmanager: TestAlertmanager, nodes: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let left: string[] = [];
  while (Date.now() < deadline) {
    left = (await alertmanager.alerts()).filter((a) => nodes.includes(a.labels.node ?? "")).map((a) => `${a.labels.alertname}{node=${a.labels.node}} ${a.status.state}`);
    if (left.length === 0) return;
    await sleep(250);
  }
  throw new Error(`Alertmanager still holds, after ${timeoutMs} ms:\n${left.join("\n")}`);
}

/** Polls a PromQL query until it returns at least `minSeries` series. */
export async function waitForQuery(prometheus: TestPrometheus, expr: string, minSeries: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    last = (await prometheus.query(expr)).length;
    if (last >= minSeries) return;
    await sleep(250);
  }
  throw new Error(`${expr} returned ${last} series, not ${minSeries}, within ${timeoutMs} ms`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
