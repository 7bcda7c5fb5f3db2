// What `agent install-service` and `agent uninstall-service` do, with the host
// (runner, HOME, uid, platform) passed in so tests run them against a
// temporary HOME and replayed launchctl/systemctl answers.
import { homedir, hostname, userInfo } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../shared/cli.ts";
import { parseCollectorSpec } from "../../shared/collector-list.ts";
import { DEFAULT_GRPC_ADDRESS } from "../../shared/defaults.ts";
import { parseDuration } from "../../shared/duration.ts";
import { NODE_ID_PATTERN } from "../../shared/node-id.ts";
import { identityDir, readIdentity } from "../../shared/pki/identity-files.ts";
import { dataDir } from "../../shared/paths.ts";
import { AGENT_VERSION } from "../../shared/version.ts";
import { nodeInfo } from "../discovery/node-identity.ts";
import { systemRunner } from "../platform/command-runner.ts";
import type { AgentRunFlags } from "./agent-service-spec.ts";
import { applyAgentService, applyUninstall, planUninstall, type ApplyResult } from "./apply-service.ts";
import { describePlan, planAgentService, type HostContext } from "./install-plan.ts";
import { launcherPath } from "./program-paths.ts";

export interface InstallValues {
  collector?: string;
  "node-id"?: string;
  interval?: string;
  "state-dir"?: string;
  node?: string;
  apply?: boolean;
}

export function systemHost(env: NodeJS.ProcessEnv = process.env): HostContext {
  let userName: string;
  try {
    userName = userInfo().username;
  } catch {
    userName = env.USER ?? env.LOGNAME ?? "unknown";
  }
  return {
    platform: process.platform,
    runner: systemRunner,
    env,
    home: env.HOME || homedir(),
    uid: process.getuid?.() ?? 0,
    userName,
    hostname: hostname(),
  };
}

function enrolled(stateDir: string): { name: string; collector: string } | undefined {
  try {
    return readIdentity(identityDir(stateDir));
  } catch {
    return undefined;
  }
}

/** The `agent run` flags the unit passes, validated as `agent run` validates them. */
export function resolveRunFlags(values: InstallValues, host: Pick<HostContext, "env" | "platform">): AgentRunFlags {
  const interval = values.interval ?? "30s";
  let intervalMs: number;
  try {
    intervalMs = parseDuration(interval);
  } catch (error) {
    throw new UsageError(`--interval: ${(error as Error).message}`);
  }
  if (intervalMs < 1000) throw new UsageError(`--interval must be at least 1s, got ${interval}`);
  const stateDir = values["state-dir"] ?? join(dataDir(host.env as NodeJS.ProcessEnv, host.platform), "agent");
  if (!stateDir.startsWith("/")) throw new UsageError(`--state-dir must be an absolute path, got "${stateDir}"`);
  // An enrolled host reports as its certificate's node: the unit must say the same id.
  const identity = enrolled(stateDir);
  const enrolledAs = identity?.name;
  // An enrolled host reports where it enrolled (one collector or the fleet's list) unless told otherwise.
  const collector = values.collector ?? host.env.CLAWFLEET_COLLECTOR ?? (identity?.collector || DEFAULT_GRPC_ADDRESS);
  parseCollectorSpec("collector", collector);
  if (enrolledAs && values["node-id"] !== undefined && values["node-id"] !== enrolledAs) {
    throw new UsageError(`--node-id ${values["node-id"]} is not this host's enrolled node id "${enrolledAs}"; drop the flag`);
  }
  const nodeId = enrolledAs ?? nodeInfo(values["node-id"], host.env as NodeJS.ProcessEnv).id;
  if (!NODE_ID_PATTERN.test(nodeId)) throw new UsageError(`--node-id must be lowercase letters, digits, ".", "_" or "-" (max 63), got "${nodeId}"`);
  return { collector, nodeId, interval, stateDir };
}

export async function runInstallService(values: InstallValues, host: HostContext, out: NodeJS.WritableStream, execPath: string = process.execPath): Promise<number> {
  const flags = resolveRunFlags(values, host);
  if (values.node !== undefined && !values.node.startsWith("/")) throw new UsageError(`--node must be an absolute path, got "${values.node}"`);
  const plan = await planAgentService({
    ...host,
    flags,
    execPath,
    nodePath: values.node,
    launcher: launcherPath(),
    version: AGENT_VERSION,
  });
  if (flags.collector === DEFAULT_GRPC_ADDRESS && values.collector === undefined && host.env.CLAWFLEET_COLLECTOR === undefined) {
    plan.notes.unshift(`No --collector given: the agent will report to ${DEFAULT_GRPC_ADDRESS}, a collector on this host. Pass the fleet collector's address (the one \`clawfleet collector serve\` prints).`);
  }
  if (!values.apply) {
    out.write(describePlan(plan));
    out.write("Nothing written. Run again with --apply to install and load it.\n");
    return 0;
  }
  out.write(describePlan(plan, "apply"));
  const result = await applyAgentService(plan, host);
  writeResult(out, result);
  return result.ok ? 0 : 1;
}

export async function runUninstallService(values: { apply?: boolean }, host: HostContext, out: NodeJS.WritableStream): Promise<number> {
  const plan = await planUninstall(host);
  if (!values.apply) {
    out.write(`Would remove the agent's ${plan.manager === "launchd" ? "LaunchAgent" : "systemd user unit"} ${plan.name} (${plan.path}${plan.fileExists ? "" : ", not present"}) by running:\n`);
    out.write(plan.commands.map((c) => `  ${c}\n`).join(""));
    out.write("Nothing changed. Run again with --apply to do it.\n");
    return 0;
  }
  const result = await applyUninstall(plan, host);
  writeResult(out, result);
  return result.ok ? 0 : 1;
}

function writeResult(out: NodeJS.WritableStream, result: ApplyResult): void {
  for (const step of result.steps) out.write(`  $ ${step.command}  → exit ${step.exitCode}${step.detail ? ` (${step.detail})` : ""}\n`);
  for (const message of result.messages) out.write(`${message}\n`);
}
