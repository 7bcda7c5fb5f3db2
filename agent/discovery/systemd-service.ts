// The gateway's systemd user unit as a ServiceDefinition.
//
// How OpenClaw installs it (openclaw dist/constants-*.mjs, systemd-unit-*.mjs,
// systemd-service-files-*.mjs, openclaw/docs/gateway/index.md): unit
// `openclaw-gateway.service`, or `openclaw-gateway-<profile>.service`, or
// OPENCLAW_SYSTEMD_UNIT; file ~/.config/systemd/user/<unit>; `Environment=`
// lines for most variables and `EnvironmentFile=-$STATE_DIR/gateway.systemd.env`
// for the ones that came from the state dir's .env.
//
// When `systemctl --user` reaches a user manager, its merged view is used
// (drop-ins, specifiers and resets already applied; pid, state, start time).
// When it does not (no login session, no lingering, a container: this is
// common), the unit files are read directly and `loaded` stays false with the
// reason in `state`: the definition is known, whether systemd runs it is not.
import { statSync } from "node:fs";
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ServiceDefinition, ServiceDiscoveryInput, ServiceEnvSource } from "./gateway-service.ts";
import type { ServiceDiscoveryError } from "./find-gateway-service.ts";
import type { CommandResult } from "../platform/command-runner.ts";
import { globMatch, hasGlob } from "../../shared/glob-match.ts";
import {
  parseEnvironmentDirective,
  parseEnvironmentFile,
  parseEnvironmentFileDirective,
  parseExecStartDirective,
  parseShowEnvironment,
  parseShowEnvironmentFiles,
  parseShowExecStart,
  parseSystemctlShow,
  parseSystemdTimestamp,
  readUnitWithDropIns,
  sameCommandLine,
  splitQuotedWords,
  expandSpecifiers,
  type EnvironmentFileSpec,
  type SpecifierContext,
  type UnitDirective,
} from "../platform/systemd.ts";

export const GATEWAY_SYSTEMD_UNIT = "openclaw-gateway.service";
/** Renamed long ago; OpenClaw still migrates it, so it may linger on old hosts. */
export const LEGACY_GATEWAY_SYSTEMD_UNITS = ["clawdbot-gateway.service"] as const;

/**
 * systemd's compiled-in PATH for user services when the user manager's own
 * environment has none (DEFAULT_USER_PATH_NORMAL, src/basic/path-util.h); the
 * real value comes from `systemctl --user show-environment` when reachable.
 */
export const SYSTEMD_DEFAULT_USER_PATH = "/usr/local/bin:/usr/bin";

const SYSTEMCTL_TIMEOUT_MS = 1500;

/** Properties asked of `systemctl --user show`; the fixture keys are built from this. */
export const SHOW_PROPERTIES = [
  "Id", "LoadState", "ActiveState", "SubState", "FragmentPath", "DropInPaths", "NeedDaemonReload",
  "MainPID", "ExecMainStartTimestamp", "ExecMainExitTimestamp", "ExecMainCode", "ExecMainStatus", "NRestarts",
  "ExecStart", "Environment", "EnvironmentFiles", "UnsetEnvironment", "WorkingDirectory",
] as const;

export function systemctlShowArgs(unit: string): string[] {
  return ["--user", "show", unit, "-p", SHOW_PROPERTIES.join(",")];
}

/** The unit OpenClaw's CLI would use in this environment (resolveGatewaySystemdUnitEnv). */
export function expectedSystemdUnit(env: Readonly<Record<string, string | undefined>>): string {
  const override = env.OPENCLAW_SYSTEMD_UNIT?.trim();
  if (override) return override.endsWith(".service") ? override : `${override}.service`;
  const profile = env.OPENCLAW_PROFILE?.trim();
  if (!profile || profile.toLowerCase() === "default") return GATEWAY_SYSTEMD_UNIT;
  return `openclaw-gateway-${profile}.service`;
}

/** User unit search path, highest priority first (systemd.unit(5) "User Unit Search Path", the parts a user can write plus the vendor ones). */
export function userUnitDirs(input: Pick<ServiceDiscoveryInput, "env" | "home">): string[] {
  const configHome = input.env.XDG_CONFIG_HOME?.trim() || join(input.home, ".config");
  const dataHome = input.env.XDG_DATA_HOME?.trim() || join(input.home, ".local", "share");
  const dirs = [
    join(configHome, "systemd", "user"),
    join(input.home, ".config", "systemd", "user"),
    "/etc/systemd/user",
    join(dataHome, "systemd", "user"),
    "/usr/local/lib/systemd/user",
    "/usr/lib/systemd/user",
  ];
  return [...new Set(dirs)];
}

export interface SystemdDiscovery {
  services: ServiceDefinition[];
  errors: ServiceDiscoveryError[];
}

/** The expected unit, other openclaw-gateway*.service profiles found on disk, and a legacy unit if present. */
export async function findSystemdServices(input: ServiceDiscoveryInput): Promise<SystemdDiscovery> {
  const expected = expectedSystemdUnit(input.env);
  const onDisk = new Set<string>();
  for (const dir of userUnitDirs(input).slice(0, 2)) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (/^openclaw-gateway(-[A-Za-z0-9._-]+)?\.service$/.test(name) || (LEGACY_GATEWAY_SYSTEMD_UNITS as readonly string[]).includes(name)) onDisk.add(name);
    }
  }
  onDisk.delete(expected);
  const manager = await userManagerPath(input);
  const results = await Promise.all([expected, ...onDisk].map((unit) => describeSystemdUnit(input, unit, manager)));
  const services: ServiceDefinition[] = [];
  const errors: ServiceDiscoveryError[] = [];
  for (const r of results) {
    if (r.service) services.push(r.service);
    errors.push(...r.errors);
  }
  return { services, errors };
}

interface ManagerInfo {
  reachable: boolean;
  /** Why `systemctl --user` could not be used. */
  detail?: string;
  path?: string;
}

/** `systemctl --user show-environment`: whether the user manager answers, and the PATH it gives services. */
async function userManagerPath(input: ServiceDiscoveryInput): Promise<ManagerInfo> {
  const key = input.userManager ? userBusKey(input.env, input.uid) : "";
  const kept = input.userManager?.failure;
  if (kept && kept.key === key && Date.now() - kept.atMs < USER_MANAGER_MAX_AGE_MS) return { reachable: false, detail: kept.detail };
  const result = await runSystemctl(input, ["--user", "show-environment"]);
  if (input.userManager) input.userManager.failure = result.exitCode !== 0 && result.exitCode !== 124 ? { key, detail: systemctlFailure(result), atMs: Date.now() } : undefined;
  if (result.exitCode !== 0) return { reachable: false, detail: systemctlFailure(result) };
  const path = /^PATH=(.*)$/m.exec(result.stdout)?.[1];
  return { reachable: true, path: path ? (splitQuotedWords(path)[0] ?? path) : undefined };
}

/** Even with nothing changed, an unreachable user manager is asked again after this. */
export const USER_MANAGER_MAX_AGE_MS = 10 * 60_000;

/**
 * What `systemctl --user` connects to: $XDG_RUNTIME_DIR/systemd/private and
 * /bus, or $DBUS_SESSION_BUS_ADDRESS; and the uid's /run/user dir, which newer
 * systemd falls back to without XDG_RUNTIME_DIR.
 */
function userBusKey(env: Readonly<Record<string, string | undefined>>, uid: number): string {
  const runtime = env.XDG_RUNTIME_DIR ?? "";
  const bus = env.DBUS_SESSION_BUS_ADDRESS ?? "";
  const paths = [...new Set([runtime, `/run/user/${uid}`].filter(Boolean).flatMap((dir) => [join(dir, "systemd", "private"), join(dir, "bus")]))];
  for (const part of bus.split(";")) {
    const path = /(?:^|[,:])path=([^,]+)/.exec(part)?.[1];
    if (path) paths.push(path);
  }
  const files = paths.map((path) => {
    const info = statSync(path, { throwIfNoEntry: false, bigint: true });
    return info ? `${path}=${info.ino}:${info.ctimeNs}` : `${path}=-`;
  });
  return JSON.stringify([runtime, bus, files]);
}

function runSystemctl(input: ServiceDiscoveryInput, args: string[]): Promise<CommandResult> {
  // TZ=UTC makes ExecMainStartTimestamp unambiguous (systemd prints local time with a zone abbreviation).
  const env: NodeJS.ProcessEnv = { ...input.env, TZ: "UTC" };
  return input.runner.run("systemctl", args, { timeoutMs: SYSTEMCTL_TIMEOUT_MS, signal: input.signal, env });
}

function systemctlFailure(result: CommandResult): string {
  if (result.exitCode === 127) return "systemctl is not installed";
  if (result.exitCode === 124) return "systemctl --user timed out";
  const line = (result.stderr || result.stdout).split("\n").map((l) => l.trim()).find(Boolean);
  return `systemctl --user failed${line ? `: ${line.slice(0, 200)}` : ` (exit ${result.exitCode})`}`;
}

interface Described {
  service?: ServiceDefinition;
  errors: ServiceDiscoveryError[];
}

export async function describeSystemdUnit(input: ServiceDiscoveryInput, unit: string, manager: ManagerInfo): Promise<Described> {
  const errors: ServiceDiscoveryError[] = [];
  const fail = (message: string, path?: string) => errors.push({ manager: "systemd", name: unit, path, message });
  const ctx: SpecifierContext = {
    unitName: unit,
    home: input.home,
    uid: input.uid,
    userName: input.env.USER ?? input.env.LOGNAME,
    xdgRuntimeDir: input.env.XDG_RUNTIME_DIR,
    xdgConfigHome: input.env.XDG_CONFIG_HOME,
    xdgStateHome: input.env.XDG_STATE_HOME,
    xdgCacheHome: input.env.XDG_CACHE_HOME,
  };

  let show: Map<string, string[]> | undefined;
  let managerDetail = manager.detail;
  if (manager.reachable) {
    const result = await runSystemctl(input, systemctlShowArgs(unit));
    if (result.exitCode === 0 && /^LoadState=/m.test(result.stdout)) show = parseSystemctlShow(result.stdout);
    else managerDetail = result.exitCode === 0 ? "`systemctl --user show` printed no LoadState" : systemctlFailure(result);
  }
  const one = (key: string) => show?.get(key)?.at(-1);

  // Which file defines the unit: the manager says (FragmentPath); else the first search dir that has it.
  const dirs = userUnitDirs(input);
  const fragment = one("FragmentPath") || (await firstExisting(dirs.map((d) => join(d, unit))));
  const dropInDirs = dirs.map((d) => join(d, `${unit}.d`));
  const files = fragment ? await readUnitWithDropIns(fragment, dropInDirs) : undefined;
  if (files && !files.ok && !files.missing) fail(files.error, fragment);
  if (files?.ok && files.problems.length > 0) fail(files.problems.join("; "), fragment);

  const loadState = one("LoadState");
  if (!files?.ok && (!show || loadState === "not-found")) {
    // No unit anywhere (an unreadable one is already an error).
    return { errors: files && !files.ok && !files.missing ? errors : [] };
  }
  if (!show) fail(`${unit}: ${managerDetail ?? "systemctl --user unavailable"}; read from the unit file, so whether it is loaded or running is unknown`, fragment);
  if (one("NeedDaemonReload") === "yes") fail(`${unit} changed on disk since systemd loaded it: run \`systemctl --user daemon-reload\`, then restart it`, fragment);

  if (show && loadState === "not-found" && files?.ok) {
    fail(`${fragment} exists but the user manager has not loaded ${unit}: run \`systemctl --user daemon-reload\``, fragment);
  }

  const fromFiles = files?.ok ? evaluateDirectives(files.directives, ctx) : undefined;
  for (const p of fromFiles?.problems ?? []) fail(p, fragment);

  // The manager's merged view when it has the unit; the files otherwise.
  const view = show && loadState !== "not-found" ? show : undefined;
  const shownEnvironment = view ? parseShowEnvironment(view.get("Environment")?.join(" ") ?? "") : undefined;
  if (shownEnvironment && shownEnvironment.unprintable > 0) {
    fail(`${unit}: systemctl printed some Environment= values as [unprintable] (systemd < 248); those variables are missing here`, fragment);
  }
  // Environment= first (in order), EnvironmentFile=s override it in order, UnsetEnvironment= last (systemd.exec(5)).
  const inline: [string, string][] = shownEnvironment?.assignments ?? fromFiles?.environment ?? [];
  const fileSpecs: EnvironmentFileSpec[] = view ? parseShowEnvironmentFiles(view.get("EnvironmentFiles") ?? view.get("EnvironmentFile") ?? []) : (fromFiles?.environmentFiles ?? []);
  const unset = view ? splitQuotedWords(view.get("UnsetEnvironment")?.join(" ") ?? "") : (fromFiles?.unset ?? []);

  const environment: Record<string, string> = {};
  const environmentSources: Record<string, ServiceEnvSource> = {};
  for (const [key, value] of inline) {
    environment[key] = value;
    environmentSources[key] = { kind: "unit-environment", path: fromFiles?.environmentOrigin.get(key) ?? fragment ?? unit };
  }
  const envFiles: ServiceDefinition["envFiles"] = [];
  for (const spec of fileSpecs) {
    for (const file of await expandEnvironmentFile(spec)) {
      envFiles.push({ path: file.path, exists: file.exists, mtimeMs: file.mtimeMs, optional: spec.optional });
      if (file.error) fail(file.error, file.path);
      else if (!file.exists && !spec.optional) fail(`EnvironmentFile=${file.path} is missing and not optional: systemd refuses to start ${unit}`, file.path);
      for (const p of file.problems) fail(`${file.path}: ${p}`, file.path);
      for (const [key, value] of Object.entries(file.values)) {
        environment[key] = value;
        environmentSources[key] = { kind: "unit-environment-file", path: file.path };
      }
    }
  }
  for (const entry of unset) {
    const eq = entry.indexOf("=");
    const key = eq < 0 ? entry : entry.slice(0, eq);
    // `UnsetEnvironment=KEY=value` removes only that exact assignment.
    if (eq < 0 || environment[key] === entry.slice(eq + 1)) {
      delete environment[key];
      delete environmentSources[key];
    }
  }

  const exec = view ? parseShowExecStart(view.get("ExecStart")?.[0] ?? "") : undefined;
  // systemctl loses argument boundaries; the unit file's words win when they print the same line.
  const programArguments = exec
    ? (fromFiles && sameCommandLine(fromFiles.execStart, exec.argvText) ? fromFiles.execStart : exec.argv)
    : (fromFiles?.execStart ?? []);

  const mainPid = Number(one("MainPID"));
  // Whether the main process ever exited: the timestamp is empty until then (its zone may not parse, its presence does).
  const exited = Boolean(one("ExecMainExitTimestamp")?.trim()) && one("ExecMainExitTimestamp") !== "n/a";
  const code = Number(one("ExecMainCode"));
  const status = Number(one("ExecMainStatus"));
  const restarts = Number(one("NRestarts"));
  const workingDirectory = (one("WorkingDirectory") || fromFiles?.workingDirectory)?.replace(/^[!-]/, "") || undefined;

  const service: ServiceDefinition = {
    manager: "systemd",
    name: unit,
    definitionPath: fragment,
    definitionMtimeMs: files?.ok ? files.mtimeMs : undefined,
    loaded: loadState === "loaded",
    state: show ? (one("ActiveState") ?? "unknown") : `unknown (${managerDetail ?? "systemctl --user unavailable"})`,
    pid: Number.isInteger(mainPid) && mainPid > 0 ? mainPid : undefined,
    programArguments,
    environment,
    environmentSources,
    envFiles,
    servicePath: environment.PATH ?? manager.path ?? SYSTEMD_DEFAULT_USER_PATH,
    workingDirectory,
    startedAtMs: parseSystemdTimestamp(one("ExecMainStartTimestamp")),
    exitedAtMs: exited ? parseSystemdTimestamp(one("ExecMainExitTimestamp")) : undefined,
    // NRestarts: restarts systemd made (Restart=), the crash-loop counter that launchd calls `runs`.
    runs: Number.isInteger(restarts) && one("NRestarts") !== undefined ? restarts : undefined,
    // ExecMainCode 1 = exited (status is the exit code); 2/3 = killed/dumped (status is the signal, reported negative like launchd's).
    lastExitStatus: !exited || !Number.isInteger(status) ? undefined : code === 1 ? status : code === 2 || code === 3 ? -status : undefined,
  };
  return { service, errors };
}

interface EvaluatedUnit {
  execStart: string[];
  environment: [string, string][];
  /** Which file last set each Environment= variable. */
  environmentOrigin: Map<string, string>;
  environmentFiles: EnvironmentFileSpec[];
  unset: string[];
  workingDirectory?: string;
  problems: string[];
}

/** Applies [Service] directives in file order, honouring systemd's empty-value resets. */
export function evaluateDirectives(directives: readonly UnitDirective[], ctx: SpecifierContext): EvaluatedUnit {
  const problems: string[] = [];
  let execStart: string[] = [];
  // A Map, not a filtered array: re-setting moves a name to the end in O(1), where
  // filtering per assignment was quadratic in the number of distinct names.
  const environment = new Map<string, string>();
  const environmentOrigin = new Map<string, string>();
  let environmentFiles: EnvironmentFileSpec[] = [];
  let unset: string[] = [];
  let workingDirectory: string | undefined;
  for (const d of directives) {
    if (d.section !== "Service") continue;
    switch (d.key) {
      case "ExecStart":
        // An empty ExecStart= clears earlier ones (how drop-ins replace the command).
        if (!d.value) execStart = [];
        else if (execStart.length === 0) execStart = parseExecStartDirective(d.value, ctx, problems);
        break;
      case "Environment":
        if (!d.value) { environment.clear(); environmentOrigin.clear(); break; }
        for (const [name, value] of parseEnvironmentDirective(d.value, ctx, problems)) {
          environment.delete(name);
          environment.set(name, value);
          environmentOrigin.set(name, d.path);
        }
        break;
      case "EnvironmentFile": {
        if (!d.value) { environmentFiles = []; break; }
        const spec = parseEnvironmentFileDirective(d.value, ctx, problems);
        if (spec) environmentFiles.push(spec);
        break;
      }
      case "UnsetEnvironment":
        if (!d.value) unset = [];
        else unset.push(...splitQuotedWords(d.value).map((w) => expandSpecifiers(w, ctx, problems)));
        break;
      case "WorkingDirectory":
        workingDirectory = d.value === "~" ? ctx.home : expandSpecifiers(d.value, ctx, problems);
        break;
    }
  }
  return { execStart, environment: [...environment], environmentOrigin, environmentFiles, unset, workingDirectory, problems };
}

interface LoadedEnvFile {
  path: string;
  exists: boolean;
  mtimeMs?: number;
  values: Record<string, string>;
  problems: string[];
  error?: string;
}

/** One EnvironmentFile= (a glob in the file name is allowed by systemd) → its files, read and parsed. */
async function expandEnvironmentFile(spec: EnvironmentFileSpec): Promise<LoadedEnvFile[]> {
  const slash = spec.path.lastIndexOf("/");
  const dir = spec.path.slice(0, slash) || "/";
  const base = spec.path.slice(slash + 1);
  if (!hasGlob(base)) return [await loadEnvFile(spec.path)];
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => globMatch(base, n)).sort();
  if (names.length === 0) return [{ path: spec.path, exists: false, values: {}, problems: [] }];
  return Promise.all(names.map((n) => loadEnvFile(join(dir, n))));
}

async function loadEnvFile(path: string): Promise<LoadedEnvFile> {
  try {
    const info = await stat(path);
    const text = await readFile(path, "utf8");
    return { path, exists: true, mtimeMs: info.mtimeMs, ...parseEnvironmentFile(text) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { path, exists: false, values: {}, problems: [] };
    // Unreadable to us may still be readable to systemd (it reads as the manager): say so, keep going.
    return { path, exists: true, values: {}, problems: [], error: `cannot read EnvironmentFile ${path}: ${code ?? (error as Error).message}; its variables are unknown here` };
  }
}

/** The first path that exists at all: one that exists but cannot be read is reported, not skipped. */
async function firstExisting(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) if (await stat(path).then(() => true, () => false)) return path;
  return undefined;
}
