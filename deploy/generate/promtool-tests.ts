// promtool unit tests for the generated rules. Two files: one proves every
// (alert, code) rule fires after its `for:` with the labels and annotations the
// taxonomy gives, never before; the other holds the behaviour that matters to
// the person being paged, written as scenarios. Expected annotations are
// rendered here from the same taxonomy text, so promtool checks the templates.
import { CODES, STATUS_RANK, type Code, type Layer } from "../../shared/taxonomy.ts";
import { ALERTS, layerOf, severityOf, type AlertName, type AlertSpec } from "./alert-catalog.ts";
import { codesOf } from "./alert-rules.ts";
import { alertAnnotations } from "./alert-text.ts";
import { formatDuration } from "./durations.ts";
import { runbookUrl } from "./runbooks.ts";

export interface ExpAlert {
  exp_labels: Record<string, string>;
  exp_annotations: Record<string, string>;
}
export interface AlertRuleTest {
  eval_time: string;
  alertname: AlertName;
  exp_alerts: ExpAlert[];
}
export interface InputSeries {
  series: string;
  values: string;
}
export interface PromtoolTest {
  name: string;
  interval: string;
  input_series: InputSeries[];
  alert_rule_test: AlertRuleTest[];
}
export interface PromtoolFile {
  rule_files: string[];
  evaluation_interval: string;
  tests: PromtoolTest[];
}

// Every series carries the scrape's own labels, as in production: the rules
// must aggregate them away (alerts do not depend on which collector shard
// reported the node).
const SCRAPE = 'job="clawfleet-collector",instance="collector:9464"';

type Sample = number | "_" | "stale";
/** Runs of samples, one per minute: [[0, 5], [1, 10]] is five 0s then ten 1s. */
export function runs(...parts: [Sample, number][]): string {
  return parts
    .filter(([, count]) => count > 0)
    .map(([value, count]) => (value === "_" ? `_x${count}` : value === "stale" ? Array(count).fill("stale").join(" ") : count === 1 ? String(value) : `${value}+0x${count - 1}`))
    .join(" ");
}

export function finding(node: string, code: Code, values: string): InputSeries {
  return { series: `clawfleet_finding{${SCRAPE},node="${node}",layer="${CODES[code].layer}",code="${code}"}`, values };
}
export function layerStatus(node: string, layer: Layer, values: string): InputSeries {
  return { series: `clawfleet_layer_status{${SCRAPE},node="${node}",layer="${layer}"}`, values };
}
export function nodeState(node: string, state: string, values: string): InputSeries {
  return { series: `clawfleet_node_state{${SCRAPE},node="${node}",state="${state}"}`, values };
}

export function alertSpec(name: AlertName): AlertSpec {
  return ALERTS.find((a) => a.name === name)!;
}

/** The alert promtool must see firing for `code` on `node`. */
export function firing(name: AlertName, code: Code, node: string): ExpAlert {
  const alert = alertSpec(name);
  const annotations = alertAnnotations(alert, code);
  const fill = (text: string) => text.replaceAll("{{ $labels.node }}", node);
  return {
    exp_labels: { node, layer: layerOf(code), code, severity: severityOf(alert, code) },
    exp_annotations: Object.fromEntries(Object.entries(annotations).map(([key, text]) => [key, fill(text)])),
  };
}

const RULE_FILES = ["../clawfleet-alerts.rules.yml"];

/** Per alert: one node per code, failing from t=0; silent a minute before `for`, firing a minute after. */
export function codeTests(): PromtoolFile {
  return {
    rule_files: RULE_FILES,
    evaluation_interval: "1m",
    tests: ALERTS.map((alert) => {
      const minutes = alert.forSeconds / 60;
      const nodeOf = (code: Code) => `node-${code.replaceAll("_", "-")}`;
      const samples = minutes + 3;
      const input_series = codesOf(alert).flatMap((code) =>
        alert.source.kind === "silent"
          ? [nodeState(nodeOf(code), alert.source.state, runs([1, samples]))]
          : [finding(nodeOf(code), code, runs([1, samples])), layerStatus(nodeOf(code), CODES[code].layer, runs([STATUS_RANK[CODES[code].severity], samples]))],
      );
      return {
        name: `${alert.name} fires for each of its codes after ${formatDuration(alert.forSeconds)}, with the taxonomy's action`,
        interval: "1m",
        input_series,
        alert_rule_test: [
          { eval_time: formatDuration((minutes - 1) * 60), alertname: alert.name, exp_alerts: [] },
          { eval_time: formatDuration((minutes + 1) * 60), alertname: alert.name, exp_alerts: codesOf(alert).map((code) => firing(alert.name, code, nodeOf(code))) },
        ],
      };
    }),
  };
}

/** The behaviour the issue asks for, one scenario per test; samples are one minute apart. */
export function behaviourTests(): PromtoolFile {
  const tests: PromtoolTest[] = [
    {
      name: "a gateway restart (down for a minute) does not page",
      interval: "1m",
      input_series: [
        layerStatus("mini-01", "gateway", runs([0, 3], [2, 1], [0, 10])),
        finding("mini-01", "not_running", runs(["_", 3], [1, 1], ["stale", 1], ["_", 10])),
      ],
      alert_rule_test: [{ eval_time: "10m", alertname: "ClawfleetGatewayDown", exp_alerts: [] }],
    },
    {
      // Each code holds for one report only; the alert must not restart its for: at every change.
      name: "a crash-looping gateway pages even though its code changes at every report",
      interval: "1m",
      input_series: [
        layerStatus("mini-14", "gateway", runs([2, 11])),
        finding("mini-14", "not_running", "1 stale 1 stale 1 stale 1 stale 1 stale 1"),
        finding("mini-14", "not_ready", "_ 1 stale 1 stale 1 stale 1 stale 1 stale"),
      ],
      alert_rule_test: [
        { eval_time: "1m", alertname: "ClawfleetGatewayDown", exp_alerts: [] },
        {
          eval_time: "5m",
          alertname: "ClawfleetGatewayDown",
          exp_alerts: [firing("ClawfleetGatewayDown", "not_running", "mini-14"), firing("ClawfleetGatewayDown", "not_ready", "mini-14")],
        },
      ],
    },
    {
      name: "one failed session report (a blip) does not page",
      interval: "1m",
      input_series: [
        layerStatus("mini-01", "session", runs([0, 3], [2, 1], [0, 20])),
        finding("mini-01", "token_mismatch", runs(["_", 3], [1, 1], ["stale", 1], ["_", 19])),
      ],
      alert_rule_test: [
        { eval_time: "5m", alertname: "ClawfleetSessionAuthFailing", exp_alerts: [] },
        { eval_time: "20m", alertname: "ClawfleetSessionAuthFailing", exp_alerts: [] },
      ],
    },
    {
      // Each failure lasts one report, so `for: 2m` alone would never fire.
      name: "intermittent session failures page, and clear once the layer has been stable for the window",
      interval: "1m",
      input_series: [
        layerStatus("mini-02", "session", runs([0, 1], [2, 1], [0, 2], [2, 1], [0, 2], [2, 1], [0, 30])),
        finding("mini-02", "token_mismatch", runs(["_", 1], [1, 1], ["stale", 1], ["_", 1], [1, 1], ["stale", 1], ["_", 1], [1, 1], ["stale", 1], ["_", 29])),
      ],
      alert_rule_test: [
        { eval_time: "3m", alertname: "ClawfleetSessionAuthFailing", exp_alerts: [] },
        { eval_time: "8m", alertname: "ClawfleetSessionAuthFailing", exp_alerts: [firing("ClawfleetSessionAuthFailing", "token_mismatch", "mini-02")] },
        { eval_time: "30m", alertname: "ClawfleetSessionAuthFailing", exp_alerts: [] },
      ],
    },
    {
      name: "an asleep node does not page: no session, provider or tunnel alert from its last report, an asleep ticket instead",
      interval: "1m",
      input_series: [
        nodeState("laptop-01", "failing", runs([1, 2], [0, 20])),
        nodeState("laptop-01", "asleep", runs([0, 2], [1, 20])),
        nodeState("laptop-01", "unreachable", runs([0, 22])),
        ...(["session", "provider", "tunnel"] as const).map((layer) => layerStatus("laptop-01", layer, runs([2, 22]))),
        finding("laptop-01", "token_mismatch", runs([1, 22])),
        finding("laptop-01", "api_key_missing", runs([1, 22])),
        finding("laptop-01", "tailnet_unreachable", runs([1, 22])),
      ],
      alert_rule_test: [
        { eval_time: "15m", alertname: "ClawfleetSessionAuthFailing", exp_alerts: [] },
        { eval_time: "15m", alertname: "ClawfleetProviderCredentialMissing", exp_alerts: [] },
        { eval_time: "15m", alertname: "ClawfleetTunnelDown", exp_alerts: [] },
        { eval_time: "15m", alertname: "ClawfleetNodeUnreachable", exp_alerts: [] },
        { eval_time: "15m", alertname: "ClawfleetNodeAsleep", exp_alerts: [firing("ClawfleetNodeAsleep", "silent_asleep", "laptop-01")] },
      ],
    },
    {
      name: "an unreachable node pages as unreachable, not for the session failure in its last report",
      interval: "1m",
      input_series: [
        nodeState("mini-03", "failing", runs([1, 1], [0, 10])),
        nodeState("mini-03", "asleep", runs([0, 11])),
        nodeState("mini-03", "unreachable", runs([0, 1], [1, 10])),
        layerStatus("mini-03", "session", runs([2, 11])),
        finding("mini-03", "token_mismatch", runs([1, 11])),
      ],
      alert_rule_test: [
        { eval_time: "6m", alertname: "ClawfleetSessionAuthFailing", exp_alerts: [] },
        { eval_time: "6m", alertname: "ClawfleetNodeAsleep", exp_alerts: [] },
        { eval_time: "6m", alertname: "ClawfleetNodeUnreachable", exp_alerts: [firing("ClawfleetNodeUnreachable", "silent_unreachable", "mini-03")] },
      ],
    },
    {
      name: "an agent that reconnects within minutes (a reboot) does not page as unreachable",
      interval: "1m",
      input_series: [nodeState("mini-04", "unreachable", runs([0, 2], [1, 2], [0, 10]))],
      alert_rule_test: [{ eval_time: "10m", alertname: "ClawfleetNodeUnreachable", exp_alerts: [] }],
    },
    {
      name: "a tunnel failure fires the tunnel alert and not the session alert",
      interval: "1m",
      input_series: [
        layerStatus("mini-05", "session", runs([0, 10])),
        layerStatus("mini-05", "tunnel", runs([2, 10])),
        finding("mini-05", "tailnet_unreachable", runs([1, 10])),
      ],
      alert_rule_test: [
        { eval_time: "5m", alertname: "ClawfleetSessionAuthFailing", exp_alerts: [] },
        { eval_time: "5m", alertname: "ClawfleetTunnelDown", exp_alerts: [firing("ClawfleetTunnelDown", "tailnet_unreachable", "mini-05")] },
      ],
    },
    {
      name: "a Tailscale outage pages for its cause, not for each tunnel check it breaks",
      interval: "1m",
      input_series: [
        layerStatus("mini-06", "tunnel", runs([2, 10])),
        finding("mini-06", "tailscale_needs_login", runs([1, 10])),
        finding("mini-06", "serve_not_configured", runs([1, 10])),
        finding("mini-06", "magicdns_unresolved", runs([1, 10])),
        finding("mini-06", "tailnet_unreachable", runs([1, 10])),
      ],
      alert_rule_test: [
        { eval_time: "5m", alertname: "ClawfleetTunnelDown", exp_alerts: [firing("ClawfleetTunnelDown", "tailscale_needs_login", "mini-06")] },
      ],
    },
    {
      name: "a fleet-wide tunnel outage is one alert per node, all in the tunnel layer (Alertmanager groups them into one page)",
      interval: "1m",
      input_series: ["mini-07", "mini-08", "mini-09"].flatMap((node) => [layerStatus(node, "tunnel", runs([2, 10])), finding(node, "tailnet_unreachable", runs([1, 10]))]),
      alert_rule_test: [
        {
          eval_time: "5m",
          alertname: "ClawfleetTunnelDown",
          exp_alerts: ["mini-07", "mini-08", "mini-09"].map((node) => firing("ClawfleetTunnelDown", "tailnet_unreachable", node)),
        },
      ],
    },
    {
      name: "while the gateway is down only the gateway pages, not the session or tunnel checks that depend on it",
      interval: "1m",
      input_series: [
        layerStatus("mini-10", "gateway", runs([2, 10])),
        layerStatus("mini-10", "session", runs([2, 10])),
        layerStatus("mini-10", "tunnel", runs([2, 10])),
        finding("mini-10", "not_ready", runs([1, 10])),
        finding("mini-10", "token_missing", runs([1, 10])),
        finding("mini-10", "tailscale_not_running", runs([1, 10])),
      ],
      alert_rule_test: [
        { eval_time: "5m", alertname: "ClawfleetGatewayDown", exp_alerts: [firing("ClawfleetGatewayDown", "not_ready", "mini-10")] },
        { eval_time: "5m", alertname: "ClawfleetSessionAuthFailing", exp_alerts: [] },
        { eval_time: "5m", alertname: "ClawfleetTunnelDown", exp_alerts: [] },
      ],
    },
    {
      name: "a provider credential that comes back within minutes does not page",
      interval: "1m",
      input_series: [
        layerStatus("mini-11", "provider", runs([2, 3], [0, 11])),
        finding("mini-11", "credential_expired", runs([1, 3], ["stale", 1], ["_", 10])),
      ],
      alert_rule_test: [{ eval_time: "10m", alertname: "ClawfleetProviderCredentialMissing", exp_alerts: [] }],
    },
    {
      name: "drift during a deploy (config edited, applied minutes later) opens no ticket",
      interval: "1m",
      input_series: [
        layerStatus("mini-12", "drift", runs([1, 5], [0, 21])),
        finding("mini-12", "config_not_applied", runs([1, 5], ["stale", 1], ["_", 20])),
      ],
      alert_rule_test: [{ eval_time: "20m", alertname: "ClawfleetDrift", exp_alerts: [] }],
    },
    {
      name: "sleep allowed then disabled within minutes opens no ticket",
      interval: "1m",
      input_series: [
        layerStatus("mini-13", "power", runs([1, 5], [0, 21])),
        finding("mini-13", "sleep_enabled", runs([1, 5], ["stale", 1], ["_", 20])),
      ],
      alert_rule_test: [{ eval_time: "20m", alertname: "ClawfleetSleepEnabled", exp_alerts: [] }],
    },
  ];
  return { rule_files: RULE_FILES, evaluation_interval: "1m", tests };
}

/**
 * The tests for rules generated with a runbook base URL: firing() expects the
 * default (bare repository path) runbook_url; the code label says which section.
 */
export function withRunbookBase(file: PromtoolFile, runbookBaseUrl: string): PromtoolFile {
  const rebased = (test: AlertRuleTest): AlertRuleTest => ({
    ...test,
    exp_alerts: test.exp_alerts.map((exp) => ({
      ...exp,
      exp_annotations: { ...exp.exp_annotations, runbook_url: runbookUrl(test.alertname, exp.exp_labels.code as Code, runbookBaseUrl) },
    })),
  });
  return { ...file, tests: file.tests.map((t) => ({ ...t, alert_rule_test: t.alert_rule_test.map(rebased) })) };
}
