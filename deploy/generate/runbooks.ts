// The on-call runbooks, one per alert, generated from the alert catalog, the
// taxonomy and the Alertmanager routes: what a page means, how to confirm it
// from a terminal, what to do per code and whom to hand it to. Each code's
// section heading is the code itself, so `#<code>` is its anchor (the rules'
// runbook_url points there).
import { CODES, renderAction, type Code, type Layer } from "../../shared/taxonomy.ts";
import { ALERTS, severityOf, type AlertName, type AlertSpec } from "./alert-catalog.ts";
import { codesOf } from "./alert-rules.ts";
import { alertmanagerConfig, PLACEHOLDER_WEBHOOK, type Receiver } from "./alertmanager-config.ts";
import { formatDuration } from "./durations.ts";

export const RUNBOOK_DIR = "docs/runbooks";

export function runbookPath(alert: AlertName): string {
  return `${RUNBOOK_DIR}/${alert}.md`;
}

/**
 * Where the rules' runbook_url points: the runbook's repository path under
 * `baseUrl` (empty: the bare repository path), anchored at the code's section.
 */
export function runbookUrl(alert: AlertName, code: Code, baseUrl = ""): string {
  const base = baseUrl === "" || baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`;
  return `${base}${runbookPath(alert)}#${code}`;
}

/** Who a receiver is, in the words of the person deciding whom to call. */
/** Codes about a credential (every session and provider code, and a token drifted, shared, exposed or rotated with another): their runbooks point at the tokens ticket. */
const CREDENTIAL_LAYERS: ReadonlySet<Layer> = new Set(["session", "provider"]);
const CREDENTIAL_CODES: ReadonlySet<Code> = new Set(["token_drift", "credentials_exposed", "token_shared", "simultaneous_rotation"]);
export const isCredentialCode = (code: Code) => CREDENTIAL_LAYERS.has(CODES[code].layer) || CREDENTIAL_CODES.has(code);

const RECEIVER_OWNERS: Readonly<Record<Receiver, string>> = {
  "fleet-oncall": "fleet on-call",
  "network-owners": "the network owners (tailnet, Tailscale, proxies)",
  "gateway-owners": "the gateway owners (OpenClaw config, service, credentials)",
  tickets: "the ticket queue, worked in working hours by whoever owns the host",
};

/** The receiver Alertmanager routes a layer's alerts to, read from the generated config so the two cannot disagree. */
export function receiverOf(layer: Layer): Receiver {
  const { route } = alertmanagerConfig({ webhookUrl: PLACEHOLDER_WEBHOOK });
  const matches = (matcher: string) => {
    const [, op, value] = /^layer(=~|=)"(.*)"$/.exec(matcher) ?? [];
    return op === "=" ? value === layer : op === "=~" ? new RegExp(`^(?:${value})$`).test(layer) : false;
  };
  return (route.routes.find((r) => r.matchers.every(matches))?.receiver ?? route.receiver) as Receiver;
}

/** The alert whose rules cover `code`, if any. */
function alertCovering(code: Code): AlertSpec | undefined {
  return ALERTS.find((alert) => codesOf(alert).includes(code));
}

function dependsOnOf(code: Code): readonly string[] {
  return (CODES[code] as { dependsOn?: readonly string[] }).dependsOn ?? [];
}

/** Evidence keys a code's finding carries: the placeholders of its action. */
function evidenceKeys(code: Code): string[] {
  return [...new Set([...CODES[code].action.matchAll(/\{(\w+)\}/g)].map(([, name]) => name!))];
}

/** A cause as a link to where it is handled (a runbook section when an alert covers it). */
function causeLink(cause: string, from: AlertName): string {
  if (cause.startsWith("layer:")) {
    const layer = cause.slice("layer:".length) as Layer;
    const alert = ALERTS.find((a) => a.source.kind === "finding" && a.source.codes.some((c) => CODES[c].layer === layer));
    return alert ? `the ${layer} layer failing ([${alert.name}](${relativeLink(from, alert.name)}))` : `the ${layer} layer failing`;
  }
  const code = cause as Code;
  const alert = alertCovering(code);
  const target = alert ? relativeLink(from, alert.name, code) : undefined;
  return target ? `[\`${code}\`](${target}) (${CODES[code].title})` : `\`${code}\` (${CODES[code].title}; no alert, see \`clawfleet agent check\`)`;
}

function relativeLink(from: AlertName, to: AlertName, code?: Code): string {
  const file = from === to ? "" : `${to}.md`;
  return code ? `${file}#${code}` : file;
}

function codeSection(alert: AlertSpec, code: Code): string[] {
  const spec = CODES[code];
  const keys = evidenceKeys(code);
  const causes = dependsOnOf(code);
  const lines = [
    `### ${code}`,
    "",
    `**${spec.title}.** Layer ${spec.layer}, finding status ${spec.severity}, alert severity ${severityOf(alert, code)}.`,
    "",
    `Action: ${renderAction(code, {})}`,
    "",
  ];
  // Collector-side codes (silent nodes) have no agent finding to look into.
  if (keys.length > 0 && alert.source.kind === "finding") {
    lines.push(`Evidence to look at: ${keys.map((k) => `\`${k}\``).join(", ")}, under the finding in \`clawfleet agent check --verbose\` on the host (or \`clawfleet collector query node NODE --json\`, \`all_findings\`). The alert's \`action\` annotation stands in for them with capitalised placeholders such as CONFIG_PATH.`, "");
  }
  if (causes.length > 0) {
    lines.push(
      "A consequence of the following; if one of them is present on the node, fix it first: the agent prints this code as \"a consequence of\" it.",
      "",
      ...causes.map((cause) => `- ${causeLink(cause, alert.name)}`),
      "",
    );
  }
  return lines;
}

function escalation(alert: AlertSpec): string[] {
  const held = formatDuration(alert.forSeconds);
  const receivers = [...new Set(codesOf(alert).map((code) => receiverOf(CODES[code].layer)))];
  const pages = codesOf(alert).filter((code) => severityOf(alert, code) === "page");
  const tickets = codesOf(alert).filter((code) => severityOf(alert, code) === "ticket");
  const lines = ["## When to escalate", ""];
  if (pages.length > 0) {
    lines.push(`Pages for ${pages.map((c) => `\`${c}\``).join(", ")}.${tickets.length > 0 ? ` Tickets (no one is woken) for ${tickets.map((c) => `\`${c}\``).join(", ")}: warn-level codes never page.` : ""}`, "");
  } else {
    lines.push("A ticket: no one is woken. Work it in working hours.", "");
  }
  lines.push(
    `The alert resolves once the node's reports no longer carry the code. If it still fires ${held} (its \`for:\`) after the action was applied, or the action does not apply to this host, hand it to:`,
    "",
    ...receivers.map((r) => `- ${RECEIVER_OWNERS[r]} (Alertmanager receiver \`${r}\`)`),
    "",
    alert.source.kind === "silent"
      ? "Hand over the output of `clawfleet collector query node NODE` and of `tailscale ping NODE` from a peer, and what you tried."
      : "Hand over the change ticket (the `clawfleet agent check --ticket` taken before the change, and one after), the output of `clawfleet collector query node NODE`, and what you changed.",
  );
  return lines;
}

function confirm(alert: AlertSpec): string[] {
  const lines = [
    "## Confirm from the terminal",
    "",
    "NODE is the alert's `node` label; the `code` label names the section below.",
    "",
    "From a machine that reaches the collector, its latest report of the node (verdict, primary finding, every finding with its evidence):",
    "",
    "```sh",
    "clawfleet collector query node NODE",
    "```",
    "",
  ];
  if (alert.source.kind === "silent") {
    lines.push(
      "The node itself is not reporting, so there is nothing to run on it until it is back; from a peer on the tailnet:",
      "",
      "```sh",
      "tailscale ping NODE",
      "```",
      "",
      "Once it answers, on the host:",
      "",
    );
  } else {
    lines.push("On the host, the checks run once, now, with what each one verified:", "");
  }
  lines.push(
    "```sh",
    "clawfleet agent check --verbose",
    "```",
    "",
    "The primary finding is the root cause by the taxonomy's dependencies; if it is a code of another alert, follow that runbook first.",
    "",
    "Before changing anything, freeze the state into the change ticket (versions, binary and config paths, the service's variable names, the gateway's last fatal lines, credential fingerprints, and a change plan with rotation window, blast radius and rollback point):",
    "",
    "```sh",
    "clawfleet agent check --ticket > ticket.md",
    "```",
    "",
    ...(codesOf(alert).some(isCredentialCode)
      ? ["Before rotating a credential, where else it is used, when it last changed and what to roll back to (change one credential at a time):", "", "```sh", "clawfleet collector query tokens --ticket", "```", ""]
      : []),
  );
  return lines;
}

function facts(alert: AlertSpec): string[] {
  const severities = [...new Set(codesOf(alert).map((code) => severityOf(alert, code)))];
  const lines = [
    `- Severity: ${severities.join(" or ")} (a code's severity is in its section below)`,
    `- \`for:\` ${formatDuration(alert.forSeconds)}`,
    `- Routed to: ${[...new Set(codesOf(alert).map((code) => `\`${receiverOf(CODES[code].layer)}\``))].join(", ")}`,
  ];
  if (alert.flapping) {
    const { windowSeconds, minChanges, minFailedScrapes } = alert.flapping;
    lines.push(`- Also fires on an intermittent failure: failing in ${minFailedScrapes} or more scrapes and ${minChanges} or more status changes of the layer within ${formatDuration(windowSeconds)}.`);
  }
  if (alert.quietWhileSilent) {
    lines.push("- Quiet while the node is asleep or unreachable: its last report is stale, and ClawfleetNodeAsleep or ClawfleetNodeUnreachable speaks for it.");
  }
  return lines;
}

export function runbook(alert: AlertSpec, header: string): string {
  const lines = [
    `<!-- ${header} -->`,
    "",
    `# ${alert.name}`,
    "",
    alert.about,
    "",
    ...facts(alert),
    "",
    ...confirm(alert),
    "## Codes",
    "",
    ...codesOf(alert).flatMap((code) => codeSection(alert, code)),
    ...escalation(alert),
  ];
  return lines.join("\n") + "\n";
}

export function runbookIndex(header: string): string {
  const lines = [
    `<!-- ${header} -->`,
    "",
    "# Runbooks",
    "",
    "One per clawfleet alert. Every alert rule's `runbook_url` annotation points at the section of its code, e.g.",
    `\`${runbookUrl("ClawfleetGatewayDown", "not_running")}\`.`,
    "",
    "The URL is the repository path by default. To make it a link your pager can open, regenerate with a base URL:",
    "",
    "```sh",
    "npm run generate:deploy -- --runbook-base-url https://github.com/OWNER/clawfleet/blob/main/",
    "```",
    "",
    "(The committed files use the default; the generated-files test then reports them as changed, which is expected in a deployment's fork.)",
    "",
    "| Alert | Severity | for: | Codes |",
    "|---|---|---|---|",
    ...ALERTS.map((alert) => {
      const severities = [...new Set(codesOf(alert).map((code) => severityOf(alert, code)))].join(", ");
      return `| [${alert.name}](${alert.name}.md) | ${severities} | ${formatDuration(alert.forSeconds)} | ${codesOf(alert).map((c) => `\`${c}\``).join(", ")} |`;
    }),
  ];
  return lines.join("\n") + "\n";
}

export function runbookFiles(header: string): { path: string; content: string }[] {
  return [
    { path: `${RUNBOOK_DIR}/README.md`, content: runbookIndex(header) },
    ...ALERTS.map((alert) => ({ path: runbookPath(alert.name), content: runbook(alert, header) })),
  ];
}
