// The process that listens on the gateway port is the ground truth: what runs,
// from which install, with which state dir, since when. Service definitions and
// the CLI's world are compared against it.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { CommandRunner } from "../platform/command-runner.ts";
import { darwinListeners, darwinOpenFiles, darwinProcInfo, darwinProcessTable } from "../platform/darwin-process.ts";
import { childrenOf, listeningSockets, openPaths, pidsForInodes, procInfo, type ProcInfo } from "../platform/linux-procfs.ts";

export interface LiveGateway extends ProcInfo {
  /** The openclaw package directory the process runs, found from its workers and native modules. */
  installDir?: string;
  /** That install's version and Node requirement (package.json). */
  version?: string;
  enginesNode?: string;
  /** State dir the process has open (…/state/openclaw.sqlite), else from its environment. */
  stateDir?: string;
  /** The gateway token was passed on the command line (visible to every local user in ps). */
  tokenOnCommandLine: boolean;
}

export interface PortOwner {
  /** Addresses something listens on for the gateway port (127.0.0.1, ::1, 0.0.0.0, ::, *). */
  listenAddresses: string[];
  /** Pid of the listener when this user may see it. */
  pid?: number;
  gateway?: LiveGateway;
}

/**
 * A daemon's memory of the gateway port's owner (Linux): which pid held the
 * listening sockets, by port and socket inodes, trusted only while that pid
 * still holds one of them (its own fds are looked at first, not every
 * process's); and the install and state file of a process, by pid and start
 * time, kept once both were found: neither changes during a process's life.
 */
export interface PortOwnerMemory {
  socketOwners: Map<string, number>;
  gatewayPaths: Map<string, { installDir: string; stateFile: string }>;
}

export function newPortOwnerMemory(): PortOwnerMemory {
  return { socketOwners: new Map(), gatewayPaths: new Map() };
}

export async function findPortOwner(port: number, runner: CommandRunner, platform: NodeJS.Platform, signal?: AbortSignal, memory?: PortOwnerMemory): Promise<PortOwner> {
  if (platform === "linux") return linuxPortOwner(port, "/proc", memory);
  if (platform === "darwin") return darwinPortOwner(port, runner, signal);
  return { listenAddresses: [] };
}

/** How many answers of each kind a daemon keeps. */
const MEMORY_ENTRIES = 16;

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (!map.has(key) && map.size >= MEMORY_ENTRIES) map.delete(map.keys().next().value!);
  map.set(key, value);
}

export async function linuxPortOwner(port: number, procRoot = "/proc", memory?: PortOwnerMemory): Promise<PortOwner> {
  const sockets = await listeningSockets(port, procRoot);
  const listenAddresses = [...new Set(sockets.map((s) => s.address))];
  if (sockets.length === 0) return { listenAddresses };
  const inodes = new Set(sockets.map((s) => s.inode));
  // A socket inode names one socket while it exists: a pid that still holds it is its owner, whatever else changed.
  const ownerKey = `${procRoot}:${port}:${[...inodes].sort().join(",")}`;
  const remembered = memory?.socketOwners.get(ownerKey);
  let pid = remembered !== undefined && (await pidsForInodes(inodes, [remembered], procRoot)).length > 0 ? remembered : undefined;
  if (pid === undefined) {
    [pid] = await pidsForInodes(inodes, undefined, procRoot);
    if (pid !== undefined && memory) remember(memory.socketOwners, ownerKey, pid);
  }
  if (pid === undefined) return { listenAddresses };
  const info = await procInfo(pid, procRoot);
  if (!info) return { listenAddresses, pid };
  const processKey = `${procRoot}:${pid}@${info.startedAtMs ?? "?"}`;
  let paths = info.startedAtMs !== undefined ? memory?.gatewayPaths.get(processKey) : undefined;
  if (!paths) {
    const related = [...(await openPaths(pid, procRoot)), ...(await childrenOf(pid, procRoot)).flatMap((c) => c.argv)];
    const found = gatewayPaths(info, related);
    if (found.installDir && found.stateFile && info.startedAtMs !== undefined && memory) remember(memory.gatewayPaths, processKey, { installDir: found.installDir, stateFile: found.stateFile });
    return { listenAddresses, pid, gateway: describe(info, found) };
  }
  return { listenAddresses, pid, gateway: describe(info, paths) };
}

export async function darwinPortOwner(port: number, runner: CommandRunner, signal?: AbortSignal): Promise<PortOwner> {
  const listeners = await darwinListeners(runner, port, signal);
  const listenAddresses = [...new Set(listeners.map((l) => l.address))];
  const pid = listeners[0]?.pid;
  if (pid === undefined) return { listenAddresses };
  const [info, files, table] = await Promise.all([darwinProcInfo(runner, pid, signal), darwinOpenFiles(runner, pid, signal), darwinProcessTable(runner, signal)]);
  if (!info) return { listenAddresses, pid };
  const childArgs = table.filter((p) => p.ppid === pid).flatMap((p) => p.command.split(/\s+/));
  const darwinInfo = { ...info, exe: files.exe };
  return { listenAddresses, pid, gateway: describe(darwinInfo, gatewayPaths(darwinInfo, [...files.paths, ...childArgs])) };
}

/** The install a process runs and the state database it holds open, from its argv, open files and children's argv. */
function gatewayPaths(info: ProcInfo, related: readonly string[]): { installDir?: string; stateFile?: string } {
  return { installDir: findInstallDir([...info.argv, ...related]), stateFile: related.find((p) => /\/state\/openclaw\.sqlite$/.test(p)) };
}

function describe(info: ProcInfo, { installDir, stateFile }: { installDir?: string; stateFile?: string }): LiveGateway {
  const manifest = installDir ? readManifest(installDir) : undefined;
  return {
    ...info,
    installDir,
    version: manifest?.version,
    enginesNode: manifest?.engines?.node,
    stateDir: stateFile ? dirname(dirname(stateFile)) : info.env?.OPENCLAW_STATE_DIR,
    tokenOnCommandLine: info.argv.some((a) => a === "--token" || a.startsWith("--token=")),
  };
}

/**
 * The gateway's own argv is just its title, but its workers run
 * `<install>/dist/…` and it maps native modules from `<install>/../@openclaw/…`.
 */
export function findInstallDir(paths: readonly string[]): string | undefined {
  for (const path of paths) {
    const direct = /^(.*\/node_modules\/openclaw)\/(dist\/|openclaw\.mjs)/.exec(path);
    if (direct) return direct[1];
  }
  for (const path of paths) {
    const sibling = /^(.*\/node_modules)\/@openclaw\//.exec(path);
    if (sibling && existsSync(join(sibling[1]!, "openclaw", "package.json"))) return join(sibling[1]!, "openclaw");
  }
  return undefined;
}

export function readManifest(installDir: string): { version?: string; engines?: { node?: string } } | undefined {
  try {
    return JSON.parse(readFileSync(join(installDir, "package.json"), "utf8"));
  } catch {
    return undefined;
  }
}
