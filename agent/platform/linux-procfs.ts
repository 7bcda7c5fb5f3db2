// Linux ground truth from /proc: who listens on a port, and what that process
// really is (executable, argv, environment, start time, open files). Reads only
// what this user may read; a process of another user yields what it can.
import { readdir, readFile, readlink } from "node:fs/promises";

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
  for (const file of ["tcp", "tcp6"]) {
    let text: string;
    try {
      text = await readFile(`${procRoot}/net/${file}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
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
  await Promise.all(
    pids.map(async (pid) => {
      let fds: string[];
      try {
        fds = await readdir(`${procRoot}/${pid}/fd`);
      } catch {
        return; // exited, or another user's
      }
      for (const fd of fds) {
        const target = await readlink(`${procRoot}/${pid}/fd/${fd}`).catch(() => "");
        const match = /^socket:\[(\d+)\]$/.exec(target);
        if (match && inodes.has(match[1]!)) {
          owners.push(pid);
          return;
        }
      }
    }),
  );
  return owners.sort((a, b) => a - b);
}

export async function allPids(procRoot = "/proc"): Promise<number[]> {
  return (await readdir(procRoot)).filter((e) => /^\d+$/.test(e)).map(Number);
}

/** Everything /proc tells about one process that this user may read. */
export async function procInfo(pid: number, procRoot = "/proc"): Promise<ProcInfo | undefined> {
  const base = `${procRoot}/${pid}`;
  const cmdline = await readFile(`${base}/cmdline`, "utf8").catch(() => undefined);
  if (cmdline === undefined) return undefined;
  const info: ProcInfo = { pid, argv: cmdline.split("\0").filter((a) => a !== "") };
  info.exe = await readlink(`${base}/exe`).catch(() => undefined);
  info.env = parseEnviron(await readFile(`${base}/environ`, "utf8").catch(() => undefined));
  const status = await readFile(`${base}/status`, "utf8").catch(() => "");
  const uid = /^Uid:\s+(\d+)/m.exec(status);
  if (uid) info.uid = Number(uid[1]);
  const stat = await readFile(`${base}/stat`, "utf8").catch(() => "");
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
  const text = await readFile(`${procRoot}/stat`, "utf8").catch(() => "");
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
  const fds = await readdir(`${procRoot}/${pid}/fd`).catch(() => [] as string[]);
  await Promise.all(
    fds.map(async (fd) => {
      const target = await readlink(`${procRoot}/${pid}/fd/${fd}`).catch(() => "");
      if (target.startsWith("/")) paths.add(target);
    }),
  );
  const maps = await readFile(`${procRoot}/${pid}/maps`, "utf8").catch(() => "");
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
    const stat = await readFile(`${procRoot}/${child}/stat`, "utf8").catch(() => "");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[1]) !== pid) continue;
    const info = await procInfo(child, procRoot);
    if (info) children.push(info);
  }
  return children;
}
