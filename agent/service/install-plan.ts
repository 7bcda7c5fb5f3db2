// `agent install-service` without --apply: which unit this host needs, its
// content, where it goes, and an account of the environment it copies from the
// gateway's own service. Read-only: discovery asks launchctl/systemctl, writes nothing.
import { join } from "node:path";
import { discoverGatewayServices } from "../discovery/find-gateway-service.ts";
import type { ServiceDefinition } from "../discovery/gateway-service.ts";
import { openclawStateDir } from "../discovery/openclaw-world.ts";
import type { CommandRunner } from "../platform/command-runner.ts";
import { expectedLaunchdLabel, launchAgentsDir } from "../discovery/launchd-service.ts";
import { expectedSystemdUnit, userUnitDirs } from "../discovery/systemd-service.ts";
import { AGENT_LAUNCHD_LABEL, AGENT_SYSTEMD_UNIT, agentRunArguments, type AgentRunFlags, type AgentServiceSpec } from "./agent-service-spec.ts";
import { launchdAgentPlist } from "./launchd-agent-plist.ts";
import { stableNodePath } from "./program-paths.ts";
import { agentEnvironment, type VariableDecision } from "./service-environment.ts";
import { systemdAgentUnit } from "./systemd-agent-unit.ts";

export interface HostContext {
  platform: NodeJS.Platform;
  runner: CommandRunner;
  /** The environment `install-service` runs in (HOME, XDG_CONFIG_HOME, OPENCLAW_PROFILE… locate things). */
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  uid: number;
  userName: string;
  hostname: string;
  signal?: AbortSignal;
}

export interface InstallInput extends HostContext {
  flags: AgentRunFlags;
  /** The Node running now; named by a stable path on the gateway's PATH when one resolves to it. */
  execPath: string;
  /** --node: used as given. */
  nodePath?: string;
  launcher: string;
  version: string;
}

export type Manager = "launchd" | "systemd";

export interface ServicePlan {
  manager: Manager;
  /** launchd label or systemd unit. */
  name: string;
  /** Where the file goes. */
  path: string;
  content: string;
  spec: AgentServiceSpec;
  /** The gateway service whose world is copied; undefined when none was found. */
  gateway?: Pick<ServiceDefinition, "manager" | "name" | "definitionPath" | "loaded" | "state">;
  /** Where the gateway service was looked for when none was found. */
  gatewayLookedFor: string;
  /** Other gateway services on this host (profiles, legacy units): not copied from. */
  otherGateways: string[];
  decisions: VariableDecision[];
  /** Things the operator must know: lingering, GUI session, no gateway found. */
  notes: string[];
  /** The commands --apply runs, for the dry run. */
  applyCommands: string[];
}

export function agentServiceLocation(host: Pick<HostContext, "platform" | "env" | "home">): { manager: Manager; name: string; path: string } {
  if (host.platform === "darwin") return { manager: "launchd", name: AGENT_LAUNCHD_LABEL, path: join(launchAgentsDir(host.home), `${AGENT_LAUNCHD_LABEL}.plist`) };
  if (host.platform === "linux") return { manager: "systemd", name: AGENT_SYSTEMD_UNIT, path: join(userUnitDirs({ env: host.env, home: host.home })[0]!, AGENT_SYSTEMD_UNIT) };
  throw new Error(`installing a service is supported on macOS (launchd) and Linux (systemd), not ${host.platform}`);
}

export function agentLogPath(home: string): string {
  return join(home, "Library", "Logs", "clawfleet-agent.log");
}

export interface RenderInput {
  manager: Manager;
  gateway?: Pick<ServiceDefinition, "name" | "definitionPath" | "environment" | "environmentSources" | "envFiles" | "servicePath">;
  /** Where the world comes from when no gateway service was found. */
  fallbackEnv: Readonly<Record<string, string | undefined>>;
  flags: AgentRunFlags;
  /** Node for ExecStart, given the environment the unit will set. */
  nodePath: string | ((environment: Record<string, string>) => string);
  launcher: string;
  userName: string;
  hostname: string;
  /** Left out of the header when undefined (the examples in deploy/ must not change with every release). */
  version?: string;
  logPath?: string;
}

/** The unit's content from a gateway definition: pure, shared by install-service and the examples in deploy/. */
export function renderAgentService(input: RenderInput): { spec: AgentServiceSpec; content: string; decisions: VariableDecision[] } {
  const { manager, gateway } = input;
  const env = agentEnvironment(gateway, manager, input.fallbackEnv);
  const copied = env.decisions.filter((d) => d.action === "copy").map((d) => d.name);
  const secrets = env.decisions.filter((d) => d.action === "secret").map((d) => d.name);
  const byReference = env.decisions.filter((d) => d.action === "by-reference").map((d) => d.name);
  const source = gateway ? `${gateway.name}${gateway.definitionPath ? ` (${gateway.definitionPath})` : ""}` : "this shell (no gateway service found)";
  const comment = [
    `clawfleet agent for ${input.userName} on ${input.hostname}: written by \`clawfleet agent install-service\`${input.version ? ` (clawfleet ${input.version})` : ""}.`,
    manager === "launchd"
      ? "A LaunchAgent in the same gui/<uid> domain as the gateway's, with the gateway's PATH and OpenClaw variables, so both see the same world."
      : "A systemd user unit under the same user manager as the gateway's, with the gateway's PATH and OpenClaw variables, so both see the same world.",
    `Environment copied from ${source}: ${copied.join(", ") || "none"}.`,
    ...(env.environmentFiles.length > 0
      ? [`The gateway's env files are loaded by reference (EnvironmentFile=-), so ${byReference.join(", ") || "their variables"} reach the agent from there: no value from them is copied here.`]
      : []),
    ...(secrets.length > 0 ? [`Not copied, deliberately (secrets): ${secrets.join(", ")}. The agent reads the gateway's service definition itself and compares tokens by fingerprint.`] : []),
    ...(manager === "systemd" ? [`User units stop at logout unless lingering is on: sudo loginctl enable-linger ${input.userName}`] : []),
    // An XML comment cannot hold "--", so the plist names the flag in words.
    manager === "launchd" ? "Remove with: clawfleet agent uninstall-service (shows what it would remove; add the apply flag to do it)." : "Remove with: clawfleet agent uninstall-service --apply",
  ];
  const nodePath = typeof input.nodePath === "function" ? input.nodePath(env.environment) : input.nodePath;
  const spec: AgentServiceSpec = {
    programArguments: agentRunArguments(nodePath, input.launcher, input.flags),
    environment: env.environment,
    environmentFiles: env.environmentFiles,
    comment,
    logPath: input.logPath,
  };
  const content = manager === "launchd" ? launchdAgentPlist(spec) : systemdAgentUnit(spec);
  return { spec, content, decisions: env.decisions };
}

export async function planAgentService(input: InstallInput): Promise<ServicePlan> {
  const { manager, name, path } = agentServiceLocation(input);
  const discovery = await discoverGatewayServices(
    { runner: input.runner, env: input.env, home: input.home, stateDir: openclawStateDir(input.env), uid: input.uid, signal: input.signal },
    input.platform,
  );
  // The expected label/unit comes first when it exists; a definition the
  // manager only half knows (no file, not loaded) still has an environment.
  const [gateway, ...others] = discovery.services;
  const gatewayLookedFor = manager === "launchd"
    ? `${expectedLaunchdLabel(input.env)} in ${launchAgentsDir(input.home)}`
    : `${expectedSystemdUnit(input.env)} in ${userUnitDirs({ env: input.env, home: input.home })[0]} and the other user unit directories`;
  const { spec, content, decisions } = renderAgentService({
    manager,
    gateway,
    fallbackEnv: input.env,
    flags: input.flags,
    nodePath: (environment) => input.nodePath ?? stableNodePath(input.execPath, [environment.PATH, gateway?.servicePath, input.env.PATH]),
    launcher: input.launcher,
    userName: input.userName,
    hostname: input.hostname,
    version: input.version,
    logPath: manager === "launchd" ? agentLogPath(input.home) : undefined,
  });
  const secrets = decisions.filter((d) => d.action === "secret").map((d) => d.name);
  const logPath = spec.logPath;

  const notes: string[] = [];
  if (input.uid === 0) {
    notes.push("Running as root: this is root's own user service, not the gateway user's. Run install-service as the user who runs the gateway, without sudo.");
  }
  if (!gateway) {
    notes.push(`No gateway service found (looked for ${gatewayLookedFor}): the unit uses this shell's PATH and OpenClaw variables. Install the gateway's service first (\`openclaw gateway install\`) and run this again to match its world.`);
  }
  if (others.length > 0) notes.push(`Other gateway services on this host, not copied from: ${others.map((s) => s.name).join(", ")}.`);
  if (secrets.length > 0) {
    notes.push(
      `Not copied, deliberately: ${secrets.join(", ")}. These look like secrets; a second copy in ${path} would go stale on rotation and be readable by anyone who can read that file. ` +
        "The agent does not need them in its environment: it reads the gateway's service definition itself and compares tokens by fingerprint.",
    );
  }
  if (manager === "systemd") notes.push(await lingerNote(input));
  if (manager === "launchd") notes.push(`LaunchAgents load in the logged-in user's GUI session (gui/${input.uid}): keep ${input.userName} logged in (automatic login), as the gateway needs too. Logs: ${logPath}.`);

  const applyCommands = manager === "launchd"
    ? [`launchctl bootout gui/${input.uid}/${name}   (only if already loaded)`, `launchctl enable gui/${input.uid}/${name}`, `launchctl bootstrap gui/${input.uid} ${path}`]
    : ["systemctl --user daemon-reload", `systemctl --user enable --now ${name}`, `systemctl --user restart ${name}   (only if it was already running)`];

  return {
    manager,
    name,
    path,
    content,
    spec,
    gateway: gateway && { manager: gateway.manager, name: gateway.name, definitionPath: gateway.definitionPath, loaded: gateway.loaded, state: gateway.state },
    gatewayLookedFor,
    otherGateways: others.map((s) => s.name),
    decisions,
    notes,
    applyCommands,
  };
}

/** Whether the user manager outlives logout (`loginctl enable-linger`), asked through the runner. */
async function lingerNote(host: HostContext): Promise<string> {
  const result = await host.runner.run("loginctl", ["show-user", host.userName, "--property=Linger"], { timeoutMs: 1500, signal: host.signal });
  const linger = /^Linger=(yes|no)$/m.exec(result.stdout)?.[1];
  if (linger === "yes") return `Lingering is on for ${host.userName}: the agent keeps running after logout and starts at boot.`;
  const why = linger === "no" ? "it is off" : `loginctl could not say: ${result.stderr.trim().split("\n")[0] || `exit ${result.exitCode}`}`;
  return `User units stop at logout and start only at login unless lingering is on (${why}). Run \`sudo loginctl enable-linger ${host.userName}\`, as the gateway's own user unit needs too.`;
}

/** The dry-run account: the file, where it goes, what was copied and left out, what --apply would run. */
export function describePlan(plan: ServicePlan, mode: "dry-run" | "apply" = "dry-run"): string {
  const out: string[] = [];
  const kind = plan.manager === "launchd" ? "launchd LaunchAgent" : "systemd user unit";
  out.push(`${mode === "apply" ? "Writing" : "Would write"} ${plan.path} (${kind} ${plan.name}):`, "", plan.content.trimEnd(), "");
  out.push(plan.gateway
    ? `Environment from the gateway's service ${plan.gateway.name}${plan.gateway.definitionPath ? ` (${plan.gateway.definitionPath})` : ""}, so the agent and the gateway see the same world:`
    : "Environment from this shell (no gateway service found):");
  const byAction = (action: VariableDecision["action"]) => plan.decisions.filter((d) => d.action === action);
  const copied = byAction("copy");
  if (copied.length > 0) out.push(`  copied       ${copied.map((d) => d.name).join(", ")}`);
  const byFile = new Map<string, string[]>();
  for (const d of plan.decisions) if (d.action === "by-reference") byFile.set(d.file, [...(byFile.get(d.file) ?? []), d.name]);
  for (const [file, names] of byFile) out.push(`  by file      ${names.join(", ")}: EnvironmentFile=-${file} (the gateway's own file; no value copied)`);
  for (const file of plan.spec.environmentFiles.filter((f) => !byFile.has(f))) out.push(`  by file      EnvironmentFile=-${file} (the gateway's own file, missing or empty now)`);
  const secrets = byAction("secret");
  if (secrets.length > 0) out.push(`  not copied   ${secrets.map((d) => d.name).join(", ")}: secrets, deliberately left out (see below)`);
  const skipped = plan.decisions.filter((d): d is Extract<VariableDecision, { action: "skip" }> => d.action === "skip");
  if (skipped.length > 0) out.push(`  skipped      ${skipped.map((d) => `${d.name} (${d.reason})`).join(", ")}`);
  out.push("");
  for (const note of plan.notes) out.push(`Note: ${note}`);
  if (mode === "dry-run") out.push("", "With --apply, writes the file and runs:", ...plan.applyCommands.map((c) => `  ${c}`));
  out.push("");
  return out.join("\n");
}
