// Alerts about the monitoring itself: if the collector dies every clawfleet
// series vanishes and no node alert can fire, so Prometheus must say so from
// `up` and the collector's own metrics. Also the one page for a fleet that lost
// most of its nodes at once (instead of one page per node). Kept apart from the
// per-(alert, code) rules: these are about the collector, not a node's finding.
import { formatDuration } from "./durations.ts";

export type CollectorAlertName =
  | "ClawfleetCollectorDown"
  | "ClawfleetCollectorAbsent"
  | "ClawfleetCollectorIngestStalled"
  | "ClawfleetCollectorStoreErrors"
  | "ClawfleetCollectorStoreSlow"
  | "ClawfleetEventLogNearRetention"
  | "ClawfleetFleetMostlyUnreachable";

export interface CollectorAlert {
  name: CollectorAlertName;
  severity: "page" | "ticket";
  forSeconds: number;
  expr: string;
  summary: string;
  /** What it means, how to confirm it, what to do: the runbook section and the description. */
  means: string;
  confirm: string;
  fix: string;
}

/** The scrape job of the example Prometheus config (prometheus-config.ts). */
export const COLLECTOR_JOB = "clawfleet-collector";
/** Share of known nodes unreachable at once that makes it a fleet event, and the fewest nodes that count. */
export const FLEET_LOSS_SHARE = 0.5;
export const FLEET_LOSS_MIN_NODES = 3;

const MIN = 60;

export const COLLECTOR_ALERTS: readonly CollectorAlert[] = [
  {
    name: "ClawfleetCollectorDown",
    severity: "page",
    forSeconds: 2 * MIN,
    expr: `up{job="${COLLECTOR_JOB}"} == 0`,
    summary: "Collector {{ $labels.instance }} does not answer its scrape",
    means: "Prometheus cannot scrape the collector: its process is down or its HTTP listener is unreachable. While it is down no node alert can fire and agents spool their reports.",
    confirm: "`curl -s http://COLLECTOR:9464/healthz`; `systemctl --user status clawfleet-collector` (or `launchctl print gui/$(id -u)/dev.clawfleet.collector`) on its host; its log.",
    fix: "Start it again (`systemctl --user restart clawfleet-collector`); agents resend what they spooled. If it exits at start, its log names the store file or flag at fault.",
  },
  {
    name: "ClawfleetCollectorAbsent",
    severity: "page",
    forSeconds: 5 * MIN,
    expr: `absent(up{job="${COLLECTOR_JOB}"})`,
    summary: "No collector is scraped at all",
    means: "Prometheus has no collector target: the scrape config lost it, or service discovery returns nothing. Nothing about the fleet is watched.",
    confirm: "Prometheus's /targets page for the job; `promtool check config` on its config.",
    fix: "Restore the scrape job (deploy/prometheus/prometheus.example.yml) and reload Prometheus.",
  },
  {
    name: "ClawfleetCollectorIngestStalled",
    severity: "page",
    forSeconds: 5 * MIN,
    expr: `sum by (instance) (clawfleet_collector_streams) > 0\nand on (instance) sum by (instance) (rate(clawfleet_collector_reports_total[5m])) == 0`,
    summary: "Collector {{ $labels.instance }} holds agent streams but stores no reports",
    means: "Agents are connected, yet no report has been stored for five minutes: the collector is wedged (a blocked store, an event loop stuck). Node states go stale while looking connected.",
    confirm: "`clawfleet collector query nodes` shows last-report ages growing; the collector's `clawfleet_collector_event_loop_delay_p99_seconds` and its log.",
    fix: "Restart the collector; if it recurs, keep its log and the store file for the investigation before restarting.",
  },
  {
    name: "ClawfleetCollectorStoreErrors",
    severity: "page",
    forSeconds: 0,
    expr: `sum by (instance) (increase(clawfleet_collector_store_errors_total[5m])) > 0`,
    summary: "Collector {{ $labels.instance }} cannot write reports to its store",
    means: "Writes to the SQLite store fail (disk full, I/O error, permissions): reports are not acknowledged, agents keep spooling them, and the fleet view stops moving.",
    confirm: "`df -h` on the store's filesystem; the collector's log names the store file and the error.",
    fix: "Free space or fix permissions on the store's filesystem; the agents resend every unacknowledged report once writes succeed.",
  },
  {
    name: "ClawfleetCollectorStoreSlow",
    severity: "ticket",
    forSeconds: 15 * MIN,
    expr: `histogram_quantile(0.99, sum by (instance, le) (rate(clawfleet_collector_store_write_seconds_bucket[10m]))) > 0.25`,
    summary: "Collector {{ $labels.instance }} takes over 250 ms to store a report (p99)",
    means: "Storing one report normally takes well under 10 ms: a slow disk, a store grown past its retention, or a host short of CPU delays every acknowledgement.",
    confirm: "The collector's `clawfleet_collector_store_write_seconds` histogram and `clawfleet_collector_event_log_rows`; `iostat` on its host.",
    fix: "Move the store to a faster disk or give the host CPU; check the retention settings keep the event log bounded.",
  },
  {
    name: "ClawfleetEventLogNearRetention",
    severity: "ticket",
    forSeconds: 60 * MIN,
    // Collectors sharing one PostgreSQL store all count the same log: only the leader's count pages (a collector on its own store leads it).
    expr: `max by (instance) (clawfleet_collector_event_log_rows / clawfleet_collector_event_log_max_rows) > 0.9 and on (instance) clawfleet_collector_leader == 1`,
    summary: "Collector {{ $labels.instance }}'s event log is over 90% of its retention bound",
    means: "The event log is near its row bound: the oldest events (sleep history, credential rotations) are about to be pruned by count rather than by age, so history gets shorter than the retention window promises.",
    confirm: "`clawfleet_collector_event_log_rows` against `clawfleet_collector_event_log_max_rows`; `clawfleet collector query events` for which nodes write the most.",
    fix: "Find the node flapping or rotating credentials in a loop (it writes most events) and fix it; raise the bound only if the fleet really grew.",
  },
  {
    name: "ClawfleetFleetMostlyUnreachable",
    severity: "page",
    // A minute shorter than ClawfleetNodeUnreachable's 3m: the inhibition it carries only holds back
    // per-node pages that have not gone out yet, so the fleet page must fire first.
    forSeconds: 2 * MIN,
    expr: `count(clawfleet_node_state{state="unreachable"} == 1) > ${FLEET_LOSS_SHARE} * count(clawfleet_node_state{state="unreachable"})\nand count(clawfleet_node_state{state="unreachable"} == 1) >= ${FLEET_LOSS_MIN_NODES}`,
    summary: "Most of the fleet is unreachable at once",
    means: "More than half of the known nodes stopped reporting together: not each Mac's own fault but something they share (the collector's network, the tailnet, a site's power). One page instead of one per node; the per-node unreachable alerts are held back while it fires.",
    confirm: "`clawfleet collector query nodes --state unreachable`; `tailscale status` on the collector's host; whether the collector's own network path changed.",
    fix: "Restore what the nodes share (the collector host's tailnet connection, the site's network or power); nodes report again on their own.",
  },
];

export interface CollectorRuleOptions {
  runbookBaseUrl?: string;
  /** Override `for:` per alert: only the end-to-end tests, to run the same expressions in seconds. */
  forSeconds?: Partial<Record<CollectorAlertName, number>>;
}

export function collectorRuleGroups(options: CollectorRuleOptions = {}) {
  return {
    groups: [
      {
        name: "ClawfleetCollector",
        rules: COLLECTOR_ALERTS.map((a) => ({ ...a, forSeconds: options.forSeconds?.[a.name] ?? a.forSeconds })).map((a) => ({
          alert: a.name,
          expr: `${a.expr}\n`,
          ...(a.forSeconds > 0 ? { for: formatDuration(a.forSeconds) } : {}),
          labels: { severity: a.severity, layer: "collector" },
          annotations: {
            summary: a.summary,
            description: a.means,
            action: a.fix,
            runbook_url: `${options.runbookBaseUrl ?? ""}${collectorRunbookPath}#${a.name.toLowerCase()}`,
          },
        })),
      },
    ],
  };
}

export const collectorRunbookPath = "docs/runbooks/ClawfleetCollector.md";

/** One runbook for the collector's own alerts, a section per alert (its anchor is the lowercased name). */
export function collectorRunbook(): string {
  const sections = COLLECTOR_ALERTS.map((a) =>
    [
      `## ${a.name}`,
      "",
      `${a.severity === "page" ? "Pages" : "Opens a ticket"}${a.forSeconds > 0 ? ` after ${formatDuration(a.forSeconds)}` : " at once"}. ${a.means}`,
      "",
      `**Confirm:** ${a.confirm}`,
      "",
      `**Fix:** ${a.fix}`,
      "",
      `**Escalate:** if it still fires ${a.forSeconds > 0 ? formatDuration(a.forSeconds) : "15m"} after the fix, hand it to whoever runs the collector's host (fleet on-call).`,
    ].join("\n"),
  );
  return `<!-- Generated by deploy/generate/collector-alerts.ts: edit there, then npm run generate:deploy. -->\n# The collector's own alerts\n\nThe rules in deploy/prometheus/clawfleet-collector.rules.yml watch the monitoring itself: without them a dead collector would look like a quiet fleet.\n\n${sections.join("\n\n")}\n`;
}

// --- promtool unit tests: each alert fires when it should, and a case where it must not ---

const SCRAPE = `job="${COLLECTOR_JOB}",instance="collector:9464"`;

function expected(name: CollectorAlertName, labels: Record<string, string>, runbookBaseUrl = "") {
  const a = COLLECTOR_ALERTS.find((x) => x.name === name)!;
  const rule = collectorRuleGroups({ runbookBaseUrl }).groups[0]!.rules.find((r) => r.alert === name)!;
  const fill = (text: string) => text.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, key: string) => labels[key] ?? "");
  return {
    exp_labels: { ...labels, severity: a.severity, layer: "collector" },
    exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, fill(v)])),
  };
}

export function collectorTests(runbookBaseUrl = "") {
  const at = { job: COLLECTOR_JOB, instance: "collector:9464" };
  const node = (id: string, unreachable: boolean) => ({ series: `clawfleet_node_state{${SCRAPE},node="${id}",state="unreachable"}`, values: `${unreachable ? 1 : 0}x10` });
  return {
    rule_files: ["../clawfleet-collector.rules.yml"],
    evaluation_interval: "1m",
    tests: [
      {
        name: "a collector that stops answering pages after 2m, not before",
        interval: "1m",
        input_series: [{ series: `up{${SCRAPE}}`, values: "1 0 0 0 0 0" }],
        alert_rule_test: [
          { eval_time: "2m", alertname: "ClawfleetCollectorDown", exp_alerts: [] },
          { eval_time: "4m", alertname: "ClawfleetCollectorDown", exp_alerts: [expected("ClawfleetCollectorDown", at, runbookBaseUrl)] },
        ],
      },
      {
        name: "no collector target at all pages after 5m; a scraped one does not",
        interval: "1m",
        input_series: [{ series: `up{job="node",instance="other:9100"}`, values: "1x10" }],
        alert_rule_test: [{ eval_time: "7m", alertname: "ClawfleetCollectorAbsent", exp_alerts: [expected("ClawfleetCollectorAbsent", { job: COLLECTOR_JOB }, runbookBaseUrl)] }],
      },
      {
        name: "open streams with no stored report for 5m page; reports flowing do not",
        interval: "1m",
        input_series: [
          { series: `clawfleet_collector_streams{${SCRAPE}}`, values: "3x20" },
          { series: `clawfleet_collector_reports_total{${SCRAPE},outcome="stored"}`, values: "0+6x5 30x14" },
        ],
        alert_rule_test: [
          { eval_time: "5m", alertname: "ClawfleetCollectorIngestStalled", exp_alerts: [] },
          { eval_time: "16m", alertname: "ClawfleetCollectorIngestStalled", exp_alerts: [expected("ClawfleetCollectorIngestStalled", { instance: "collector:9464" }, runbookBaseUrl)] },
        ],
      },
      {
        name: "a failed store write pages at once; none does not",
        interval: "1m",
        input_series: [{ series: `clawfleet_collector_store_errors_total{${SCRAPE}}`, values: "0 0 0 1 1 1" }],
        alert_rule_test: [
          { eval_time: "2m", alertname: "ClawfleetCollectorStoreErrors", exp_alerts: [] },
          { eval_time: "4m", alertname: "ClawfleetCollectorStoreErrors", exp_alerts: [expected("ClawfleetCollectorStoreErrors", { instance: "collector:9464" }, runbookBaseUrl)] },
        ],
      },
      {
        name: "store writes slower than 250 ms at p99 for 15m open a ticket",
        interval: "1m",
        input_series: [
          { series: `clawfleet_collector_store_write_seconds_bucket{${SCRAPE},le="0.25"}`, values: "0x40" },
          { series: `clawfleet_collector_store_write_seconds_bucket{${SCRAPE},le="1"}`, values: "0+10x40" },
          { series: `clawfleet_collector_store_write_seconds_bucket{${SCRAPE},le="+Inf"}`, values: "0+10x40" },
        ],
        alert_rule_test: [
          { eval_time: "10m", alertname: "ClawfleetCollectorStoreSlow", exp_alerts: [] },
          { eval_time: "30m", alertname: "ClawfleetCollectorStoreSlow", exp_alerts: [expected("ClawfleetCollectorStoreSlow", { instance: "collector:9464" }, runbookBaseUrl)] },
        ],
      },
      {
        name: "an event log past 90% of its bound for an hour opens a ticket; at 80% it does not",
        interval: "1m",
        input_series: [
          { series: `clawfleet_collector_event_log_rows{${SCRAPE}}`, values: "950000x80" },
          { series: `clawfleet_collector_event_log_max_rows{${SCRAPE}}`, values: "1000000x80" },
          { series: `clawfleet_collector_event_log_rows{job="${COLLECTOR_JOB}",instance="other:9464"}`, values: "800000x80" },
          { series: `clawfleet_collector_event_log_max_rows{job="${COLLECTOR_JOB}",instance="other:9464"}`, values: "1000000x80" },
          { series: `clawfleet_collector_leader{${SCRAPE}}`, values: "1x80" },
          { series: `clawfleet_collector_leader{job="${COLLECTOR_JOB}",instance="other:9464"}`, values: "1x80" },
        ],
        alert_rule_test: [
          { eval_time: "30m", alertname: "ClawfleetEventLogNearRetention", exp_alerts: [] },
          { eval_time: "70m", alertname: "ClawfleetEventLogNearRetention", exp_alerts: [expected("ClawfleetEventLogNearRetention", { instance: "collector:9464" }, runbookBaseUrl)] },
        ],
      },
      {
        name: "three collectors sharing one store count the same full log: one ticket, the leader's",
        interval: "1m",
        input_series: ["c1", "c2", "c3"].flatMap((c, i) => [
          { series: `clawfleet_collector_event_log_rows{job="${COLLECTOR_JOB}",instance="${c}:9464"}`, values: "950000x80" },
          { series: `clawfleet_collector_event_log_max_rows{job="${COLLECTOR_JOB}",instance="${c}:9464"}`, values: "1000000x80" },
          { series: `clawfleet_collector_leader{job="${COLLECTOR_JOB}",instance="${c}:9464"}`, values: i === 1 ? "1x80" : "0x80" },
        ]),
        alert_rule_test: [
          { eval_time: "70m", alertname: "ClawfleetEventLogNearRetention", exp_alerts: [expected("ClawfleetEventLogNearRetention", { instance: "c2:9464" }, runbookBaseUrl)] },
        ],
      },
      {
        name: "three of four nodes unreachable at once is one page, after 2m",
        interval: "1m",
        input_series: [node("mini-01", true), node("mini-02", true), node("mini-03", true), node("mini-04", false)],
        alert_rule_test: [
          { eval_time: "1m", alertname: "ClawfleetFleetMostlyUnreachable", exp_alerts: [] },
          { eval_time: "5m", alertname: "ClawfleetFleetMostlyUnreachable", exp_alerts: [expected("ClawfleetFleetMostlyUnreachable", {}, runbookBaseUrl)] },
        ],
      },
      {
        name: "one node of four unreachable is that node's own page, not a fleet event",
        interval: "1m",
        input_series: [node("mini-01", true), node("mini-02", false), node("mini-03", false), node("mini-04", false)],
        alert_rule_test: [{ eval_time: "5m", alertname: "ClawfleetFleetMostlyUnreachable", exp_alerts: [] }],
      },
    ],
  };
}
