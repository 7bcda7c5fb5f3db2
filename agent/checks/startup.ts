// Why the gateway cannot start: the gateway's own words (the newest fatal line
// of its log since it last served, matched against the table of known lines)
// and the preconditions its startup refuses without, read from disk. Each
// cause is one finding; a down gateway is marked as its consequence by the
// taxonomy (STARTUP_BLOCKERS), so "start it" is never the advice while one holds.
import { passed, problem, type Finding } from "../../shared/finding.ts";
import type { Code } from "../../shared/taxonomy.ts";
import { fatalLineEvidence, matchFatalLine, STARTED_LINE, type FatalMatch } from "../discovery/gateway-fatal-lines.ts";
import { byStartupOrder, startupBlockers, type Blocker } from "../discovery/startup-preconditions.ts";
import type { GatewayEnv } from "../discovery/provider-env.ts";
import { gatewayEnvironment } from "../observations/gateway-environment.ts";
import { gatewayLog, type LogLine } from "../observations/gateway-log.ts";
import { serviceDiscovery } from "../observations/gateway-services.ts";
import { loopbackOpen, portOwner } from "../observations/host-gateway.ts";
import { orElse } from "../observations/observation.ts";
import type { Check } from "./check.ts";

/** Causes that describe the running gateway too, not only its next start. */
const PRESENT_TENSE: ReadonlySet<Code> = new Set(["auth_unconfigured", "secret_placeholder"]);

export const startupCheck: Check = {
  name: "startup",
  layer: "gateway",
  deadlineMs: 6000,
  observes: [loopbackOpen, portOwner, serviceDiscovery, gatewayEnvironment, gatewayLog],
  async run(ctx): Promise<Finding[]> {
    const { world } = ctx;
    const shellEnv: GatewayEnv = { layers: [{ label: "env", vars: world.env }] };
    const [open, owner, { services }, env, log] = await Promise.all([
      ctx.observe(loopbackOpen),
      orElse(ctx.observe(portOwner), { listenAddresses: [] }),
      orElse(ctx.observe(serviceDiscovery), { services: [], errors: [] }),
      orElse(ctx.observe(gatewayEnvironment), shellEnv),
      orElse(ctx.observe(gatewayLog), { sources: [], lines: [] }),
    ]);
    const blockers = startupBlockers({ world, services, owner, env });
    const serving = open && !blockers.some((b) => b.code === "port_in_use");
    // A running gateway got past whatever its log says about earlier starts.
    const fatal = serving ? undefined : newestFatalLine(log.lines);
    if (fatal) {
      mergeLogLine(blockers, fatal.match, fatal.line, { stateDir: world.stateDir, port: String(world.port), configPath: world.config.path });
    }

    // Serving, a precondition only stops the next start. It is not reported then:
    // every gateway-layer finding pages as "gateway down" (deploy/generate/alert-catalog.ts).
    const findings = blockers
      .filter((b) => !serving || PRESENT_TENSE.has(b.code))
      .sort(byStartupOrder)
      .map((b) => problem("startup", b.code, b.summary, b.evidence));
    if (findings.length > 0) return findings;
    if (serving) return [passed("startup", "gateway", `The gateway serves on 127.0.0.1:${world.port} with a secret of its own and no placeholder.`)];
    const read = log.sources.filter((s) => !s.error).map((s) => s.where);
    return [passed("startup", "gateway", `Nothing stops the gateway from starting: bind, auth, secrets, port, program and versions agree${read.length > 0 ? `, and its log (${read.join(", ")}) holds no refusal since it last served` : ""}.`)];
  },
};

/** The newest line that is a known refusal, unless the gateway served after it. */
export function newestFatalLine(lines: readonly LogLine[]): { match: FatalMatch; line: LogLine } | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (line.text.includes(STARTED_LINE)) return undefined;
    const match = matchFatalLine(line.text);
    if (match) return { match, line };
  }
  return undefined;
}

/** One fact, one finding: the log line joins the precondition that predicted it, or stands as its own cause. */
function mergeLogLine(blockers: Blocker[], match: FatalMatch, line: LogLine, where: Record<string, string>): void {
  const evidence: Record<string, string> = { line: fatalLineEvidence(line.text), logSource: line.where, ...(line.atMs !== undefined ? { loggedAt: new Date(line.atMs).toISOString() } : {}) };
  const known = blockers.find((b) => b.code === match.entry.code);
  if (known) {
    Object.assign(known.evidence, evidence);
    known.summary += ` The gateway's log agrees: "${evidence.line}".`;
    return;
  }
  blockers.push({ code: match.entry.code, summary: `The gateway refused to start: "${evidence.line}" (${line.where}).`, evidence: { ...where, ...evidence } });
}
