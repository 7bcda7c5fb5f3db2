// `--apply`: write the unit and load it, or unload and remove it. Every
// launchctl/systemctl call goes through the command runner, so tests replay
// recorded answers against a temporary HOME.
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { CommandResult, CommandRunner } from "../platform/command-runner.ts";
import { launchctlPrint } from "../platform/launchd.ts";
import { agentLogPath, agentServiceLocation, type HostContext, type Manager, type ServicePlan } from "./install-plan.ts";

const COMMAND_TIMEOUT_MS = 10_000;

export interface ApplyStep {
  command: string;
  exitCode: number;
  /** First line of what it printed on failure. */
  detail?: string;
}

export interface ApplyResult {
  ok: boolean;
  steps: ApplyStep[];
  /** What happened, in sentences for the operator. */
  messages: string[];
}

class StepLog {
  readonly steps: ApplyStep[] = [];
  readonly runner: CommandRunner;
  readonly signal?: AbortSignal;
  constructor(runner: CommandRunner, signal?: AbortSignal) {
    this.runner = runner;
    this.signal = signal;
  }
  async run(command: string, args: string[]): Promise<CommandResult> {
    const result = await this.runner.run(command, args, { timeoutMs: COMMAND_TIMEOUT_MS, signal: this.signal });
    const detail = firstLine(result.stderr || result.stdout);
    this.steps.push({ command: [command, ...args].join(" "), exitCode: result.exitCode, ...(result.exitCode !== 0 && detail ? { detail } : {}) });
    return result;
  }
}

function firstLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).find((l) => l && l !== "Bad request.")?.slice(0, 200) ?? "";
}

/** Writes beside the target then renames: a crash never leaves a half-written unit for the manager to load. */
async function writeAtomically(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.clawfleet-${process.pid}.tmp`;
  // 0644: no secret is in it, and launchd refuses plists others can write.
  await writeFile(temporary, content, { mode: 0o644 });
  await rename(temporary, path);
}

export async function applyAgentService(plan: ServicePlan, host: HostContext): Promise<ApplyResult> {
  return plan.manager === "launchd" ? applyLaunchd(plan, host) : applySystemd(plan, host);
}

async function applyLaunchd(plan: ServicePlan, host: HostContext): Promise<ApplyResult> {
  const log = new StepLog(host.runner, host.signal);
  const messages: string[] = [];
  const target = `gui/${host.uid}/${plan.name}`;
  await writeAtomically(plan.path, plan.content);
  await mkdir(dirname(agentLogPath(host.home)), { recursive: true });
  messages.push(`Wrote ${plan.path}.`);

  const before = await launchctlPrint(host.runner, host.uid, plan.name, host.signal);
  log.steps.push({ command: `launchctl print ${target}`, exitCode: before.status === "loaded" ? 0 : before.status === "not-loaded" ? 113 : 1 });
  if (before.status === "loaded") {
    // launchd keeps the job it loaded: the new plist takes effect only after a bootout.
    await log.run("launchctl", ["bootout", target]);
  }
  // Clears a `launchctl disable` left from before; bootstrap of a disabled job fails with EIO.
  await log.run("launchctl", ["enable", target]);
  const bootstrap = await log.run("launchctl", ["bootstrap", `gui/${host.uid}`, plan.path]);
  if (bootstrap.exitCode !== 0) {
    const detail = firstLine(bootstrap.stderr || bootstrap.stdout);
    messages.push(`launchctl bootstrap failed (exit ${bootstrap.exitCode}${detail ? `: ${detail}` : ""}).`);
    // 125 "Domain does not support specified action": no GUI login for this user (an ssh-only session).
    if (bootstrap.exitCode === 125 || /domain does not support/i.test(detail)) {
      messages.push(`gui/${host.uid} has no login session: log in to ${host.userName}'s desktop (or turn on automatic login) and run this again; the plist is in place.`);
    }
    return { ok: false, steps: log.steps, messages };
  }
  const after = await launchctlPrint(host.runner, host.uid, plan.name, host.signal);
  log.steps.push({ command: `launchctl print ${target}`, exitCode: after.status === "loaded" ? 0 : after.status === "not-loaded" ? 113 : 1 });
  if (after.status !== "loaded") {
    messages.push(`launchctl bootstrap succeeded but launchd does not list ${target}: ${after.detail}.`);
    return { ok: false, steps: log.steps, messages };
  }
  messages.push(`Loaded ${target}${before.status === "loaded" ? " (replacing the job that was loaded)" : ""}: ${after.job.state ?? "loaded"}${after.job.pid ? `, pid ${after.job.pid}` : ""}.`);
  messages.push(`Logs: ${agentLogPath(host.home)}.`);
  return { ok: true, steps: log.steps, messages };
}

async function applySystemd(plan: ServicePlan, host: HostContext): Promise<ApplyResult> {
  const log = new StepLog(host.runner, host.signal);
  const messages: string[] = [];
  await writeAtomically(plan.path, plan.content);
  messages.push(`Wrote ${plan.path}.`);
  const reload = await log.run("systemctl", ["--user", "daemon-reload"]);
  if (reload.exitCode !== 0) {
    messages.push(...unreachableManager(plan.name, host, firstLine(reload.stderr || reload.stdout)));
    return { ok: false, steps: log.steps, messages };
  }
  const wasActive = (await log.run("systemctl", ["--user", "is-active", plan.name])).stdout.trim() === "active";
  const enable = await log.run("systemctl", ["--user", "enable", "--now", plan.name]);
  if (enable.exitCode !== 0) {
    messages.push(`systemctl --user enable --now ${plan.name} failed (exit ${enable.exitCode}: ${firstLine(enable.stderr || enable.stdout)}); see \`journalctl --user -u ${plan.name}\`.`);
    return { ok: false, steps: log.steps, messages };
  }
  if (wasActive) {
    // enable --now leaves a running unit alone; the new definition needs a restart.
    const restart = await log.run("systemctl", ["--user", "restart", plan.name]);
    if (restart.exitCode !== 0) {
      messages.push(`systemctl --user restart ${plan.name} failed (exit ${restart.exitCode}: ${firstLine(restart.stderr || restart.stdout)}).`);
      return { ok: false, steps: log.steps, messages };
    }
  }
  const state = (await log.run("systemctl", ["--user", "is-active", plan.name])).stdout.trim();
  if (state !== "active" && state !== "activating") {
    messages.push(`${plan.name} is ${state || "not active"} after starting: see \`journalctl --user -u ${plan.name}\`.`);
    return { ok: false, steps: log.steps, messages };
  }
  messages.push(`Enabled and ${wasActive ? "restarted" : "started"} ${plan.name} (${state}). Logs: journalctl --user -u ${plan.name}.`);
  return { ok: true, steps: log.steps, messages };
}

function unreachableManager(unit: string, host: HostContext, detail: string): string[] {
  return [
    `The systemd user manager is not reachable (${detail || "systemctl --user failed"}); ${unit} is written but not loaded.`,
    `Log in as ${host.userName} (a real login session, not \`su\`), or run \`sudo loginctl enable-linger ${host.userName}\` and use XDG_RUNTIME_DIR=/run/user/${host.uid}, then: systemctl --user daemon-reload && systemctl --user enable --now ${unit}`,
  ];
}

export interface UninstallPlan {
  manager: Manager;
  name: string;
  path: string;
  fileExists: boolean;
  commands: string[];
}

export async function planUninstall(host: HostContext): Promise<UninstallPlan> {
  const { manager, name, path } = agentServiceLocation(host);
  const fileExists = await stat(path).then(() => true, () => false);
  const commands = manager === "launchd"
    ? [`launchctl bootout gui/${host.uid}/${name}   (if loaded)`, `rm ${path}`]
    : [`systemctl --user disable --now ${name}`, `rm ${path}`, "systemctl --user daemon-reload"];
  return { manager, name, path, fileExists, commands };
}

export async function applyUninstall(plan: UninstallPlan, host: HostContext): Promise<ApplyResult> {
  const log = new StepLog(host.runner, host.signal);
  const messages: string[] = [];
  let ok = true;
  if (plan.manager === "launchd") {
    const target = `gui/${host.uid}/${plan.name}`;
    const loaded = await launchctlPrint(host.runner, host.uid, plan.name, host.signal);
    log.steps.push({ command: `launchctl print ${target}`, exitCode: loaded.status === "loaded" ? 0 : loaded.status === "not-loaded" ? 113 : 1 });
    if (loaded.status === "loaded") {
      const bootout = await log.run("launchctl", ["bootout", target]);
      if (bootout.exitCode === 0) messages.push(`Unloaded ${target}.`);
      else {
        ok = false;
        messages.push(`launchctl bootout ${target} failed (exit ${bootout.exitCode}: ${firstLine(bootout.stderr || bootout.stdout)}).`);
      }
    } else if (loaded.status === "not-loaded") messages.push(`${target} was not loaded.`);
    else messages.push(`Could not tell whether ${target} is loaded: ${loaded.detail}.`);
  } else {
    const disable = await log.run("systemctl", ["--user", "disable", "--now", plan.name]);
    const detail = firstLine(disable.stderr || disable.stdout);
    if (disable.exitCode === 0) messages.push(`Stopped and disabled ${plan.name}.`);
    else if (/does not exist|not loaded|no such file/i.test(detail)) messages.push(`${plan.name} was not known to systemd.`);
    else {
      ok = false;
      messages.push(`systemctl --user disable --now ${plan.name} failed (exit ${disable.exitCode}: ${detail}); if it is running, stop it from a login session of ${host.userName}.`);
    }
  }
  if (plan.fileExists) {
    await rm(plan.path, { force: true });
    messages.push(`Removed ${plan.path}.`);
  } else messages.push(`${plan.path} did not exist.`);
  if (plan.manager === "systemd") {
    const reload = await log.run("systemctl", ["--user", "daemon-reload"]);
    if (reload.exitCode !== 0 && ok) messages.push(`systemctl --user daemon-reload failed (${firstLine(reload.stderr || reload.stdout)}): the user manager is not reachable from here.`);
  }
  return { ok, steps: log.steps, messages };
}
