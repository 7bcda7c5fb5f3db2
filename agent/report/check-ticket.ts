// `agent check --ticket`: the runbook's "freeze the state first" as one
// Markdown block to paste into a change ticket, built from the run's own
// findings and observations (nothing is read again). Every value that came
// from the host sits in a code span or fenced block it cannot break out of
// (shared/markdown.ts); secrets appear only as the run's fingerprints.
import type { Fingerprinter } from "../../shared/fingerprint.ts";
import type { Finding } from "../../shared/finding.ts";
import { fenced, inlineCode } from "../../shared/markdown.ts";
import { CODES } from "../../shared/taxonomy.ts";
import type { CredentialRecord } from "../checks/check.ts";
import { observedIn, type CheckRun } from "../checks/run-checks.ts";
import { LOOP_BREAKER_TEXT, matchFatalLine, START_FAILURE_TEXT } from "../discovery/gateway-fatal-lines.ts";
import type { ServiceDefinition } from "../discovery/gateway-service.ts";
import type { NodeInfo } from "../discovery/node-identity.ts";
import type { OpenClawBinary } from "../discovery/openclaw-installs.ts";
import type { OpenClawWorld } from "../discovery/openclaw-world.ts";
import { isSecretName, looksLikeCredential } from "../discovery/secret-shapes.ts";
import { gatewayEnvironment } from "../observations/gateway-environment.ts";
import { gatewayLog, type LogLine } from "../observations/gateway-log.ts";
import { serviceDiscovery } from "../observations/gateway-services.ts";
import { portOwner } from "../observations/host-gateway.ts";
import { openclawBinaries } from "../observations/openclaw-binaries.ts";
import { hostFacts } from "./host-facts.ts";

/** The last fatal lines quoted: the refusal and what led up to it, not the whole tail. */
export const TICKET_FATAL_LINES = 5;

export interface TicketInput {
  node: NodeInfo;
  run: CheckRun;
  world: Pick<OpenClawWorld, "stateDir" | "config" | "port" | "portSource">;
  /** The account the agent ran as (the service may run as another). */
  user: { name: string; uid?: number };
  agentVersion: string;
  /** For a secret on the service's command line (`--token …`), shown as the run shows every secret. */
  fingerprint: Fingerprinter;
}

export function checkTicket(input: TicketInput): string {
  const { run } = input;
  const sections = [
    heading(input),
    stateSection(input),
    verdictSection(run),
    findingsSection(run.findings),
    fatalLinesSection(run),
    environmentSection(run),
    credentialsSection(run.credentials),
    changePlanSection(run.credentials, observedIn(run, serviceDiscovery)?.services ?? []),
  ];
  return sections.join("\n\n") + "\n";
}

function heading({ node, run }: TicketInput): string {
  return [
    `## Change ticket: ${inlineCode(node.id)} is ${run.verdict.toUpperCase()}`,
    "",
    "State frozen by `clawfleet agent check --ticket` before any change. Secrets appear only as fingerprints:",
    "`sha256:` is the first 12 hex digits of the value's SHA-256 (`printf %s \"$VALUE\" | shasum -a 256`).",
  ].join("\n");
}

function stateSection({ node, run, world, user, agentVersion, fingerprint }: TicketInput): string {
  const services = observedIn(run, serviceDiscovery)?.services ?? [];
  const binaries = observedIn(run, openclawBinaries);
  const live = observedIn(run, portOwner)?.gateway;
  const gatewayVersion = hostFacts(run).openclawVersion;
  const lines = [
    "### Frozen state",
    `- Time: ${inlineCode(new Date(run.startedAtMs).toISOString())} (the run took ${run.durationMs} ms)`,
    `- Node: ${inlineCode(node.id)}, host ${inlineCode(node.hostname)}, ${inlineCode(node.platform)}`,
    `- Agent ran as: ${inlineCode(user.name)}${user.uid !== undefined ? ` (uid ${user.uid})` : ""}`,
    `- clawfleet agent: ${inlineCode(agentVersion)}`,
    `- OpenClaw gateway: ${gatewayVersion ? inlineCode(gatewayVersion) : "unknown (no running gateway answered)"}` +
      (live ? `, pid ${live.pid}${live.installDir ? ` from ${inlineCode(live.installDir)}` : ""}` : ""),
    ...binaryLines("this shell's PATH", binaries?.shell),
    ...(binaries && binaries.service.length > 0 ? binaryLines("the service's PATH", binaries.service) : []),
    `- Config: ${inlineCode(world.config.path)}${world.config.error ? " (unreadable or invalid)" : ""}`,
    `- State dir: ${inlineCode(world.stateDir)}`,
    `- Gateway port: ${world.port} (${inlineCode(world.portSource)})`,
  ];
  if (services.length === 0) lines.push("- Service: none found (launchd/systemd know no gateway service for this state dir)");
  for (const service of services) lines.push(...serviceLines(service, fingerprint));
  return lines.join("\n");
}

function binaryLines(where: string, found: readonly OpenClawBinary[] | undefined): string[] {
  const head = `- \`openclaw\` on ${where}:`;
  if (!found) return [`${head} not observed in this run`];
  if (found.length === 0) return [`${head} none`];
  // Every one, in PATH order: the first is what `openclaw` runs, a second is drift.
  return [head, ...found.map((b) => `  - ${inlineCode(b.path)}${b.realPath !== b.path ? ` → ${inlineCode(b.realPath)}` : ""}${b.version ? ` (${inlineCode(b.version)})` : ""}`)];
}

function serviceLines(service: ServiceDefinition, fingerprint: Fingerprinter): string[] {
  // The manager's own word may quote its error output: a code span, like every host text.
  const state = [service.loaded ? "loaded" : "not loaded", service.state ? inlineCode(service.state) : undefined, service.pid ? `pid ${service.pid}` : undefined].filter(Boolean).join(", ");
  return [
    `- Service: ${service.manager} ${inlineCode(service.name)} (${state})`,
    ...(service.definitionPath ? [`  - definition: ${inlineCode(service.definitionPath)}`] : []),
    `  - program: ${inlineCode(programWords(service.programArguments, fingerprint).join(" ") || "(none)")}`,
    `  - variables it sets (names only): ${names(service.environment)}`,
  ];
}

/** The service's command line with any secret on it (`--token X`, `--password=X`, a key-shaped word) fingerprinted. */
export function programWords(argv: readonly string[], fingerprint: Fingerprinter): string[] {
  const secretFlag = (flag: string) => /^--?[A-Za-z]/.test(flag) && isSecretName(flag.replace(/^-+/, ""));
  return argv.map((arg, i) => {
    const assigned = /^(--?[^=]+)=(.+)$/.exec(arg);
    if (assigned && secretFlag(assigned[1]!)) return `${assigned[1]}=${fingerprint(assigned[2]!)}`;
    if ((i > 0 && secretFlag(argv[i - 1]!) && !arg.startsWith("-")) || looksLikeCredential(arg)) return fingerprint(arg);
    return arg;
  });
}

function verdictSection(run: CheckRun): string {
  const lines = ["### Verdict", `**${run.verdict.toUpperCase()}**`];
  if (!run.primary) {
    lines[1] += ": no problem found.";
    return lines.join("\n");
  }
  const p = run.primary;
  lines[1] += `; primary finding ${inlineCode(`${p.layer} / ${p.code}`)}: ${CODES[p.code as keyof typeof CODES]?.title ?? p.code}`;
  lines.push("", fenced(`summary: ${p.summary}\naction:  ${p.action}`));
  return lines.join("\n");
}

function findingsSection(findings: readonly Finding[]): string {
  const lines = ["### Findings"];
  findings.forEach((f, i) => {
    const label = f.code ? `${f.layer} / ${f.code}` : f.layer;
    lines.push("", `${i + 1}. **${f.status}** ${inlineCode(label)} (check ${inlineCode(f.check)})`, "", fenced(findingText(f)));
  });
  if (findings.length === 0) lines.push("", "No check reported anything.");
  return lines.join("\n");
}

function findingText(f: Finding): string {
  const lines = [`summary: ${f.summary}`];
  if (f.dependsOn) lines.push(`a consequence of: ${f.dependsOn}`);
  if (f.action) lines.push(`action: ${f.action}`);
  const evidence = Object.entries(f.evidence);
  if (evidence.length > 0) lines.push("evidence:", ...evidence.map(([key, value]) => `  ${key}: ${value}`));
  return lines.join("\n");
}

/** A line the gateway prints when a start fails or it dies (gateway-fatal-lines.ts), or one its logger marks FATAL. */
function isFatal(line: LogLine): boolean {
  return line.level === "FATAL" || line.text.includes(START_FAILURE_TEXT) || line.text.includes(LOOP_BREAKER_TEXT) || matchFatalLine(line.text) !== undefined;
}

function fatalLinesSection(run: CheckRun): string {
  const log = observedIn(run, gatewayLog);
  const lines = ["### The gateway's last fatal lines"];
  if (!log) return [...lines, "The gateway's logs were not read in this run."].join("\n");
  const fatal = log.lines.filter(isFatal).slice(-TICKET_FATAL_LINES);
  const read = log.sources.map((s) => `${inlineCode(s.where)}${s.error ? ` (${s.error})` : ""}`).join(", ");
  if (fatal.length === 0) lines.push(`None in the last 24 h. Read: ${read || "no log source"}.`);
  else {
    lines.push(`The last ${fatal.length === 1 ? "one" : fatal.length}, oldest first, with secrets fingerprinted. Read: ${read}.`, "");
    lines.push(fenced(fatal.map((l) => `${l.atMs !== undefined ? new Date(l.atMs).toISOString() : "(no time)"} ${l.level ?? "-"} ${l.where}\n  ${l.text.replace(/\n/g, "\n  ")}`).join("\n")));
  }
  return lines.join("\n");
}

function environmentSection(run: CheckRun): string {
  const env = observedIn(run, gatewayEnvironment);
  // What the gateway reads, first layer first: its live process (else its service, else this shell), then .env and config env.vars.
  const lines = ["### The gateway's environment (names only)", "Where the gateway reads its variables, in its own precedence:"];
  if (!env) return [lines[0], "Not observed in this run."].join("\n");
  for (const layer of env.layers) {
    lines.push(`- ${inlineCode(layer.label)}: ${names(layer.vars)}`);
  }
  return lines.join("\n");
}

function names(vars: Readonly<Record<string, string | undefined>>): string {
  const set = Object.entries(vars).filter(([, value]) => value !== undefined).map(([name]) => name).sort();
  return set.length ? set.map(inlineCode).join(", ") : "none";
}

function credentialsSection(credentials: readonly CredentialRecord[]): string {
  const lines = ["### Credentials (fingerprints only)"];
  if (credentials.length === 0) return [...lines, "None seen in this run."].join("\n");
  for (const c of credentials) lines.push(`- ${inlineCode(c.fingerprint)} ${c.kind} from ${inlineCode(c.source)}${c.subject ? ` for ${inlineCode(c.subject)}` : ""}`);
  return lines.join("\n");
}

function changePlanSection(credentials: readonly CredentialRecord[], services: readonly ServiceDefinition[]): string {
  const byFingerprint = new Map<string, CredentialRecord[]>();
  for (const c of credentials) byFingerprint.set(c.fingerprint, [...(byFingerprint.get(c.fingerprint) ?? []), c]);
  const restart = services[0]?.manager === "launchd" ? `launchctl kickstart -k gui/$(id -u)/${services[0].name}` : services[0] ? `systemctl --user restart ${services[0].name}` : "openclaw gateway restart";
  const lines = [
    "### Change plan",
    "- [ ] One credential at a time: change one, restart the gateway, run `clawfleet agent check --ticket` again and attach it, then the next.",
    `- [ ] Rotation window (UTC): from ____ to ____; the gateway reads a new value only when it restarts (${inlineCode(restart)}).`,
    "- [ ] Blast radius: everything that uses these fingerprints here; across the fleet, `clawfleet collector query tokens --ticket` (the collector keys its own `hmac:` fingerprints, so compare by source there).",
  ];
  if (byFingerprint.size === 0) lines.push("  - no credential seen in this run");
  for (const [fp, uses] of byFingerprint) lines.push(`  - ${inlineCode(fp)} (${uses[0]!.kind}): ${uses.map((u) => inlineCode(u.source)).join(", ")}`);
  lines.push("- [ ] Rollback point: the fingerprints in use now, per source (a rollback restores the value with this fingerprint):");
  if (credentials.length === 0) lines.push("  - none");
  for (const c of credentials) lines.push(`  - ${inlineCode(c.source)} → ${inlineCode(c.fingerprint)}`);
  return lines.join("\n");
}
