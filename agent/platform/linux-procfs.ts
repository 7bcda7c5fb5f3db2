// Linux ground truth from /proc: who listens on a port, and what that process
// really is (executable, argv, environment, start time, open files). Reads only
// what this user may read; a process of another user yields what it can.
// Read synchronously: /proc files are generated in memory and never block, and
// a daemon scanning every process each interval pays for a thread-pool round
// trip per file otherwise (several times the CPU for the same answer).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** A /proc file's text, or undefined when it is gone or not ours to read. */
function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function listDir(path: string): string[] | undefined {
  try {
    return readdirSync(path);
  } catch {
    return undefined;
  }
}

export interface ListeningSocket {
  inode: string;
  /** Local address in the usual notation: 127.0.0.1, ::1, 0.0.0.0, ::. */
  address: string;
  port: number;
}

export interface ProcInfo {
  pid: number;
  ppid?: number;
  uid?: number;
  argv: string[];
  exe?: string;
  env?: Record<string, string>;
  startedAtMs?: number;
}

const TCP_LISTEN = "0A";

/** Sockets in LISTEN state on `port`, from /proc/net/tcp and tcp6. */
export async function listeningSockets(port: number, procRoot = "/proc"): Promise<ListeningSocket[]> {
  const found: ListeningSocket[] = [];
  // A busy host lists thousands of connections: only lines naming the port are split into fields.
  const namesPort = new RegExp(`:0*${port.toString(16)}\\s`, "i");
  for (const file of ["tcp", "tcp6"]) {
    const text = readText(`${procRoot}/net/${file}`);
    if (text === undefined) continue;
    for (const line of text.split("\n").slice(1)) {
      if (!namesPort.test(line)) continue;
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== TCP_LISTEN) continue;
      const [hexAddress, hexPort] = fields[1]!.split(":");
      if (!/^[0-9A-Fa-f]{4}$/.test(hexPort ?? "") || parseInt(hexPort!, 16) !== port) continue;
      const address = decodeAddress(hexAddress ?? "");
      // A line that is not the kernel's format (a truncated read) is skipped, not fatal.
      if (address !== undefined) found.push({ inode: fields[9]!, address, port });
    }
  }
  return found;
}

/** /proc/net/tcp stores addresses as host-order 32-bit words in hex; undefined for anything else. */
export function decodeAddress(hex: string): string | undefined {
  if (!/^(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{32})$/.test(hex)) return undefined;
  const words = hex.toLowerCase().match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(""));
  if (words.length === 1) return words[0]!.match(/../g)!.map((b) => parseInt(b, 16)).join(".");
  const bytes = words.join("");
  if (/^0{20}ffff/.test(bytes)) return bytes.slice(24).match(/../g)!.map((b) => parseInt(b, 16)).join("."); // v4-mapped
  const groups = bytes.match(/.{4}/g)!.map((g) => parseInt(g, 16).toString(16));
  return compressIpv6(groups);
}

/**
 * RFC 5952: the first longest run of two or more zero groups becomes "::".
 * Counted in groups: comparing regex matches by text length preferred a
 * later run of equal length, whose match carries one more colon.
 */
function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    let end = i;
    while (groups[end] === "0") end++;
    if (end - i > bestLength) [bestStart, bestLength] = [i, end - i];
    i = Math.max(end, i + 1);
  }
  if (bestStart < 0) return groups.join(":");
  return `${groups.slice(0, bestStart).join(":")}::${groups.slice(bestStart + bestLength).join(":")}`;
}

/** Pids holding any of the given socket inodes (scans /proc/<pid>/fd). */
export async function pidsForInodes(inodes: ReadonlySet<string>, candidates?: readonly number[], procRoot = "/proc"): Promise<number[]> {
  const pids = candidates ?? (await allPids(procRoot));
  const owners: number[] = [];
  for (const pid of pids) {
    const fds = listDir(`${procRoot}/${pid}/fd`);
    if (!fds) continue; // exited, or another user's
    for (const fd of fds) {
      const match = /^socket:\[(\d+)\]$/.exec(readLink(`${procRoot}/${pid}/fd/${fd}`) ?? "");
      if (match && inodes.has(match[1]!)) {
        owners.push(pid);
        break;
      }
    }
  }
  return owners.sort((a, b) => a - b);
}

export async function allPids(procRoot = "/proc"): Promise<number[]> {
  return readdirSync(procRoot).filter((e) => /^\d+$/.test(e)).map(Number);
}

/** Everything /proc tells about one process that this user may read. */
export async function procInfo(pid: number, procRoot = "/proc"): Promise<ProcInfo | undefined> {
  const base = `${procRoot}/${pid}`;
  const cmdline = readText(`${base}/cmdline`);
  if (cmdline === undefined) return undefined;
  const info: ProcInfo = { pid, argv: cmdline.split("\0").filter((a) => a !== "") };
  info.exe = readLink(`${base}/exe`);
  info.env = parseEnviron(readText(`${base}/environ`));
  const status = readText(`${base}/status`) ?? "";
  const uid = /^Uid:\s+(\d+)/m.exec(status);
  if (uid) info.uid = Number(uid[1]);
  const stat = readText(`${base}/stat`) ?? "";
  // Fields after the parenthesised command name, which may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields.length > 19) {
    const ppid = Number(fields[1]);
    if (Number.isSafeInteger(ppid)) info.ppid = ppid;
    const startTicks = Number(fields[19]);
    const bootSeconds = await bootTimeSeconds(procRoot);
    if (bootSeconds !== undefined && Number.isSafeInteger(startTicks)) info.startedAtMs = Math.round((bootSeconds + startTicks / CLOCK_TICKS) * 1000);
  }
  return info;
}

/** USER_HZ: 100 on every Linux architecture Node supports. */
const CLOCK_TICKS = 100;

async function bootTimeSeconds(procRoot: string): Promise<number | undefined> {
  const text = readText(`${procRoot}/stat`) ?? "";
  const match = /^btime\s+(\d+)/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

export function parseEnviron(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const env: Record<string, string> = {};
  for (const pair of text.split("\0")) {
    const eq = pair.indexOf("=");
    if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** Paths of the files a process has open (fd symlinks) and mapped (shared objects). */
export async function openPaths(pid: number, procRoot = "/proc"): Promise<string[]> {
  const paths = new Set<string>();
  for (const fd of listDir(`${procRoot}/${pid}/fd`) ?? []) {
    const target = readLink(`${procRoot}/${pid}/fd/${fd}`) ?? "";
    if (target.startsWith("/")) paths.add(target);
  }
  const maps = readText(`${procRoot}/${pid}/maps`) ?? "";
  for (const line of maps.split("\n")) {
    const path = line.slice(line.indexOf("/"));
    if (line.includes("/") && path.endsWith(".node")) paths.add(path);
  }
  return [...paths];
}

/** Direct children of a process (gateway workers carry the install path in argv). */
export async function childrenOf(pid: number, procRoot = "/proc"): Promise<ProcInfo[]> {
  const children: ProcInfo[] = [];
  for (const child of await allPids(procRoot)) {
    const stat = readText(`${procRoot}/${child}/stat`) ?? "";
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[1]) !== pid) continue;
    const info = await procInfo(child, procRoot);
    if (info) children.push(info);
  }
  return children;
}
