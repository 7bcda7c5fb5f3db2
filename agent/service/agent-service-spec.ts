// What the agent's service runs, independent of the manager that runs it:
// the launchd plist and the systemd unit are two renderings of this.

/** launchd label and systemd unit of the agent. Not `ai.openclaw.*`: discovery treats those as OpenClaw's own. */
export const AGENT_LAUNCHD_LABEL = "ai.clawfleet.agent";
export const AGENT_SYSTEMD_UNIT = "clawfleet-agent.service";

export interface AgentServiceSpec {
  /** Absolute node, its V8 flags, the clawfleet launcher, then `agent run` and its flags. */
  programArguments: string[];
  /** Set inline in the unit: PATH and the non-secret world variables. */
  environment: Record<string, string>;
  /** systemd only: the gateway's env files, loaded optionally (`EnvironmentFile=-`). */
  environmentFiles: string[];
  /** Lines for the file's header comment: where it came from, what was left out. */
  comment: string[];
  /** launchd only: where stdout/stderr go (systemd uses the journal). */
  logPath?: string;
}

export interface AgentRunFlags {
  collector: string;
  nodeId: string;
  interval: string;
  stateDir: string;
}

/**
 * V8 flags the service runs the agent under: memory for speed it does not need (a check cycle every 30 s).
 * Measured on the compiled package against a real gateway (bench/agent-footprint.ts): a 1 MiB young generation
 * (V8's default reserves 16 MiB per semi-space) and lite mode (no optimizing compiler, feedback allocated lazily)
 * take the steady RSS from ~109 MB to ~80 MB for a few ms more CPU per cycle.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=1", "--lite-mode"];

/** `agent run` with every flag explicit, so the unit does not depend on the environment it happens to get. */
export function agentRunArguments(nodePath: string, launcher: string, flags: AgentRunFlags): string[] {
  return [nodePath, ...AGENT_NODE_FLAGS, launcher, "agent", "run", "--collector", flags.collector, "--node-id", flags.nodeId, "--interval", flags.interval, "--state-dir", flags.stateDir];
}
