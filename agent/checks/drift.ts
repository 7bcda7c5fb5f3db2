// Drift layer: the CLI in a shell and the gateway under its service manager
// are different worlds. Compares the shell, the service definition and the
// live process: binaries, versions, config file and whether it is applied,
// variables, token sources, and who can read the secrets.
import { join } from "node:path";
import { passed, problem, type Finding } from "../../shared/finding.ts";
import { configValue, referencedVariables } from "../discovery/openclaw-config.ts";
import { envOrigin } from "../discovery/openclaw-world.ts";
import { installOfProgram } from "../discovery/openclaw-installs.ts";
import { exposedSecrets, secretPaths } from "../discovery/secret-files.ts";
import { startupSecretVariables } from "../discovery/startup-preconditions.ts";
import { allTokenSources, groupByValue } from "../discovery/token-sources.ts";
import { serviceDiscovery } from "../observations/gateway-services.ts";
import { loopbackOpen, portOwner } from "../observations/host-gateway.ts";
import { openclawBinaries, type OpenClawBinaries } from "../observations/openclaw-binaries.ts";
import { tokenProbes, type TokenProbe } from "../observations/token-handshakes.ts";
import type { Check, CheckContext } from "./check.ts";

export const driftCheck: Check = {
  name: "drift",
  layer: "drift",
  // Above loopback (1.5 s) then the token probes (7 s, a wrong token waits out the gateway's auth delay).
  deadlineMs: 9000,
  observes: [serviceDiscovery, portOwner, loopbackOpen, tokenProbes, openclawBinaries],
  async run(ctx): Promise<Finding[]> {
    const [{ services }, owner, open, installs] = await Promise.all([ctx.observe(serviceDiscovery), ctx.observe(portOwner), ctx.observe(loopbackOpen), ctx.observe(openclawBinaries)]);
    const probes = open ? await ctx.observe(tokenProbes) : [];
    const findings = [
      ...binaries(installs, services.map((s) => ({ name: s.name, argv: s.programArguments })), owner.gateway?.version ?? probes.find((p) => p.result.serverVersion)?.result.serverVersion),
      ...configState(ctx, probes.find((p) => p.result.config)?.result.config, owner.gateway),
      ...environment(ctx, services, owner.gateway?.env),
      ...tokens(ctx, allTokenSources(ctx.world, services, owner.gateway), probes),
      ...permissions(ctx, services.flatMap((s) => s.envFiles.map((f) => f.path))),
    ];
    if (findings.length > 0) return findings;
    const compared = ["the CLI", ...(services.length > 0 ? [`service ${services.map((s) => s.name).join(", ")}`] : []), ...(owner.gateway ? [`gateway pid ${owner.gateway.pid}`] : [])];
    const applied = probes.some((p) => p.result.config);
    const verified = ["at most one openclaw install on PATH", ...(applied ? ["config on disk is the applied one"] : []), "token sources agree", "secret files private"];
    return [passed("drift", "drift", `No drift between ${compared.join(", ")}: ${verified.join(", ")}.`)];
  },
};

function binaries(found: OpenClawBinaries, programs: { name: string; argv: string[] }[], gatewayVersion: string | undefined): Finding[] {
  const findings: Finding[] = [];
  const shell = found.shell;
  const all = [...shell, ...found.service];
  const installs = new Map(all.map((b) => [b.installDir ?? b.realPath, b]));
  const list = [...installs.values()].map((b) => `${b.path}${b.version ? ` (${b.version})` : ""}`).join(", ");
  const serviceRuns = programs.map((p) => ({ ...p, ...installOfProgram(p.argv) }));
  if (installs.size > 1) {
    findings.push(problem("drift", "multiple_binaries", `${installs.size} different openclaw installs are on the shell and service PATHs: ${list}.`, {
      paths: list,
      servicePath: serviceRuns.find((s) => s.installDir)?.installDir ?? "the service's own path",
    }));
  }
  // A service program that no longer exists is the startup check's service_program_missing.
  const cliVersion = shell[0]?.version;
  if (cliVersion && gatewayVersion && cliVersion !== gatewayVersion) {
    findings.push(problem("drift", "version_mismatch", `The shell's openclaw (${shell[0]!.path}) is ${cliVersion} but the running gateway is ${gatewayVersion}.`, {
      cliVersion,
      serviceVersion: gatewayVersion,
      cliPath: shell[0]!.path,
    }));
  }
  return findings;
}

function configState(ctx: CheckContext, applied: import("../probes/gateway-handshake.ts").GatewayConfigState | undefined, live: import("../discovery/live-gateway.ts").LiveGateway | undefined): Finding[] {
  const { config } = ctx.world;
  const findings: Finding[] = [];
  const evidence = { configPath: config.path };
  if (config.error) {
    findings.push(problem("drift", "config_invalid", `${config.error}.`, { ...evidence, error: config.error }));
  } else if (applied?.valid === false) {
    const issues = applied.issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    findings.push(problem("drift", "config_invalid", `The gateway rejects ${applied.path ?? config.path}: ${issues || "invalid"}; it keeps running its last good config.`, { ...evidence, error: issues || "invalid" }));
  }
  if (applied?.configRevisionHash && applied.appliedConfigHash && applied.configRevisionHash !== applied.appliedConfigHash) {
    findings.push(problem("drift", "config_not_applied", `${applied.path ?? config.path} on disk differs from the config the running gateway applied (gateway.reload.mode ${String(configValue(config.raw, "gateway.reload.mode") ?? "hybrid")}).`, {
      ...evidence,
      onDisk: applied.configRevisionHash.slice(-12),
      applied: applied.appliedConfigHash.slice(-12),
    }));
  } else if (!applied && live?.startedAtMs && config.mtimeMs && configValue(config.raw, "gateway.reload.mode") === "off" && (config.newestEdit?.mtimeMs ?? config.mtimeMs) > live.startedAtMs + 1000) {
    // Without an accepted token only times are left; with hot reload on they say nothing.
    // An edit to an $include'd file counts too, and the message names that file.
    const edited = config.newestEdit ?? { path: config.path, mtimeMs: config.mtimeMs };
    findings.push(problem("drift", "config_not_applied", `${edited.path} was modified after the gateway started (reload mode "off").`, {
      ...evidence,
      modifiedAt: new Date(edited.mtimeMs).toISOString(),
      gatewayStartedAt: new Date(live.startedAtMs).toISOString(),
    }));
  }
  const gatewayConfig = applied?.path ?? live?.env?.OPENCLAW_CONFIG_PATH ?? (live?.stateDir ? join(live.stateDir, "openclaw.json") : undefined);
  if (gatewayConfig && gatewayConfig !== config.path) {
    findings.push(problem("drift", "config_path_mismatch", `The CLI reads ${config.path} but the running gateway reads ${gatewayConfig}.`, {
      cliConfigPath: config.path,
      serviceConfigPath: gatewayConfig,
    }));
  }
  return findings;
}

function environment(ctx: CheckContext, services: import("../discovery/gateway-service.ts").ServiceDefinition[], processEnv: Record<string, string> | undefined): Finding[] {
  const findings: Finding[] = [];
  // The gateway loads OpenClaw's .env files itself at startup (state dir, config dir,
  // ~/.config/openclaw/gateway.env), so a variable any of them sets counts as present.
  const inDotenv = (variable: string) => ctx.world.dotenvFiles.some((file) => Object.hasOwn(file.values, variable));
  // The gateway's own secrets (its token, an env SecretRef of its auth) are the
  // startup check's: without them it cannot start or runs on a token no client knows.
  const owned = new Set(["OPENCLAW_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_PASSWORD", ...startupSecretVariables(ctx.world.config.raw)]);
  const wanted = referencedVariables(ctx.world.config.raw).filter((v) => !owned.has(v));
  for (const variable of wanted) {
    if (envOrigin(ctx.world, variable) !== "shell" || inDotenv(variable)) continue;
    const inProcess = processEnv ? variable in processEnv : undefined;
    const inService = services.length > 0 ? services.some((s) => variable in s.environment) : undefined;
    if (inProcess === false || (inProcess === undefined && inService === false)) {
      const where = inProcess === false ? "the running gateway's environment" : "the service environment";
      const why = `referenced by ${ctx.world.config.path}`;
      findings.push(problem("drift", "service_env_missing", `${variable} (${why}) is set in this shell but missing from ${where}.`, {
        variable,
        serviceEnvPath: services[0]?.envFiles[0]?.path ?? services[0]?.definitionPath ?? join(ctx.world.stateDir, ".env"),
      }));
    }
  }
  // A placeholder where a value belongs is the startup check's secret_placeholder.
  return findings;
}

function tokens(ctx: CheckContext, sources: ReturnType<typeof allTokenSources>, probes: readonly TokenProbe[]): Finding[] {
  const groups = groupByValue(sources);
  if (groups.size < 2) return [];
  const verdict = (value: string) => {
    const outcome = probes.find((p) => p.value === value)?.result.outcome;
    return outcome === "accepted" ? " (accepted)" : outcome === "rejected" ? " (rejected)" : "";
  };
  const described = [...groups].map(([value, list]) => `${ctx.fingerprint(value)}${verdict(value)}: ${list.map((s) => s.source).join(" + ")}`);
  return [problem("drift", "token_drift", `${groups.size} different gateway tokens are configured: ${described.join("; ")}.`, { sources: described.join("; ") })];
}

function permissions(ctx: CheckContext, extraFiles: string[]): Finding[] {
  const uid = process.getuid?.();
  if (uid === undefined) return [];
  const exposed = exposedSecrets(secretPaths(ctx.world.stateDir, [ctx.world.config.path, ...extraFiles]), uid);
  return exposed.map((e) => problem("drift", "credentials_exposed", `${e.path} (mode ${e.mode}) is ${e.reason}.`, { path: e.path, mode: e.mode }));
}
