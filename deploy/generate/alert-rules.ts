// Prometheus alerting rules from the alert catalog and the taxonomy: one rule
// per (alert, code), so each carries the action for its own code; rules of one
// alert share its name and group.
import { CODES, type Code, type Layer } from "../../shared/taxonomy.ts";
import { ALERTS, layerOf, severityOf, type AlertName, type AlertSpec } from "./alert-catalog.ts";
import { alertAnnotations, type Annotations } from "./alert-text.ts";
import { formatDuration } from "./durations.ts";

export interface AlertRule {
  alert: AlertName;
  expr: string;
  for: string;
  labels: { severity: string; layer: Layer; code: Code };
  annotations: Annotations;
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

export interface RuleOptions {
  /**
   * Override `for:` per alert. Only the end-to-end test uses it, to run the
   * very same expressions in seconds instead of minutes.
   */
  forSeconds?: Partial<Record<AlertName, number>>;
  /** Prefix of the runbook_url annotations (see runbooks.ts); default the bare repository path. */
  runbookBaseUrl?: string;
}

export function alertRuleGroups(options: RuleOptions = {}): { groups: RuleGroup[] } {
  return {
    groups: ALERTS.map((alert) => ({
      name: alert.name,
      rules: codesOf(alert).map((code) => ({
        alert: alert.name,
        expr: expression(alert, code, forSecondsOf(alert, options)),
        for: formatDuration(forSecondsOf(alert, options)),
        labels: { severity: severityOf(alert, code), layer: layerOf(code), code },
        annotations: alertAnnotations(alert, code, options.runbookBaseUrl),
      })),
    })),
  };
}

function forSecondsOf(alert: AlertSpec, options: RuleOptions): number {
  return options.forSeconds?.[alert.name] ?? alert.forSeconds;
}

export function codesOf(alert: AlertSpec): readonly Code[] {
  return alert.source.kind === "finding" ? alert.source.codes : [alert.source.code];
}

/** Silent nodes keep their last report's findings in the metrics; these are stale. */
const SILENT = 'max by (node) (clawfleet_node_state{state=~"asleep|unreachable"}) == 1';

function expression(alert: AlertSpec, code: Code, forSeconds: number): string {
  if (alert.source.kind === "silent") {
    return `max by (node) (clawfleet_node_state{state="${alert.source.state}"}) == 1\n`;
  }
  const layer = CODES[code].layer;
  const finding = `clawfleet_finding{layer="${layer}", code="${code}"}`;
  const held = formatDuration(forSeconds);
  // `for:` counts per alert, and the code is part of the alert: a gateway
  // crash-looping through not_running, not_listening and not_ready would reset
  // it at every change and never page. So a code stays active while it was
  // seen within the for: window and its layer is still failing.
  const sticky = [
    `max by (node, layer, code) (max_over_time(${finding}[${held}])) == 1`,
    `and on (node) max by (node) (clawfleet_layer_status{layer="${layer}"}) > 0`,
  ];
  const lines: string[] = [];
  if (alert.flapping) {
    const { windowSeconds, minChanges, minFailedScrapes } = alert.flapping;
    const window = formatDuration(windowSeconds);
    lines.push(
      "(",
      "  (",
      ...sticky.map((line) => `    ${line}`),
      "  )",
      "  or",
      `  # intermittent: failed in ${minFailedScrapes}+ scrapes and the layer changed status ${minChanges}+ times in ${window}`,
      "  (",
      `      max by (node, layer, code) (count_over_time(${finding}[${window}])) >= ${minFailedScrapes}`,
      "    and on (node)",
      `      max by (node) (changes(clawfleet_layer_status{layer="${layer}"}[${window}])) >= ${minChanges}`,
      "  )",
      ")",
    );
  } else {
    lines.push(...sticky);
  }
  if (alert.quietWhileSilent) {
    lines.push("# stale: the node is asleep or unreachable (that alert speaks for it)", `unless on (node) ${SILENT}`);
  }
  lines.push(...dependencyClauses(alert, code));
  return lines.join("\n") + "\n";
}

/**
 * The taxonomy's dependsOn as `unless` clauses: a consequence of another
 * failure on the same node stays quiet, so the page names the cause. A page is
 * quieted only by a cause that pages too: a down gateway whose cause is a
 * ticket-level finding (a drift code, say) must still wake someone.
 */
function dependencyClauses(alert: AlertSpec, code: Code): string[] {
  const dependsOn = (CODES[code] as { dependsOn?: readonly string[] }).dependsOn ?? [];
  const layers = dependsOn.filter((d) => d.startsWith("layer:")).map((d) => d.slice("layer:".length));
  const pages = severityOf(alert, code) === "page";
  const codes = dependsOn.filter((d) => !d.startsWith("layer:")).filter((d) => !pages || pagingSeverity(d as Code) === "page");
  const clauses: string[] = [];
  for (const layer of layers) {
    clauses.push(`# a consequence of the ${layer} layer failing`, `unless on (node) max by (node) (clawfleet_layer_status{layer="${layer}"}) == 2`);
  }
  if (codes.length > 0) {
    clauses.push(`# a consequence of ${codes.join(", ")}`, `unless on (node) max by (node) (clawfleet_finding{code=~"${codes.join("|")}"}) == 1`);
  }
  return clauses;
}

/** How loud a code's own alert is; a code no alert covers never pages. */
function pagingSeverity(code: Code): "page" | "ticket" {
  const alert = ALERTS.find((a) => a.source.kind === "finding" && a.source.codes.includes(code));
  return alert ? severityOf(alert, code) : "ticket";
}
