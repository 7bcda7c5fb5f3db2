// The gateway's LaunchAgent(s) as ServiceDefinitions: what the plist says, what
// the service-env file it sources adds, and what launchd has loaded.
//
// How OpenClaw installs it (openclaw dist/constants-*.mjs, launchd-plist-*.mjs,
// launchd-service-files-*.mjs, openclaw/docs/gateway/index.md):
// - label `ai.openclaw.gateway`, or `ai.openclaw.<profile>` for a named profile
//   (profile kept as typed; "default" means none), overridden by
//   OPENCLAW_LAUNCHD_LABEL; plist at ~/Library/LaunchAgents/<label>.plist;
// - ProgramArguments = ["/bin/sh", "$STATE_DIR/service-env/<label>-env-wrapper.sh",
//   "$STATE_DIR/service-env/<label>.env", node, …, "gateway", "--port", N]
//   (or the wrapper directly as argv[0]); the wrapper sources the .env file and
//   execs the rest, so variables in the file override the plist's;
// - older installs put the variables in the plist's EnvironmentVariables, where
//   `gateway install` sometimes wrote `__OPENCLAW_REDACTED__` instead of values (#13340).
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { ServiceDefinition, ServiceDiscoveryInput, ServiceEnvSource } from "./gateway-service.ts";
import { readServiceEnvFile, type ServiceEnvFile } from "./dotenv-service-env.ts";
import { LAUNCHD_DEFAULT_PATH, launchctlPrint, readLaunchAgentPlist, type LaunchctlPrintResult } from "../platform/launchd.ts";
import type { ServiceDiscoveryError } from "./find-gateway-service.ts";

export const GATEWAY_LAUNCH_AGENT_LABEL = "ai.openclaw.gateway";
/** What OpenClaw's `gateway install` wrote when it redacted a value it should have kept (#13340). */
export const REDACTED_PLACEHOLDER = "__OPENCLAW_REDACTED__";

const LABEL = /^[A-Za-z0-9._-]+$/;

/** The label OpenClaw's CLI would use in this environment (resolveLaunchAgentLabel). */
export function expectedLaunchdLabel(env: Readonly<Record<string, string | undefined>>): string {
  const override = env.OPENCLAW_LAUNCHD_LABEL?.trim();
  if (override && LABEL.test(override)) return override;
  const profile = env.OPENCLAW_PROFILE?.trim();
  if (!profile || profile.toLowerCase() === "default") return GATEWAY_LAUNCH_AGENT_LABEL;
  return `ai.openclaw.${profile}`;
}

export function launchAgentsDir(home: string): string {
  return join(home, "Library", "LaunchAgents");
}

export interface LaunchdDiscovery {
  services: ServiceDefinition[];
  errors: ServiceDiscoveryError[];
}

/**
 * Every gateway LaunchAgent of this user: the expected label (always looked
 * up, even without a plist, since launchd may still hold it loaded), plus any
 * other `ai.openclaw.*` plist that is a gateway (profiles, renamed labels):
 * two gateways on one host is itself a finding for the gateway check.
 */
export async function findLaunchdServices(input: ServiceDiscoveryInput): Promise<LaunchdDiscovery> {
  const dir = launchAgentsDir(input.home);
  const expected = expectedLaunchdLabel(input.env);
  const others = (await readdir(dir).catch(() => [] as string[]))
    .filter((f) => f.startsWith("ai.openclaw.") && f.endsWith(".plist"))
    .map((f) => f.slice(0, -".plist".length))
    .filter((label) => label !== expected && LABEL.test(label));
  const results = await Promise.all([
    describeLaunchAgent(input, expected, { expected: true }),
    ...others.map((label) => describeLaunchAgent(input, label, { expected: false })),
  ]);
  const services: ServiceDefinition[] = [];
  const errors: ServiceDiscoveryError[] = [];
  for (const result of results) {
    if (result.service) services.push(result.service);
    errors.push(...result.errors);
  }
  return { services, errors };
}

interface Described {
  service?: ServiceDefinition;
  errors: ServiceDiscoveryError[];
}

/** One label → its ServiceDefinition; `expected: false` ones are kept only when they are gateways. */
export async function describeLaunchAgent(input: ServiceDiscoveryInput, label: string, options: { expected: boolean }): Promise<Described> {
  const plistPath = join(launchAgentsDir(input.home), `${label}.plist`);
  const [read, print] = await Promise.all([readLaunchAgentPlist(plistPath), launchctlPrint(input.runner, input.uid, label, input.signal)]);
  const errors: ServiceDiscoveryError[] = [];
  const fail = (message: string, path?: string) => errors.push({ manager: "launchd", name: label, path, message });

  if (!read.ok && !read.missing) fail(read.error, plistPath);
  if (print.status === "unknown") fail(`cannot tell whether ${label} is loaded: ${print.detail}`);

  // Without a readable plist, launchd's copy of the job is the best account of it.
  const fromLaunchd = print.status === "loaded" ? print.job : undefined;
  const rawArgs = read.ok ? read.plist.programArguments : (fromLaunchd?.arguments ?? []);
  if (!read.ok && !fromLaunchd) {
    // Nothing on disk and nothing loaded: no such service. An unreadable plist
    // is reported for the expected label only: another ai.openclaw.* file may
    // be the Mac app's or the node host's, not a gateway.
    return { errors: options.expected ? errors : [] };
  }

  const wrapper = serviceEnvWrapperLayout(rawArgs);
  const envFile = wrapper ? await readServiceEnvFile(wrapper.envFilePath) : undefined;
  if (envFile?.error) fail(envFile.error, envFile.path);
  if (envFile?.exists && !envFile.error && !envFile.headerValid) {
    fail(`${envFile.path} does not start with OpenClaw's header line: the env wrapper refuses it (exit 78) and the gateway does not start`, envFile.path);
  }
  if (envFile && envFile.problems.length > 0) fail(`${envFile.path}: ${envFile.problems.join("; ")}`, envFile.path);
  if (read.ok && read.plist.nonStringEnvironmentKeys.length > 0) {
    fail(`${plistPath}: EnvironmentVariables ${read.plist.nonStringEnvironmentKeys.join(", ")} are not strings; launchd ignores them`, plistPath);
  }

  const plistEnv = read.ok ? read.plist.environmentVariables : (fromLaunchd?.environment ?? {});
  const definitionPath = read.ok || !read.missing ? plistPath : fromLaunchd?.path;
  // What the wrapper's sh inherits: the plist's variables and those launchd gives every job.
  const inherited = new Set([...Object.keys(plistEnv), ...Object.keys(fromLaunchd?.defaultEnvironment ?? {}), ...LAUNCHD_JOB_VARIABLES]);
  const { environment, environmentSources } = mergeEnvironment(plistEnv, definitionPath ?? plistPath, envFile, inherited);
  // `NAME=value` without `export` is a shell variable the exec'd gateway never receives.
  const lost = Object.keys(envFile?.unexported ?? {}).filter((name) => !inherited.has(name));
  if (lost.length > 0) fail(`${envFile!.path}: ${lost.join(", ")} ${lost.length === 1 ? "is" : "are"} assigned without \`export\`: the wrapper's sh keeps ${lost.length === 1 ? "it" : "them"} as shell variables and the gateway never sees ${lost.length === 1 ? "it" : "them"}`, envFile!.path);

  if (!options.expected && !isGatewayService(rawArgs, environment)) return { errors: [] };

  const service: ServiceDefinition = {
    manager: "launchd",
    name: label,
    definitionPath,
    definitionMtimeMs: read.mtimeMs,
    loaded: print.status === "loaded",
    state: launchdState(print),
    pid: fromLaunchd?.pid,
    programArguments: wrapper ? rawArgs.slice(wrapper.commandStart) : rawArgs,
    environment,
    environmentSources,
    envFiles: envFile ? [{ path: envFile.path, exists: envFile.exists, mtimeMs: envFile.mtimeMs, optional: false }] : [],
    // launchd gives a job without PATH its own default, never the user's shell PATH.
    servicePath: environment.PATH ?? fromLaunchd?.defaultEnvironment.PATH ?? LAUNCHD_DEFAULT_PATH,
    workingDirectory: read.ok ? read.plist.workingDirectory : undefined,
    runs: fromLaunchd?.runs,
    lastExitStatus: fromLaunchd?.lastExitStatus,
    // What launchd loaded wins: the plist on disk may have been edited since.
    stdoutPath: fromLaunchd?.stdoutPath ?? (read.ok ? read.plist.standardOutPath : undefined),
    stderrPath: fromLaunchd?.stderrPath ?? (read.ok ? read.plist.standardErrorPath : undefined),
  };
  return { service, errors };
}

function launchdState(print: LaunchctlPrintResult): string {
  if (print.status === "loaded") return print.job.state ?? "loaded";
  if (print.status === "not-loaded") return "not loaded";
  // Honest about not knowing: `loaded` is false only because we could not ask.
  return `unknown (${print.detail})`;
}

/**
 * OpenClaw's wrapper layout: [/bin/sh, …/<label>-env-wrapper.sh, …/<label>.env, cmd…]
 * or [wrapper, envFile, cmd…] (isLaunchAgentEnvironmentWrapperArgs).
 */
export function serviceEnvWrapperLayout(args: readonly string[]): { envFilePath: string; commandStart: number } | undefined {
  const pair = (wrapper: string | undefined, envFile: string | undefined) =>
    wrapper !== undefined && envFile !== undefined && wrapper.endsWith("-env-wrapper.sh") && envFile.endsWith(".env");
  if (args[0] === "/bin/sh" && pair(args[1], args[2])) return { envFilePath: args[2]!, commandStart: 3 };
  if (pair(args[0], args[1])) return { envFilePath: args[1]!, commandStart: 2 };
  return undefined;
}

/**
 * In every user agent's environment without a plist entry: PATH ("default environment"),
 * XPC_SERVICE_NAME ("environment") and SSH_AUTH_SOCK ("inherited environment") in
 * `launchctl print` (test/fixtures/macos/launchctl-print-running.txt), and the
 * account's HOME, USER, LOGNAME, SHELL, TMPDIR, which launchd's spawn adds.
 */
const LAUNCHD_JOB_VARIABLES = ["PATH", "XPC_SERVICE_NAME", "XPC_FLAGS", "SSH_AUTH_SOCK", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR"];

function mergeEnvironment(plistEnv: Record<string, string>, plistPath: string, envFile: ServiceEnvFile | undefined, inherited: ReadonlySet<string>) {
  const environment: Record<string, string> = {};
  const environmentSources: Record<string, ServiceEnvSource> = {};
  for (const [key, value] of Object.entries(plistEnv)) {
    environment[key] = value;
    environmentSources[key] = { kind: "plist", path: plistPath };
  }
  // The wrapper sources the file after launchd applied the plist: the file wins. A plain
  // assignment (no `export`) changes a variable only if the plist already put it in the environment.
  const fromFile = { ...Object.fromEntries(Object.entries(envFile?.unexported ?? {}).filter(([key]) => inherited.has(key))), ...envFile?.values };
  for (const [key, value] of Object.entries(fromFile)) {
    environment[key] = value;
    environmentSources[key] = { kind: "service-env-file", path: envFile!.path };
  }
  return { environment, environmentSources };
}

/** OpenClaw's own marker (isGatewayServiceEnv), else a `gateway` subcommand in argv. */
function isGatewayService(args: readonly string[], env: Record<string, string>): boolean {
  if (env.OPENCLAW_SERVICE_MARKER?.trim() === "openclaw") {
    const kind = env.OPENCLAW_SERVICE_KIND?.trim();
    return !kind || kind === "gateway";
  }
  return args.slice(1).includes("gateway");
}

/** Variables whose value is OpenClaw's redaction placeholder: the service runs with that literal (#13340). */
export function redactedVariables(service: Pick<ServiceDefinition, "environment">): string[] {
  return Object.entries(service.environment)
    .filter(([, value]) => value === REDACTED_PLACEHOLDER)
    .map(([key]) => key)
    .sort();
}
