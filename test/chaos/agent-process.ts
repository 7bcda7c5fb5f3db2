// A real `clawfleet agent run` for chaos tests, and what it costs the host.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { noGateway } from "../helpers/no-gateway.ts";
import { spawnClawfleet, type Spawned } from "../helpers/processes.ts";

export async function spawnAgent(collector: string, nodeId: string, stateDir: string, home: string, interval = "1s"): Promise<Spawned> {
  return spawnClawfleet(["agent", "run", "--insecure", "--collector", collector, "--node-id", nodeId, "--interval", interval, "--state-dir", stateDir], await noGateway(home));
}

export const seqFile = (stateDir: string, nodeId: string) => join(stateDir, `${nodeId}.seq`);
export const spoolDir = (stateDir: string, nodeId: string) => join(stateDir, `${nodeId}.spool`);

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticksPerSecond = 100; // USER_HZ, 100 on every Linux we run on
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** Lines of a process's output that match. */
export function linesMatching(output: string, pattern: RegExp): string[] {
  return output.split("\n").filter((line) => pattern.test(line));
}
