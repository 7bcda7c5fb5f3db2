// Alert annotations from the taxonomy. The action text is the very one the
// agent prints; placeholders Prometheus can fill ({node}) become template
// references, the rest become man-page metavariables (PROVIDER, CONFIG_PATH):
// renderAction's plain words ("the provider") read as nonsense once every
// value is missing ("The the provider credential of agent the agent").
import { CODES, type Code } from "../../shared/taxonomy.ts";
import type { AlertSpec } from "./alert-catalog.ts";
import { formatDuration } from "./durations.ts";
import { runbookUrl } from "./runbooks.ts";

/** What Prometheus knows about a finding: the labels of its series. */
const PROMETHEUS_EVIDENCE: Readonly<Record<string, string>> = { node: "{{ $labels.node }}" };

/** The action annotation of an alert about `code`, as a Prometheus template. */
export function alertAction(code: Code): string {
  return withMetavariables(code, PROMETHEUS_EVIDENCE);
}

/** The same action for a place with no node at hand (a dashboard table). */
export function genericAction(code: Code): string {
  return withMetavariables(code, {});
}

/** Placeholders whose plain upper-case form would read as something else (PATH is the shell's). */
const RENAMED: Readonly<Record<string, string>> = { path: "FILE" };

/** The code's action with `{name}` filled from `known`, else written NAME (camelCase → UPPER_SNAKE). */
export function withMetavariables(code: Code, known: Readonly<Record<string, string>>): string {
  return CODES[code].action.replace(
    /\{(\w+)\}/g,
    (_whole, name: string) => known[name] ?? RENAMED[name] ?? name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase(),
  );
}

export interface Annotations {
  summary: string;
  description: string;
  action: string;
  /** The code's section of the alert's runbook (docs/runbooks/), under the generator's base URL. */
  runbook_url: string;
}

export function alertAnnotations(alert: AlertSpec, code: Code, runbookBaseUrl = ""): Annotations {
  const spec = CODES[code];
  const flap = alert.flapping
    ? ` Fires on a failure held for ${formatDuration(alert.forSeconds)}, or on an intermittent one: ${alert.flapping.minChanges} or more status changes of the ${spec.layer} layer within ${formatDuration(alert.flapping.windowSeconds)}; it then clears once the layer has been stable that long.`
    : "";
  const unknown = [...spec.action.matchAll(/\{(\w+)\}/g)].some(([, name]) => !(name! in PROMETHEUS_EVIDENCE));
  const values = unknown
    ? " Words in capitals in the action stand for this host's values: `clawfleet collector query node {{ $labels.node }}` (or `clawfleet agent check` on the host) prints them."
    : " Details: `clawfleet collector query node {{ $labels.node }}`.";
  return {
    summary: `{{ $labels.node }}: ${spec.title}`,
    description: `${alert.about} Node {{ $labels.node }}, layer ${spec.layer}, code ${code}.${flap}${values}`,
    action: alertAction(code),
    runbook_url: runbookUrl(alert.name, code, runbookBaseUrl),
  };
}
