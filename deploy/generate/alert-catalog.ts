// The eight alerts (deploy/README.md lists them) as data: what each one watches, how urgent it
// is and how long a condition must hold. Everything operator-facing (labels,
// action text, dependencies between codes) comes from shared/taxonomy.ts; this
// table only adds what the taxonomy cannot know: paging policy and timing.
import { CODES, type Code, type Layer } from "../../shared/taxonomy.ts";

export const ALERT_NAMES = [
  "ClawfleetGatewayDown",
  "ClawfleetSessionAuthFailing",
  "ClawfleetProviderCredentialMissing",
  "ClawfleetTunnelDown",
  "ClawfleetNodeUnreachable",
  "ClawfleetNodeAsleep",
  "ClawfleetDrift",
  "ClawfleetSleepEnabled",
] as const;
export type AlertName = (typeof ALERT_NAMES)[number];

/** page: wake someone. ticket: someone looks during working hours. */
export type Severity = "page" | "ticket";

export interface FlapDetection {
  windowSeconds: number;
  /** Status changes of the layer within the window (ok→fail→ok→fail is 3). */
  minChanges: number;
  /** Scrapes within the window in which this code was active. */
  minFailedScrapes: number;
}

export interface AlertSpec {
  name: AlertName;
  /** Why this alert exists, in one sentence; opens every description. */
  about: string;
  severity: Severity;
  forSeconds: number;
  /** Active findings of these codes fire the alert, one rule per code. */
  source: { kind: "finding"; codes: readonly Code[] } | { kind: "silent"; state: "asleep" | "unreachable"; code: Code };
  /**
   * Rule-level quiet while the node is silent: its last report is stale, and a
   * sleeping or cut-off node looks like a session, provider or tunnel failure
   * from outside. (Alertmanager inhibits the rest; see alertmanager-config.ts.)
   */
  quietWhileSilent: boolean;
  flapping?: FlapDetection;
}

export function codesOfLayer(layer: Layer): Code[] {
  return (Object.keys(CODES) as Code[]).filter((code) => CODES[code].layer === layer && !COLLECTOR_CODES.has(code));
}

/** Codes the collector raises about silent nodes: they have alerts of their own. */
const COLLECTOR_CODES: ReadonlySet<Code> = new Set(["silent_asleep", "silent_unreachable"]);

const MIN = 60;

export const ALERTS: readonly AlertSpec[] = [
  {
    name: "ClawfleetGatewayDown",
    about: "The OpenClaw gateway on this node does not serve on 127.0.0.1, so every client fails whatever its token.",
    severity: "page",
    // A restart or an update takes well under a minute; do not page for one.
    forSeconds: 2 * MIN,
    source: { kind: "finding", codes: codesOfLayer("gateway") },
    quietWhileSilent: false,
  },
  {
    name: "ClawfleetSessionAuthFailing",
    about: "The gateway refuses the token clients on this node send, on loopback: this is the gateway's own auth (session layer), not the tunnel.",
    severity: "page",
    forSeconds: 2 * MIN,
    source: { kind: "finding", codes: codesOfLayer("session") },
    quietWhileSilent: true,
    // "Flaky success" is the classic symptom of a token rotated in one place
    // only: a failure that comes and goes never holds for `for`, so it is
    // caught by counting status changes over a window instead.
    flapping: { windowSeconds: 15 * MIN, minChanges: 3, minFailedScrapes: 2 },
  },
  {
    name: "ClawfleetProviderCredentialMissing",
    about: "The gateway is fine, but the agent identity that runs the model has no usable credential for its provider.",
    severity: "page",
    forSeconds: 5 * MIN,
    source: { kind: "finding", codes: codesOfLayer("provider") },
    quietWhileSilent: true,
  },
  {
    name: "ClawfleetTunnelDown",
    about: "The gateway works on 127.0.0.1 but not over the tailnet: loopback good and remote bad is the tunnel, never the token.",
    severity: "page",
    // Tailscale re-establishes a path within a minute or two after a network change.
    forSeconds: 3 * MIN,
    source: { kind: "finding", codes: codesOfLayer("tunnel") },
    quietWhileSilent: true,
  },
  {
    name: "ClawfleetNodeUnreachable",
    about: "The node's agent stopped reporting and the node is not allowed to sleep: power or network.",
    severity: "page",
    // A reboot (OS update) brings the agent back within a few minutes.
    forSeconds: 3 * MIN,
    source: { kind: "silent", state: "unreachable", code: "silent_unreachable" },
    quietWhileSilent: false,
  },
  {
    name: "ClawfleetNodeAsleep",
    about: "The node's agent stopped reporting and its last reports said the host may sleep: a ticket to disable sleep, not a page.",
    severity: "ticket",
    forSeconds: 10 * MIN,
    source: { kind: "silent", state: "asleep", code: "silent_asleep" },
    quietWhileSilent: false,
  },
  {
    name: "ClawfleetDrift",
    about: "The CLI in a shell and the gateway service see different worlds (binary, version, environment, config or token): the cause of flaky success.",
    severity: "ticket",
    forSeconds: 15 * MIN,
    source: { kind: "finding", codes: codesOfLayer("drift") },
    quietWhileSilent: false,
  },
  {
    name: "ClawfleetSleepEnabled",
    about: "This fleet host is allowed to sleep; a sleeping host drops its tunnel and looks like an auth failure from outside.",
    severity: "ticket",
    forSeconds: 15 * MIN,
    source: { kind: "finding", codes: ["sleep_enabled"] },
    quietWhileSilent: false,
  },
];

/**
 * A code's alert severity: a warn-level code never wakes anyone, whatever its
 * alert (rate_limited is a ticket, token_mismatch a page).
 */
export function severityOf(alert: AlertSpec, code: Code): Severity {
  return alert.severity === "page" && CODES[code].severity === "fail" ? "page" : "ticket";
}

/** Layer label of an alert about `code` (the taxonomy's, e.g. fleet for silent_unreachable). */
export function layerOf(code: Code): Layer {
  return CODES[code].layer;
}

/** Every code some alert covers; the rest are dashboard-only for now. */
export function alertedCodes(): Set<Code> {
  return new Set(ALERTS.flatMap((a) => (a.source.kind === "finding" ? a.source.codes : [a.source.code])));
}
