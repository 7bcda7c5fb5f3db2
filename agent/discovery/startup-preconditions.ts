// What stops a gateway from starting, read from disk without its log: the
// refusals of the pinned OpenClaw's startup (dist/run-*.mjs
// runGatewayCommandOnce, dist/validation-core-*.mjs, dist/server-startup-config-*.mjs)
// checked against the config, the service definition, the environment the
// service really gets and whoever holds the port. Pure functions over facts
// the observations gathered; the startup check judges them.
import { existsSync } from "node:fs";
import { join } from "node:path";
import coerce from "semver/functions/coerce.js";
import gt from "semver/functions/gt.js";
import { STARTUP_BLOCKERS, type Code } from "../../shared/taxonomy.ts";
import { isLoopbackHost } from "../../shared/loopback.ts";
import type { ServiceDefinition } from "./gateway-service.ts";
import type { PortOwner } from "./live-gateway.ts";
import { readManifest } from "./live-gateway.ts";
import { configValue, resolveSecret } from "./openclaw-config.ts";
import { installOfProgram, openclawOnPath } from "./openclaw-installs.ts";
import type { OpenClawWorld } from "./openclaw-world.ts";
import { flattenEnv, lookupEnv, type GatewayEnv } from "./provider-env.ts";

/** A reason the gateway cannot (or will not) start, with its evidence. */
export interface Blocker {
  code: Code;
  summary: string;
  evidence: Record<string, string>;
}

export interface StartupFacts {
  world: OpenClawWorld;
  services: readonly ServiceDefinition[];
  owner: PortOwner;
  /** The environment the gateway gets (agent/observations/gateway-environment.ts). */
  env: GatewayEnv;
}

/**
 * Display markers OpenClaw writes instead of secrets and never takes as one
 * (dist/redact-sentinel-*.mjs REDACTED_SECRET_VALUES, whole trimmed values).
 */
export const PLACEHOLDERS: ReadonlySet<string> = new Set([
  "__OPENCLAW_REDACTED__",
  "REDACTED",
  "xoxb-REDACTED",
  "xapp-REDACTED",
  "***",
  "[redacted]",
  "[REDACTED]",
  "<redacted>",
  "[REDACTED_PRIVATE_KEY]",
  "[REDACTED CREDENTIAL]",
]);

export function isPlaceholder(value: string | undefined): boolean {
  return value !== undefined && PLACEHOLDERS.has(value.trim());
}

/**
 * Every precondition that holds, in the taxonomy's STARTUP_BLOCKERS order: the
 * one a down gateway is marked as depending on comes first, so it is also the primary.
 */
export function startupBlockers(facts: StartupFacts): Blocker[] {
  return [
    ...serviceProgramMissing(facts.services),
    ...newerOpenClaw(facts),
    ...configUnreadable(facts),
    ...tailscaleBindConflict(facts),
    ...bindWithoutAuth(facts),
    ...secretsUnresolved(facts),
    ...authUnconfigured(facts),
    ...portHeldByAnother(facts),
    ...placeholders(facts),
  ].sort(byStartupOrder);
}

/** The taxonomy's STARTUP_BLOCKERS order; other codes after. */
export function byStartupOrder(a: Blocker, b: Blocker): number {
  const rank = (code: Code) => {
    const at = (STARTUP_BLOCKERS as readonly string[]).indexOf(code);
    return at < 0 ? STARTUP_BLOCKERS.length : at;
  };
  return rank(a.code) - rank(b.code);
}

// --- where the service runs from -------------------------------------------

export function serviceProgramMissing(services: readonly ServiceDefinition[]): Blocker[] {
  const found: Blocker[] = [];
  for (const service of services) {
    const [program] = service.programArguments;
    // The interpreter first (a version manager's Node removed by an update), then the OpenClaw entry.
    const missing = program?.startsWith("/") && !existsSync(program) ? program : installOfProgram(service.programArguments).missing;
    if (!missing) continue;
    found.push({
      code: "service_program_missing",
      summary: `Service ${service.name} runs ${missing}, which no longer exists (an update or a version manager moved it); it cannot start.`,
      evidence: { program: missing, service: service.name, ...(service.definitionPath ? { definitionPath: service.definitionPath } : {}) },
    });
  }
  return found;
}

/** The OpenClaw version that will start: the live gateway's, the service's install, else the shell's `openclaw`. */
function versionThatStarts(facts: StartupFacts): { version: string; from: string } | undefined {
  const live = facts.owner.gateway;
  if (live?.version && live.installDir) return { version: live.version, from: live.installDir };
  for (const service of facts.services) {
    const { installDir } = installOfProgram(service.programArguments);
    const version = installDir ? readManifest(installDir)?.version : undefined;
    if (installDir && version) return { version, from: installDir };
  }
  if (facts.services.length > 0) return undefined;
  const shell = openclawOnPath(facts.world.env.PATH)[0];
  return shell?.version ? { version: shell.version, from: shell.path } : undefined;
}

/** A config that does not parse (JSON5, $include) stops every start, with or without a log line saying so. */
export function configUnreadable({ world }: StartupFacts): Blocker[] {
  const { config } = world;
  if (!config.exists || !config.error) return [];
  return [{ code: "config_refused", summary: `The gateway cannot start on ${config.path}: ${config.error}.`, evidence: { configPath: config.path, error: config.error } }];
}

export function newerOpenClaw(facts: StartupFacts): Blocker[] {
  // dist/io.snapshot-*.mjs stamps meta.lastTouchedVersion on every config write.
  const writer = configValue(facts.world.config.raw, "meta.lastTouchedVersion");
  const runs = versionThatStarts(facts);
  if (typeof writer !== "string" || !runs) return [];
  const [newer, older] = [coerce(writer, { includePrerelease: true }), coerce(runs.version, { includePrerelease: true })];
  if (!newer || !older || !gt(newer, older)) return [];
  return [{
    code: "openclaw_downgraded",
    summary: `${facts.world.config.path} was last written by OpenClaw ${writer}, but the gateway would start OpenClaw ${runs.version} (${runs.from}): an older build refuses newer state and may not know the config's keys.`,
    evidence: { what: facts.world.config.path, writerVersion: writer, serviceVersion: runs.version, program: runs.from },
  }];
}

// --- bind and auth, as runGatewayCommandOnce resolves them -----------------

/** A `--flag value` or `--flag=value` from the service's argv (it overrides the config). */
function argvOption(services: readonly ServiceDefinition[], flag: string): string | undefined {
  for (const { programArguments: argv } of services) {
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === flag) return argv[i + 1];
      if (argv[i]!.startsWith(`${flag}=`)) return argv[i]!.slice(flag.length + 1);
    }
  }
  return undefined;
}

interface Bind {
  mode: string;
  /** Whether OpenClaw would bind beyond loopback. */
  exposed: boolean;
  source: string;
}

function effectiveBind(facts: StartupFacts): Bind | undefined {
  const raw = facts.world.config.raw;
  const fromArgv = argvOption(facts.services, "--bind");
  const mode = fromArgv ?? configValue(raw, "gateway.bind");
  if (typeof mode !== "string") return undefined; // the default is loopback once Tailscale is on, and outside containers
  const custom = configValue(raw, "gateway.customBindHost");
  const exposed = mode === "lan" || mode === "tailnet" || (mode === "custom" && typeof custom === "string" && !isLoopbackHost(custom));
  return { mode: mode === "custom" && typeof custom === "string" ? `custom (${custom})` : mode, exposed, source: fromArgv ? "the service's --bind" : "gateway.bind" };
}

export function tailscaleBindConflict(facts: StartupFacts): Blocker[] {
  const mode = argvOption(facts.services, "--tailscale") ?? configValue(facts.world.config.raw, "gateway.tailscale.mode");
  const bind = effectiveBind(facts);
  if ((mode !== "serve" && mode !== "funnel") || !bind?.exposed) return [];
  return [{
    code: "tailscale_bind_conflict",
    summary: `gateway.tailscale.mode is "${mode}" but ${bind.source} is "${bind.mode}": OpenClaw refuses a Tailscale ${mode} with a non-loopback bind ("gateway.bind must resolve to loopback", exit 78).`,
    evidence: { tailscaleMode: mode, bind: bind.mode, configPath: facts.world.config.path },
  }];
}

interface AuthSecret {
  mode: string;
  modeSource: "explicit" | "default";
  /** token or password, for the modes that need one. */
  secret?: "token" | "password";
  reachable: boolean;
  /** Why not, for the summary. */
  why: string;
  /** An env SecretRef the gateway cannot resolve (its own finding, not this one). */
  unresolvedRef?: string;
  /** The secret is there but a placeholder OpenClaw refuses (dist/known-weak-gateway-secrets-*.mjs). */
  placeholder?: string;
}

/** The auth the gateway would start with and whether its secret reaches it (dist/auth-*.mjs resolveGatewayAuth). */
function gatewayAuth(facts: StartupFacts): AuthSecret {
  const raw = facts.world.config.raw;
  const explicit = argvOption(facts.services, "--auth") ?? configValue(raw, "gateway.auth.mode");
  const hasPassword = configValue(raw, "gateway.auth.password") !== undefined || lookupEnv(facts.env, "OPENCLAW_GATEWAY_PASSWORD") !== undefined;
  const mode = typeof explicit === "string" ? explicit : hasPassword ? "password" : "token";
  const modeSource = typeof explicit === "string" ? "explicit" : "default";
  if (mode !== "token" && mode !== "password") return { mode, modeSource, reachable: false, why: `auth mode ${mode}` };
  const envName = mode === "token" ? "OPENCLAW_GATEWAY_TOKEN" : "OPENCLAW_GATEWAY_PASSWORD";
  if (argvOption(facts.services, `--${mode}`) !== undefined) return { mode, modeSource, secret: mode, reachable: true, why: `the service's --${mode}` };
  if (mode === "token" && facts.owner.gateway?.tokenOnCommandLine) return { mode, modeSource, secret: mode, reachable: true, why: "the running gateway's --token" };
  const configured = configValue(raw, `gateway.auth.${mode}`);
  if (configured !== null && typeof configured === "object") {
    const ref = configured as { source?: unknown; id?: unknown };
    // A file/exec SecretRef: clawfleet never runs secret providers, so it cannot say it is missing.
    if (ref.source !== "env" || typeof ref.id !== "string") return { mode, modeSource, secret: mode, reachable: true, why: `gateway.auth.${mode} (a SecretRef)` };
    const value = lookupEnv(facts.env, ref.id)?.value;
    if (value !== undefined && !isPlaceholder(value)) return { mode, modeSource, secret: mode, reachable: true, why: `gateway.auth.${mode} (env ${ref.id})` };
    return { mode, modeSource, secret: mode, reachable: false, why: `env SecretRef ${ref.id} is not set`, unresolvedRef: ref.id };
  }
  const resolved = configured === undefined ? undefined : resolveSecret(configured, flattenEnv(facts.env));
  if (resolved?.value !== undefined && resolved.value.trim() !== "" && !isPlaceholder(resolved.value)) return { mode, modeSource, secret: mode, reachable: true, why: `gateway.auth.${mode}` };
  const fromEnv = lookupEnv(facts.env, envName);
  if (fromEnv && !isPlaceholder(fromEnv.value)) return { mode, modeSource, secret: mode, reachable: true, why: `${envName} from ${fromEnv.label}` };
  const why = [
    configured === undefined ? `no gateway.auth.${mode} in the config` : `gateway.auth.${mode} does not resolve (${resolved?.unresolved ?? "empty or a placeholder"})`,
    fromEnv ? `${envName} from ${fromEnv.label} is the placeholder ${fromEnv.value.trim()}` : `no ${envName} in ${facts.env.layers.map((l) => l.label).join(", ")}`,
  ].join(", ");
  // OpenClaw refuses a placeholder token outright, whichever source it came from.
  const placeholder = typeof configured === "string" && isPlaceholder(resolved?.value) ? resolved!.value!.trim() : isPlaceholder(fromEnv?.value) ? fromEnv!.value.trim() : undefined;
  return { mode, modeSource, secret: mode, reachable: false, why, ...(placeholder ? { placeholder } : {}) };
}

function serviceEnvPath(facts: StartupFacts): string {
  const service = facts.services[0];
  return service?.envFiles[0]?.path ?? service?.definitionPath ?? join(facts.world.stateDir, ".env");
}

export function bindWithoutAuth(facts: StartupFacts): Blocker[] {
  const bind = effectiveBind(facts);
  if (!bind?.exposed) return [];
  const auth = gatewayAuth(facts);
  if (auth.reachable || auth.mode === "trusted-proxy") return [];
  return [{
    code: "bind_without_auth",
    summary: `${bind.source} is "${bind.mode}" (beyond loopback) but the gateway has no shared secret (${auth.why}): OpenClaw refuses to start ("Refusing to bind gateway to ${bind.mode.split(" ")[0]} without auth").`,
    evidence: { bind: bind.mode, authMode: auth.mode, configPath: facts.world.config.path, serviceEnvPath: serviceEnvPath(facts) },
  }];
}

/** Config paths whose env SecretRefs the gateway must resolve before it starts (verified: gateway auth). */
export const STARTUP_SECRET_PATHS = ["gateway.auth.token", "gateway.auth.password"] as const;

/** The variables those SecretRefs name: their absence is this module's finding, not drift's. */
export function startupSecretVariables(raw: Record<string, unknown> | undefined): string[] {
  return STARTUP_SECRET_PATHS.flatMap((path) => {
    const ref = configValue(raw, path) as { source?: unknown; id?: unknown } | undefined;
    return ref && typeof ref === "object" && ref.source === "env" && typeof ref.id === "string" ? [ref.id] : [];
  });
}

export function secretsUnresolved(facts: StartupFacts): Blocker[] {
  const env = flattenEnv(facts.env);
  const found: Blocker[] = [];
  for (const path of STARTUP_SECRET_PATHS) {
    const ref = configValue(facts.world.config.raw, path) as { source?: unknown; id?: unknown } | undefined;
    if (!ref || typeof ref !== "object" || ref.source !== "env" || typeof ref.id !== "string") continue;
    if (resolveSecret(ref, env)?.value !== undefined && !isPlaceholder(env[ref.id])) continue;
    found.push({
      code: "secret_unresolved",
      summary: `${path} is an env SecretRef to ${ref.id}, which the gateway's environment (${facts.env.layers.map((l) => l.label).join(", ")}) does not set: OpenClaw refuses to start ("required secrets are unavailable").`,
      evidence: { configKey: path, reference: `env SecretRef ${ref.id}`, variable: ref.id, envSource: facts.env.layers[0]?.label ?? "env", serviceEnvPath: serviceEnvPath(facts) },
    });
  }
  return found;
}

export function authUnconfigured(facts: StartupFacts): Blocker[] {
  const auth = gatewayAuth(facts);
  // An unresolved SecretRef is its own finding (one fact, one finding).
  if (!auth.secret || auth.reachable || auth.unresolvedRef) return [];
  // A default install with no token anywhere is not a mistake; a token mode
  // asked for, clients holding a token the gateway will never have, or a placeholder where it belongs, is.
  if (auth.modeSource === "default" && !facts.world.clientToken?.value && !auth.placeholder) return [];
  if (effectiveBind(facts)?.exposed) return []; // bind_without_auth says it, as the gateway does
  const variable = auth.secret === "token" ? "OPENCLAW_GATEWAY_TOKEN" : "OPENCLAW_GATEWAY_PASSWORD";
  const inShell = facts.env.shellOnly?.[variable] !== undefined;
  return [{
    code: "auth_unconfigured",
    summary: `gateway.auth.mode is ${auth.mode}${auth.modeSource === "default" ? " (the default)" : ""} but no usable ${auth.secret} reaches the gateway: ${auth.why}${inShell ? `; ${variable} is set only in this shell` : ""}. OpenClaw ${auth.placeholder ? 'refuses to start ("is a known redaction sentinel, not a credential")' : auth.secret === "password" ? "refuses to start" : "starts on a random runtime token no client knows (older versions refuse to start)"}.`,
    evidence: { authMode: auth.mode, secret: auth.secret, variable, why: auth.why, configPath: facts.world.config.path, serviceEnvPath: serviceEnvPath(facts), ...(auth.placeholder ? { placeholder: auth.placeholder } : {}) },
  }];
}

// --- who holds the port ----------------------------------------------------

export function portHeldByAnother(facts: StartupFacts): Blocker[] {
  const { owner, world } = facts;
  if (owner.listenAddresses.length === 0) return [];
  const holder = owner.gateway;
  const isGateway = !!holder && (!!holder.installDir || holder.argv[0] === "openclaw-gateway");
  if (isGateway && (!holder.stateDir || holder.stateDir === world.stateDir)) return [];
  const executable = !owner.pid
    ? "a process this user may not inspect"
    : isGateway
      ? `an OpenClaw gateway for another state dir, ${holder.stateDir}`
      : (holder?.exe ?? holder?.argv[0] ?? "unknown executable");
  return [{
    code: "port_in_use",
    summary: `127.0.0.1:${world.port} is held by ${owner.pid ? `pid ${owner.pid} (${executable})` : executable}, not by a gateway for ${world.stateDir}: the gateway cannot bind its port ("another gateway instance is already listening").`,
    evidence: { port: String(world.port), pid: owner.pid ? String(owner.pid) : "unknown", executable, listenAddresses: owner.listenAddresses.join(",") },
  }];
}

// --- placeholders where values belong ----------------------------------------

/** Where a placeholder means the gateway's own auth: auth_unconfigured says it (the gateway refuses to start). */
const AUTH_POSITIONS: ReadonlySet<string> = new Set(["OPENCLAW_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_PASSWORD", "gateway.auth.token", "gateway.auth.password"]);

export function placeholders(facts: StartupFacts): Blocker[] {
  const found: Blocker[] = [];
  const auth = gatewayAuth(facts);
  // The auth secret's placeholder is auth_unconfigured's fact (or, on a non-loopback bind, part of bind_without_auth's why).
  const skip = (variable: string) => AUTH_POSITIONS.has(variable) && auth.placeholder !== undefined;
  for (const service of facts.services) {
    for (const [variable, value] of Object.entries(service.environment)) {
      if (!isPlaceholder(value) || skip(variable)) continue;
      found.push({
        code: "secret_placeholder",
        summary: `${variable} in service ${service.name} holds the placeholder ${value.trim()} instead of a value.`,
        evidence: { variable, where: service.environmentSources[variable]?.path ?? service.definitionPath ?? service.name, placeholder: value.trim() },
      });
    }
  }
  // The live gateway's own environment (read from the process) when no service definition said it already.
  const own = facts.env.layers[0];
  if (own && own.label !== "env") {
    for (const [variable, value] of Object.entries(own.vars)) {
      if (!isPlaceholder(value) || skip(variable) || found.some((f) => f.evidence.variable === variable)) continue;
      found.push({
        code: "secret_placeholder",
        summary: `${variable} in the ${own.label} holds the placeholder ${value!.trim()} instead of a value.`,
        evidence: { variable, where: own.label, placeholder: value!.trim() },
      });
    }
  }
  for (const [path, value] of placeholderPaths(facts.world.config.raw)) {
    if (skip(path)) continue;
    found.push({
      code: "secret_placeholder",
      summary: `${path} in ${facts.world.config.path} holds the placeholder ${value} instead of a value.`,
      evidence: { variable: path, where: facts.world.config.path, placeholder: value },
    });
  }
  return found;
}

/** Dotted paths of config strings that are a placeholder (iterative: a config may nest deeply). */
function placeholderPaths(raw: unknown): [string, string][] {
  const found: [string, string][] = [];
  const pending: [string, unknown][] = [["", raw]];
  while (pending.length > 0) {
    const [path, node] = pending.pop()!;
    if (typeof node === "string") {
      if (isPlaceholder(node)) found.push([path, node.trim()]);
    } else if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) pending.push([path ? `${path}.${key}` : key, value]);
    }
  }
  return found.sort((a, b) => a[0].localeCompare(b[0]));
}
