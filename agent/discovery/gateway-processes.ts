// Finds running OpenClaw gateway processes. The gateway renames its process
// title to `openclaw-gateway` (seen with openclaw 2026.9.6: /proc/<pid>/cmdline
// is just that word), so argv[0] is the reliable marker; older builds keep
// `openclaw gateway run` in argv.
import type { CommandRunner } from "../platform/command-runner.ts";
import { darwinProcessTable } from "../platform/darwin-process.ts";
import { readFileSync } from "node:fs";
import { allPids, parseEnviron } from "../platform/linux-procfs.ts";

export interface GatewayProcess {
  pid: number;
  argv: string[];
  /** The process's own environment, when this user may read it (Linux). */
  env?: Record<string, string>;
}

export function isGatewayArgv(argv: readonly string[]): boolean {
  if (argv[0] === "openclaw-gateway") return true;
  return /(^|\/)openclaw(\.mjs)?\s+gateway(\s+run)?(\s|$)/.test(argv.join(" "));
}

export async function findGatewayProcesses(runner: CommandRunner, platform: NodeJS.Platform, signal?: AbortSignal): Promise<GatewayProcess[]> {
  if (platform === "darwin") {
    return (await darwinProcessTable(runner, signal))
      .map((p) => ({ pid: p.pid, argv: p.command.split(/\s+/) }))
      .filter((p) => isGatewayArgv(p.argv));
  }
  if (platform !== "linux") return [];
  const found: GatewayProcess[] = [];
  // Synchronous reads: /proc never blocks, and a thread-pool round trip per process costs ten times the CPU.
  const read = (path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  };
  for (const pid of await allPids()) {
    // cmdline first: the rest of /proc/<pid> is read only for gateways.
    const argv = (read(`/proc/${pid}/cmdline`) ?? "").split("\0").filter((a) => a !== "");
    if (!isGatewayArgv(argv)) continue;
    found.push({ pid, argv, env: parseEnviron(read(`/proc/${pid}/environ`)) });
  }
  return found;
}
