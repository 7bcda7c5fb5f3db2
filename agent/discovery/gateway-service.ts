// What the service manager says should run: the gateway's launchd LaunchAgent
// (macOS) or systemd user unit (Linux). Compared with the live process and the
// CLI's world by the gateway, session, drift and provider checks.
import type { CommandRunner } from "../platform/command-runner.ts";

export interface ServiceEnvSource {
  /** Where a variable was set, as an operator would look for it. */
  kind: "plist" | "service-env-file" | "unit-environment" | "unit-environment-file";
  /** The file that holds it (plist, env file, unit file or drop-in). */
  path: string;
}

export interface ServiceDefinition {
  manager: "launchd" | "systemd";
  /** launchd label (ai.openclaw.gateway) or systemd unit (openclaw-gateway.service). */
  name: string;
  /** The plist or unit file; undefined when only the manager knows the service. */
  definitionPath?: string;
  definitionMtimeMs?: number;
  /** Loaded into the service manager (launchctl print found it / systemd knows the unit). */
  loaded: boolean;
  /** The manager's own word: launchd "running"/"waiting", systemd ActiveState "active"/"failed"… */
  state?: string;
  pid?: number;
  /** What the service executes: ProgramArguments / ExecStart argv. */
  programArguments: string[];
  /** Every variable the service process receives from its definition, after env files are applied. */
  environment: Record<string, string>;
  /** Where each variable in `environment` came from. */
  environmentSources: Record<string, ServiceEnvSource>;
  /** Env files the definition loads (service-env/<label>.env, EnvironmentFile=), present or not. */
  envFiles: { path: string; exists: boolean; mtimeMs?: number; optional?: boolean }[];
  /** PATH the service runs with: its own, or the manager's default when it sets none. */
  servicePath: string;
  workingDirectory?: string;
  /** When the manager last started it (systemd ExecMainStartTimestamp), Unix ms. */
  startedAtMs?: number;
  /** When the main process last exited (systemd ExecMainExitTimestamp), Unix ms. */
  exitedAtMs?: number;
  /** launchd's `runs` counter: climbing means a crash loop. */
  runs?: number;
  lastExitStatus?: number;
  /** Where the manager sends the gateway's stdout/stderr (launchd StandardOutPath/StandardErrorPath). */
  stdoutPath?: string;
  stderrPath?: string;
}

export interface ServiceDiscoveryInput {
  runner: CommandRunner;
  /** The agent's environment (HOME, XDG_CONFIG_HOME, UID…). */
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  stateDir: string;
  /** The current user's uid, for `launchctl print gui/<uid>/<label>`. */
  uid: number;
  signal?: AbortSignal;
  /** A daemon's memory of an unreachable systemd user manager (systemd-service.ts). */
  userManager?: UserManagerCache;
}

/**
 * `systemctl --user show-environment` failing for want of a user manager (no
 * login session, no lingering, a container) fails the same way until its bus
 * appears: the failure is kept while the sockets systemctl would connect to
 * are still absent (or the same files) and the variables naming them are the
 * same, for at most USER_MANAGER_MAX_AGE_MS. An answer is never kept: the
 * manager's environment changes without a file to watch.
 */
export interface UserManagerCache {
  failure?: { key: string; detail: string; atMs: number };
}
