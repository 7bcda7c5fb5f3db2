// What a simulated host's checks find: every check the real agent runs
// (agent/checks/index.ts) contributes its finding, built with the same
// problem()/passed() and ordered, linked and judged by the same functions as a
// real run; the power check is the real one over simulated power facts. A
// problem's evidence fills every placeholder of its action, so the page and
// the CLI read as they do for a real host. Secrets leave only as fingerprints.
import { linkDependencies, passed, primaryFinding, problem, skipped, verdictOf, type Finding } from "../../shared/finding.ts";
import type { Fingerprinter } from "../../shared/fingerprint.ts";
import { CODES, STARTUP_BLOCKERS, type Code } from "../../shared/taxonomy.ts";
import type { CredentialRecord } from "../checks/check.ts";
import { evaluatePower } from "../checks/power.ts";
import type { CheckRun } from "../checks/run-checks.ts";
import type { PowerFacts } from "../platform/power-facts.ts";
import { CRASH_LOOP_RESTARTS, CRASH_LOOP_WINDOW_MS } from "../observations/gateway-restarts.ts";
import { HEALTHY } from "./failure-mix.ts";
import type { SimHost } from "./sim-host.ts";

/** Which check reports a code (layers map to their check; the gateway layer has three). */
function checkFor(code: Code): string {
  if ((STARTUP_BLOCKERS as readonly string[]).includes(code) || code === "secret_placeholder") return "startup";
  if (code === "crash_loop") return "restarts";
  if (code === "check_timeout" || code === "check_error") return "tunnel";
  return CODES[code].layer;
}

const GATEWAY_DOWN: ReadonlySet<string> = new Set(["service_not_loaded", "not_running", "not_listening", "crash_loop", ...STARTUP_BLOCKERS]);

/** Sleep and wake as the host would report them. */
export interface SimPower {
  lastSleepMs: number;
  lastWakeMs: number;
}

export function simulatedRun(host: SimHost, fingerprint: Fingerprinter, power: SimPower, nowMs: number): CheckRun {
  const values = placeholderValues(host, fingerprint, nowMs);
  const tokenSource = "config gateway.auth.token";
  const providerSource = `auth store main/anthropic (${host.home}/.openclaw/agents/main/agent/auth-profiles.json)`;
  const tokenFp = fingerprint(host.gatewayToken);
  const providerFp = fingerprint(host.providerKey);
  const service: Record<string, string> = host.platform === "darwin"
    ? { plistPath: values.plistPath!, runs: "1", lastExitStatus: "0" }
    : { unit: values.unit!, unitPath: `${host.home}/.config/systemd/user/${values.unit}`, runs: "1" };
  const gatewayEvidence = { port: String(host.port), portSource: "default", ...service, pid: String(host.pid), listenAddresses: `127.0.0.1:${host.port},[::1]:${host.port}`, gatewayVersion: host.openclawVersion, startedAt: new Date(host.gatewayStartedAtMs).toISOString() };
  const sessionEvidence = { configPath: values.configPath!, port: String(host.port), source: tokenSource, acceptedTokens: `${tokenFp} from ${tokenSource}`, fingerprint: tokenFp, gatewayVersion: host.openclawVersion };
  const tunnelEvidence = { dnsName: host.dnsName, url: values.url!, tailscaleMode: "serve", backendState: "Running", fingerprint: tokenFp, tokenStatus: "HTTP 400" };

  const healthy: Record<string, Finding[]> = {
    gateway: [passed("gateway", "gateway", `OpenClaw ${host.openclawVersion} (pid ${host.pid}) listens on 127.0.0.1:${host.port} and is ready.`, gatewayEvidence)],
    startup: [passed("startup", "gateway", `The gateway serves on 127.0.0.1:${host.port} with a secret of its own and no placeholder.`)],
    restarts: [passed("restarts", "gateway", `No restart loop: no service manager, process or log shows ${CRASH_LOOP_RESTARTS} restarts within ${CRASH_LOOP_WINDOW_MS / 60_000} min.`)],
    session: [passed("session", "session", `Gateway accepts a client with the token from ${tokenSource} (${tokenFp}).`, sessionEvidence)],
    provider: [passed("provider", "provider", `Agent main can call anthropic: ${providerSource} (${providerFp}).`, { agent: "main", provider: "anthropic", models: "anthropic/claude-sonnet-4-5", source: providerSource, fingerprint: providerFp, storePath: values.path! })],
    tunnel: [passed("tunnel", "tunnel", `The gateway answers through ${values.url} as on loopback: https/healthz 200, token ${tokenFp} accepted over HTTP and WebSocket.`, tunnelEvidence)],
    drift: [passed("drift", "drift", `No drift between the shell and the ${host.platform === "darwin" ? "launchd" : "systemd"} service: one openclaw install (${values.servicePath}), one config (${values.configPath}), one gateway token.`)],
    power: evaluatePower(powerFacts(host, power, nowMs), nowMs),
    baseline: [passed("baseline", "baseline", `OpenClaw ${host.openclawVersion} has no known advisory; Node ${host.nodeVersion} is supported; the gateway listens on loopback only, with token auth.`, { version: host.openclawVersion, nodeVersion: host.nodeVersion })],
  };
  const credentials: CredentialRecord[] = [
    { kind: "gateway_token", source: tokenSource, fingerprint: tokenFp, subject: `gateway:${host.port}` },
    { kind: "provider_key", source: providerSource, fingerprint: providerFp, subject: "main/anthropic" },
  ];

  const code = host.condition;
  if (code !== HEALTHY && CODES[code].layer !== "power") {
    const check = checkFor(code);
    const evidence = { ...evidenceFor(code, values), ...(check === "session" ? sessionEvidence : check === "tunnel" ? tunnelEvidence : {}) };
    healthy[check] = [problem(check, code, summaryFor(code, values), evidence)];
    if (GATEWAY_DOWN.has(code)) {
      // As the real run: a down gateway leaves nothing to test the token or the tailnet path against.
      if (check === "startup") healthy.gateway = [problem("gateway", "not_running", `No OpenClaw gateway is running for ${values.stateDir} and nothing listens on 127.0.0.1:${host.port} (port from default).`, { ...gatewayEvidence, stateDir: values.stateDir! })];
      healthy.session = [skipped("session", "session", "Token not tested: the gateway does not answer on loopback.", { configPath: values.configPath!, port: String(host.port) })];
      healthy.tunnel = [skipped("tunnel", "tunnel", `Tailnet path ${values.url} not probed: the gateway does not answer on loopback.`, tunnelEvidence)];
    }
  }
  const findings = linkDependencies(Object.values(healthy).flat());
  return { startedAtMs: nowMs, durationMs: host.checkMs, verdict: verdictOf(findings), primary: primaryFinding(findings), findings, credentials };
}

/** Power facts of a Mac mini set up for a fleet, or of one left able to sleep. */
function powerFacts(host: SimHost, power: SimPower, nowMs: number): PowerFacts {
  const sleepPossible = host.sleeper || host.condition === "sleep_enabled";
  return {
    platform: host.platform,
    supported: true,
    sleepPossible,
    maySleep: sleepPossible,
    sleepReason: sleepPossible ? "system sleep after 10 min idle (pmset sleep 10)" : "system sleep is disabled (pmset sleep 0)",
    lastWakeMs: host.condition === "slept_recently" ? nowMs - 3_600_000 : power.lastWakeMs,
    lastSleepMs: host.condition === "slept_recently" ? nowMs - 3_900_000 : power.lastSleepMs,
    sleepHistoryKnown: true,
    thermal: host.condition === "thermal_pressure" ? "CPU_Speed_Limit 62%" : undefined,
    thermalKnown: host.platform === "darwin",
    evidence: host.platform === "darwin" ? { sleep: sleepPossible ? "10" : "0", disksleep: "0", powernap: "0", SleepDisabled: sleepPossible ? "0" : "1" } : { sleepTargets: sleepPossible ? "sleep.target=loaded" : "sleep.target=masked" },
    failures: [],
  };
}

function summaryFor(code: Code, v: Record<string, string>): string {
  const fill = (text: string) => text.replace(/\{(\w+)\}/g, (_, name: string) => v[name] ?? name);
  const known: Partial<Record<Code, string>> = {
    token_mismatch: "Gateway rejects the token from {source} ({fingerprint}): unauthorized: gateway token mismatch.",
    api_key_missing: "Agent {agent} uses {provider} (anthropic/claude-sonnet-4-5) but its auth store {path} holds no usable {provider} credential, and {envVar} is not in the service environment.",
    tailscale_needs_login: "Tailscale is logged out (NeedsLogin): tailnet clients cannot reach this gateway.",
    not_running: "No OpenClaw gateway is running for {stateDir} and nothing listens on 127.0.0.1:{port} (port from default).",
    multiple_binaries: "2 different openclaw installs are on the shell and service PATHs: {paths}.",
    config_not_applied: "{configPath} was modified after the gateway started (reload mode \"off\").",
    credential_expired: "Agent {agent} has no usable {provider} credential: oauth profile anthropic:default expired at {expiresAt}.",
    service_env_missing: "{variable} (the provider key) is set in this shell but missing from {serviceEnvPath}.",
    serve_not_configured: "gateway.tailscale.mode is \"serve\" but no Tailscale Serve route leads to the gateway on 127.0.0.1:{port}: tailnet clients have nothing to connect to.",
    openclaw_vulnerable: "OpenClaw {version} is affected by {advisory}; fixed in {fixedIn}.",
  };
  return fill(known[code] ?? `${CODES[code].title}.`);
}

/** The evidence a real finding of this code carries: at least every value its action names. */
function evidenceFor(code: Code, v: Record<string, string>): Record<string, string> {
  const values = { ...v, ...EVIDENCE_OVERRIDES[code] };
  const evidence: Record<string, string> = {};
  for (const [, name] of CODES[code].action.matchAll(/\{(\w+)\}/g)) if (values[name!] !== undefined) evidence[name!] = values[name!]!;
  return evidence;
}

/** Where one host-wide value would not fit the code's story (the variable an unresolved token reference names). */
const EVIDENCE_OVERRIDES: Partial<Record<Code, Record<string, string>>> = {
  secret_unresolved: { variable: "OPENCLAW_GATEWAY_TOKEN" },
  secret_placeholder: { variable: "OPENCLAW_GATEWAY_TOKEN", where: "the service environment" },
};

/** Plausible values for every placeholder the taxonomy's actions use, for this host. */
function placeholderValues(host: SimHost, fingerprint: Fingerprinter, nowMs: number): Record<string, string> {
  const state = `${host.home}/.openclaw`;
  const darwin = host.platform === "darwin";
  const plistPath = `${host.home}/Library/LaunchAgents/ai.openclaw.gateway.plist`;
  return {
    configPath: `${state}/openclaw.json`, cliConfigPath: `${state}/openclaw.json`, serviceConfigPath: `${host.home}/.openclaw-prod/openclaw.json`,
    stateDir: state, port: String(host.port), pid: String(host.pid), bind: `0.0.0.0:${host.port}`, authMode: "token", tailscaleMode: "serve",
    plistPath, unit: "openclaw-gateway.service", name: darwin ? "ai.openclaw.gateway" : "openclaw-gateway.service",
    serviceEnvPath: darwin ? plistPath : `${host.home}/.config/systemd/user/openclaw-gateway.service.d/env.conf`, envSource: darwin ? "launchd plist EnvironmentVariables" : "systemd unit Environment",
    provider: "anthropic", agent: "main", envVar: "ANTHROPIC_API_KEY", variable: "ANTHROPIC_API_KEY", path: `${state}/agents/main/agent/auth-profiles.json`,
    expiresAt: new Date(nowMs - 2 * 86_400_000).toISOString(), url: `https://${host.dnsName}`, dnsName: host.dnsName, node: host.nodeId,
    tlsError: "certificate has expired", source: "config gateway.auth.token", fingerprint: fingerprint(host.gatewayToken),
    sources: `config gateway.auth.token (${fingerprint(host.gatewayToken)}); service env OPENCLAW_GATEWAY_TOKEN (${fingerprint(`${host.gatewayToken}-old`)})`,
    secret: "token", why: "OPENCLAW_GATEWAY_TOKEN is not set in the service environment", where: "the service environment", what: `${state}/openclaw.json`,
    configKey: "gateway.auth.token", reference: "${OPENCLAW_GATEWAY_TOKEN}", placeholder: "__OPENCLAW_REDACTED__",
    serviceVersion: "2026.9.5", cliVersion: host.openclawVersion, writerVersion: "2026.9.7", version: host.openclawVersion, advisory: "GHSA-7c3m-q4xw-9f2p", fixedIn: "2026.9.7",
    servicePath: darwin ? "/opt/homebrew/bin/openclaw" : "/usr/local/bin/openclaw", paths: "/opt/homebrew/bin/openclaw, /usr/local/bin/openclaw",
    program: `${host.home}/.nvm/versions/node/v22.12.0/bin/node`, executable: "node", nodeVersion: "v20.11.1", required: ">=22.12.0",
    restartSignal: `${CRASH_LOOP_RESTARTS + 3} restarts in ${CRASH_LOOP_WINDOW_MS / 60_000} min`, logSource: `${state}/logs/gateway.err.log`,
    lastFatalLine: `Error: listen EADDRINUSE: address already in use 127.0.0.1:${host.port}`, line: `gateway already running (pid ${host.pid + 7}); lock held on ${state}`,
    failing: "channels", error: "JSON5: invalid character '}' at 41:3", check: "tunnel", deadlineMs: "9000", thermal: "CPU_Speed_Limit 62%",
    sleptAt: new Date(nowMs - 3_900_000).toISOString(),
  };
}
