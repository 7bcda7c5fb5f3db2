// Which of the gateway service's variables the agent's own service gets.
//
// The agent must resolve the same world as the gateway (state dir, config,
// port, which `openclaw` and `node` are on PATH), so it gets the variables
// OpenClaw's discovery reads, copied from the gateway's service definition.
// It never gets a secret value written into its own unit: a second copy of a
// token in another file goes stale on rotation and widens who can read it
// (plists are usually 0644). The checks do not need one: they read the
// gateway's service definition and env files themselves, and compare tokens
// by fingerprint. On systemd the agent's unit points at the gateway's own
// EnvironmentFile= instead, so the values stay in the one file OpenClaw owns.
import type { ServiceDefinition } from "../discovery/gateway-service.ts";
import { isSecretName, looksLikeCredential } from "../discovery/secret-shapes.ts";

/** Names OpenClaw's discovery (and Node's TLS/proxy setup) reads: what makes "the same world". */
const WORLD_NAMES = new Set([
  "PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR",
  "NODE_EXTRA_CA_CERTS", "NODE_USE_SYSTEM_CA", "HOMEBREW_PREFIX",
  "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy",
]);
const WORLD_PREFIXES = [/^LC_/, /^XDG_/, /^OPENCLAW_/];
/** Set per login session by the manager or the terminal: never meaningful inside another unit. */
const SESSION_NAMES = /^(?:XDG_RUNTIME_DIR|XDG_SESSION_\w+|XDG_SEAT\w*|XDG_VTNR|XDG_CURRENT_DESKTOP|XDG_GREETER_DATA_DIR|TMPDIR|USER|LOGNAME)$/;

/**
 * OpenClaw variables that describe the gateway *process*, not its world:
 * copied, they would make the agent's service look like a gateway service
 * (OPENCLAW_SERVICE_MARKER is how OpenClaw recognises its own) or give the
 * agent the gateway's heap size.
 */
const GATEWAY_PROCESS_NAMES = new Set([
  "OPENCLAW_SERVICE_MARKER", "OPENCLAW_SERVICE_KIND", "OPENCLAW_SERVICE_VERSION",
  "OPENCLAW_WINDOWS_TASK_NAME", "OPENCLAW_WINDOWS_TASK_HIDDEN_LAUNCHER", "OPENCLAW_WRAPPER", "NODE_OPTIONS",
]);

export type VariableDecision =
  | { name: string; action: "copy"; value: string; from: string }
  | { name: string; action: "by-reference"; file: string }
  | { name: string; action: "secret"; from: string }
  | { name: string; action: "skip"; from: string; reason: string };

export interface AgentEnvironment {
  /** What the agent's unit sets inline. */
  environment: Record<string, string>;
  /** Env files the unit loads, always optional: the agent must start even when the gateway's file is gone. */
  environmentFiles: string[];
  /** One decision per gateway variable, for the dry-run account. */
  decisions: VariableDecision[];
}

/**
 * Splits the gateway's environment into what the agent's unit sets, what it
 * loads by reference, and what it leaves out (and why). `manager` decides how
 * env files are honoured: systemd can load the same file, launchd cannot.
 * Without a gateway service, `fallbackEnv` (this shell) supplies the world.
 */
export function agentEnvironment(
  gateway: Pick<ServiceDefinition, "environment" | "environmentSources" | "envFiles" | "servicePath"> | undefined,
  manager: "launchd" | "systemd",
  fallbackEnv: Readonly<Record<string, string | undefined>>,
): AgentEnvironment {
  const environment: Record<string, string> = {};
  const decisions: VariableDecision[] = [];
  const environmentFiles: string[] = [];

  if (manager === "systemd" && gateway) {
    for (const file of gateway.envFiles) if (!environmentFiles.includes(file.path)) environmentFiles.push(file.path);
  }

  const entries: [string, string, string, string | undefined][] = gateway
    ? Object.entries(gateway.environment).map(([name, value]) => {
        const source = gateway.environmentSources[name];
        const byFile = source && (source.kind === "unit-environment-file") ? source.path : undefined;
        return [name, value, source?.path ?? "the gateway's service", byFile];
      })
    : Object.entries(fallbackEnv)
        .filter((e): e is [string, string] => e[1] !== undefined)
        .map(([name, value]) => [name, value, "this shell", undefined]);

  for (const [name, value, from, byFile] of entries.sort(([a], [b]) => a.localeCompare(b))) {
    if (byFile && manager === "systemd" && environmentFiles.includes(byFile)) {
      decisions.push({ name, action: "by-reference", file: byFile });
      continue;
    }
    // Named as a secret whatever else it is, so the account lists every one left out.
    if (isSecretName(name) || looksLikeCredential(value)) {
      if (gateway || WORLD_PREFIXES.some((p) => p.test(name))) decisions.push({ name, action: "secret", from });
      continue;
    }
    if (GATEWAY_PROCESS_NAMES.has(name)) {
      if (gateway) decisions.push({ name, action: "skip", from, reason: "describes the gateway process, not its world" });
      continue;
    }
    // From a shell (no gateway service), session variables describe the terminal, not a service.
    const world = (WORLD_NAMES.has(name) || WORLD_PREFIXES.some((p) => p.test(name))) && (gateway !== undefined || !SESSION_NAMES.test(name));
    if (!world) {
      // Outside the world-defining set, a variable is only listed when the gateway
      // has it: the shell's own variables are too many and none of the agent's business.
      if (gateway) decisions.push({ name, action: "skip", from, reason: "not read by OpenClaw's discovery" });
      continue;
    }
    if (value === "") {
      // Empty is how OpenClaw and shells say "unset"; written out, it would mean "set to nothing".
      if (gateway) decisions.push({ name, action: "skip", from, reason: "empty" });
      continue;
    }
    environment[name] = value;
    decisions.push({ name, action: "copy", value, from });
  }

  // PATH decides which openclaw, node and tailscale the agent finds: always
  // explicit, the manager's default when the gateway's service sets none.
  if (environment.PATH === undefined && !decisions.some((d) => d.name === "PATH")) {
    const path = gateway?.servicePath ?? fallbackEnv.PATH;
    if (path) {
      environment.PATH = path;
      decisions.push({ name: "PATH", action: "copy", value: path, from: gateway ? "the service manager's default (the gateway's service sets none)" : "this shell" });
    }
  }
  return { environment, environmentFiles, decisions };
}
