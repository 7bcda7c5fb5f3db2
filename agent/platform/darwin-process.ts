// macOS ground truth through the command runner: lsof for the listener and a
// process's open files, ps for start time and children. Formats: lsof(8)
// "OUTPUT FOR OTHER PROGRAMS" (-F field lines: p pid, c command, f fd, n name)
// and ps(1) `lstart` ("Wed Nov 25 08:28:58 2026" in the C locale).
import type { CommandRunner } from "./command-runner.ts";
import type { ProcInfo } from "./linux-procfs.ts";

const C_LOCALE = { LC_ALL: "C", PATH: "/usr/sbin:/usr/bin:/bin:/sbin" };

export interface LsofListener {
  pid: number;
  command: string;
  /** Listening address without the port: 127.0.0.1, ::1, * (all). */
  address: string;
}

/** Parses `lsof -nP -iTCP:<port> -sTCP:LISTEN -Fpcn`. */
export function parseLsofListeners(stdout: string): LsofListener[] {
  const out: LsofListener[] = [];
  let pid = 0;
  let command = "";
  for (const line of stdout.split("\n")) {
    const tag = line[0];
    const value = line.slice(1);
    if (tag === "p") pid = Number(value);
    else if (tag === "c") command = value;
    else if (tag === "n" && pid) {
      const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(value);
      if (match) out.push({ pid, command, address: match[1] === "*" ? "*" : match[1]! });
    }
  }
  return out;
}

/**
 * Parses `lsof -nP -p <pid> -Ffn`: every name that is an absolute path, and the
 * executable (the first `txt` entry is the program's own image).
 */
export function parseLsofFiles(stdout: string): { paths: string[]; exe?: string } {
  const paths: string[] = [];
  let exe: string | undefined;
  let fd = "";
  for (const line of stdout.split("\n")) {
    if (line.startsWith("f")) fd = line.slice(1);
    else if (line.startsWith("n/")) {
      paths.push(line.slice(1));
      if (fd === "txt" && exe === undefined) exe = line.slice(1);
    }
  }
  return { paths, exe };
}

/** Parses `ps -o lstart=,uid=,command= -p <pid>`. */
export function parsePsStart(stdout: string): { startedAtMs?: number; uid?: number; command: string } | undefined {
  const match = /^\s*(\w{3}\s+\w{3}\s+\d+\s+\d{2}:\d{2}:\d{2}\s+\d{4})\s+(\d+)\s+(.*)$/.exec(stdout.trim());
  if (!match) return undefined;
  const started = Date.parse(match[1]!.replace(/^\w{3}\s+/, ""));
  return { startedAtMs: Number.isNaN(started) ? undefined : started, uid: Number(match[2]), command: match[3]! };
}

/** Parses `ps -axo pid=,ppid=,command=`. */
export function parsePsTable(stdout: string): { pid: number; ppid: number; command: string }[] {
  return stdout
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), command: m[3]! }));
}

export async function darwinListeners(runner: CommandRunner, port: number, signal?: AbortSignal): Promise<LsofListener[]> {
  const result = await runner.run("lsof", ["-nP", `-iTCP:${port}`, "-sTCP:LISTEN", "-Fpcn"], { timeoutMs: 2000, signal, env: C_LOCALE });
  return parseLsofListeners(result.stdout); // exit 1 with no output: nothing listens
}

export async function darwinProcInfo(runner: CommandRunner, pid: number, signal?: AbortSignal): Promise<ProcInfo | undefined> {
  const ps = await runner.run("ps", ["-o", "lstart=,uid=,command=", "-p", String(pid)], { timeoutMs: 2000, signal, env: C_LOCALE });
  const parsed = parsePsStart(ps.stdout);
  if (!parsed) return undefined;
  // ps shows argv joined by spaces; good enough to recognise flags like --token.
  return { pid, argv: parsed.command.split(/\s+/), startedAtMs: parsed.startedAtMs, uid: parsed.uid };
}

export async function darwinOpenFiles(runner: CommandRunner, pid: number, signal?: AbortSignal): Promise<{ paths: string[]; exe?: string }> {
  const result = await runner.run("lsof", ["-nP", "-p", String(pid), "-Ffn"], { timeoutMs: 2000, signal, env: C_LOCALE });
  return parseLsofFiles(result.stdout);
}

export async function darwinProcessTable(runner: CommandRunner, signal?: AbortSignal): Promise<{ pid: number; ppid: number; command: string }[]> {
  const result = await runner.run("ps", ["-axo", "pid=,ppid=,command="], { timeoutMs: 2000, signal, env: C_LOCALE });
  return parsePsTable(result.stdout);
}
