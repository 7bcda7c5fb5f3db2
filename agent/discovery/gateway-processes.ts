// Finds running OpenClaw gateway processes. The gateway renames its process
// title to `openclaw-gateway` (seen with openclaw 2026.9.6: /proc/<pid>/cmdline
// is just that word), so argv[0] is the reliable marker; older builds keep
// `openclaw gateway run` in argv.
import { readdir, readFile } from "node:fs/promises";

export interface GatewayProcess {
  pid: number;
  argv: string[];
  /** The process's own environment, when this user may read it. */
  env?: Record<string, string>;
}

export function isGatewayArgv(argv: readonly string[]): boolean {
  if (argv[0] === "openclaw-gateway") return true;
  const joined = argv.join(" ");
  return /(^|\/)openclaw(\.mjs)?\s+gateway(\s+run)?(\s|$)/.test(joined);
}

export async function findGatewayProcesses(platform: NodeJS.Platform = process.platform): Promise<GatewayProcess[]> {
  if (platform !== "linux") return [];
  const found: GatewayProcess[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = (await readFile(`/proc/${entry}/cmdline`, "utf8")).split("\0").filter((a) => a !== "");
      if (isGatewayArgv(argv)) found.push({ pid: Number(entry), argv, env: await readEnviron(`/proc/${entry}/environ`) });
    } catch {
      // The process exited while we looked, or belongs to another user.
    }
  }
  return found;
}

async function readEnviron(path: string): Promise<Record<string, string> | undefined> {
  try {
    const env: Record<string, string> = {};
    for (const pair of (await readFile(path, "utf8")).split("\0")) {
      const eq = pair.indexOf("=");
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    return env;
  } catch {
    return undefined;
  }
}
