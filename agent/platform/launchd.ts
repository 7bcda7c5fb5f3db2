// launchd, read two ways: the LaunchAgent plist on disk (what should run) and
// `launchctl print gui/<uid>/<label>` (what launchd has loaded and is running).
// launchctl's output is explicitly not an API (launchctl(1)): it is parsed
// defensively, one top-level field at a time, and never trusted to nest sanely.
import { readFile, stat } from "node:fs/promises";
import type { PlistValue } from "plist";
import type { CommandRunner } from "./command-runner.ts";

/** launchd's own PATH for a job whose plist sets none (launchd.plist(5), `default environment` in launchctl print). */
export const LAUNCHD_DEFAULT_PATH = "/usr/bin:/bin:/usr/sbin:/sbin";

/** `launchctl print` exits 113 when the domain has no such service. */
export const LAUNCHCTL_NOT_FOUND_EXIT = 113;

const LAUNCHCTL_TIMEOUT_MS = 1500;

/** The fields of a LaunchAgent plist that say what runs and with which environment. */
export interface LaunchAgentPlist {
  label?: string;
  /** Program + ProgramArguments as launchd execs them (Program replaces argv[0]'s path only). */
  programArguments: string[];
  /** String values only; see `nonStringEnvironmentKeys`. */
  environmentVariables: Record<string, string>;
  /** EnvironmentVariables entries that are not strings: launchd refuses them, so the service never sees them. */
  nonStringEnvironmentKeys: string[];
  workingDirectory?: string;
  /** Where launchd sends the job's stdout/stderr (OpenClaw: ~/Library/Logs/openclaw/gateway.log for both). */
  standardOutPath?: string;
  standardErrorPath?: string;
  keepAlive?: boolean;
  runAtLoad?: boolean;
}

export type PlistReadResult =
  | { ok: true; plist: LaunchAgentPlist; mtimeMs: number }
  | { ok: false; missing: boolean; error: string; mtimeMs?: number };

/**
 * Reads a plist (XML, binary or OpenStep; the `plist` package detects which).
 * Errors name the file and the reason but never quote its content: a plist's
 * EnvironmentVariables may hold tokens.
 */
export async function readLaunchAgentPlist(path: string): Promise<PlistReadResult> {
  let bytes: Buffer;
  let mtimeMs: number;
  try {
    [bytes, mtimeMs] = await Promise.all([readFile(path), stat(path).then((s) => s.mtimeMs)]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, missing: code === "ENOENT", error: `cannot read ${path}: ${code ?? (error as Error).message}` };
  }
  // Loaded on first use: the XML parser and builder behind it are a few MB that a Linux host never needs.
  const { parse } = await import("plist");
  let value: PlistValue;
  try {
    // Binary plists must reach the parser as bytes; everything else as text.
    value = bytes.subarray(0, 6).toString("latin1") === "bplist" ? parseQuietly(parse, new Uint8Array(bytes)) : parseQuietly(parse, bytes.toString("utf8"));
  } catch (error) {
    return { ok: false, missing: false, mtimeMs, error: `${path} is not a valid property list (${errorReason(error)})` };
  }
  if (!isDict(value)) return { ok: false, missing: false, mtimeMs, error: `${path} is not a launchd job: its root is not a dictionary` };
  const plist = launchAgentFields(value);
  if (plist.programArguments.length === 0) {
    return { ok: false, missing: false, mtimeMs, error: `${path} has neither Program nor ProgramArguments: launchd cannot start it` };
  }
  return { ok: true, plist, mtimeMs };
}

/**
 * plist's XML reader (@xmldom/xmldom, given no onError) reports each syntax
 * problem with console.error, quoting the offending text, which in a plist can
 * be a token. The parse is synchronous, so console.error is silenced for
 * exactly its duration; the thrown error still says what is wrong.
 */
function parseQuietly(parse: typeof import("plist").parse, input: string | Uint8Array): PlistValue {
  const original = console.error;
  console.error = () => undefined;
  try {
    return typeof input === "string" ? parse(input) : parse(input);
  } finally {
    console.error = original;
  }
}

function launchAgentFields(dict: Record<string, PlistValue>): LaunchAgentPlist {
  const args = Array.isArray(dict.ProgramArguments) ? dict.ProgramArguments.filter((a): a is string => typeof a === "string") : [];
  const program = typeof dict.Program === "string" ? dict.Program : undefined;
  // launchd.plist(5): Program is the executable; ProgramArguments is argv. With
  // only Program, argv is [Program].
  const programArguments = program ? (args.length > 0 ? [program, ...args.slice(1)] : [program]) : args;
  const environmentVariables: Record<string, string> = {};
  const nonStringEnvironmentKeys: string[] = [];
  if (isDict(dict.EnvironmentVariables)) {
    for (const [key, value] of Object.entries(dict.EnvironmentVariables)) {
      if (typeof value === "string") environmentVariables[key] = value;
      else nonStringEnvironmentKeys.push(key);
    }
  }
  return {
    label: typeof dict.Label === "string" ? dict.Label : undefined,
    programArguments,
    environmentVariables,
    nonStringEnvironmentKeys,
    workingDirectory: typeof dict.WorkingDirectory === "string" ? dict.WorkingDirectory : undefined,
    standardOutPath: typeof dict.StandardOutPath === "string" ? dict.StandardOutPath : undefined,
    standardErrorPath: typeof dict.StandardErrorPath === "string" ? dict.StandardErrorPath : undefined,
    keepAlive: typeof dict.KeepAlive === "boolean" ? dict.KeepAlive : isDict(dict.KeepAlive) ? true : undefined,
    runAtLoad: typeof dict.RunAtLoad === "boolean" ? dict.RunAtLoad : undefined,
  };
}

function isDict(value: PlistValue | undefined): value is Record<string, PlistValue> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Uint8Array);
}

function errorReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // Parser messages name tags and positions; cut anything long enough to be data.
  return message.split("\n")[0]!.slice(0, 120);
}

/** What `launchctl print` says about one loaded job. */
export interface LaunchctlJob {
  /** "running", "not running", "spawn scheduled", "waiting"… */
  state?: string;
  pid?: number;
  runs?: number;
  /** `last exit code`; a signal death (`last terminating signal = Terminated: 15`) as its negative number, like `launchctl list`. */
  lastExitStatus?: number;
  /** The raw text, e.g. "78: EX_CONFIG", "(never exited)", "Terminated: 15". */
  lastExit?: string;
  /** The plist launchd loaded the job from. */
  path?: string;
  program?: string;
  /** `stdout path` / `stderr path`: the plist's StandardOutPath/StandardErrorPath as launchd loaded them. */
  stdoutPath?: string;
  stderrPath?: string;
  arguments: string[];
  /** The job's own `environment = { … }` block (from its plist), not the inherited/default ones. */
  environment: Record<string, string>;
  /** `default environment`: launchd's PATH when the plist sets none. */
  defaultEnvironment: Record<string, string>;
  jobState?: string;
}

export type LaunchctlPrintResult =
  | { status: "loaded"; job: LaunchctlJob }
  | { status: "not-loaded"; detail: string }
  | { status: "unknown"; detail: string };

export function launchctlTarget(uid: number, label: string): string {
  return `gui/${uid}/${label}`;
}

/** `launchctl print gui/<uid>/<label>`, classified: loaded (parsed), not loaded (exit 113), or unknown. */
export async function launchctlPrint(runner: CommandRunner, uid: number, label: string, signal?: AbortSignal): Promise<LaunchctlPrintResult> {
  const target = launchctlTarget(uid, label);
  const result = await runner.run("launchctl", ["print", target], { timeoutMs: LAUNCHCTL_TIMEOUT_MS, signal });
  const detail = firstLine(result.stderr || result.stdout);
  if (result.exitCode === 0) {
    const job = parseLaunchctlPrint(result.stdout);
    if (!job) return { status: "unknown", detail: `\`launchctl print ${target}\` printed nothing recognisable` };
    return { status: "loaded", job };
  }
  // 113 is launchd's "not found"; older releases print the same words with another status.
  if (result.exitCode === LAUNCHCTL_NOT_FOUND_EXIT || /could not find service|no such process/i.test(result.stderr + result.stdout)) {
    return { status: "not-loaded", detail: detail || `exit ${result.exitCode}` };
  }
  if (result.exitCode === 127) return { status: "unknown", detail: "launchctl is not available" };
  if (result.exitCode === 124) return { status: "unknown", detail: `\`launchctl print ${target}\` timed out` };
  return { status: "unknown", detail: `\`launchctl print ${target}\` exited ${result.exitCode}${detail ? `: ${detail}` : ""}` };
}

function firstLine(text: string): string {
  // "Bad request." precedes the useful line on recent releases.
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l && l !== "Bad request.");
  return (lines[0] ?? "").slice(0, 200);
}

/**
 * Parses the top level of `launchctl print` output. Only depth-1 fields count:
 * nested blocks repeat keys (`state = active` inside coalitions and
 * endpoints). Depth follows the net count of brackets on each line, outside
 * quotes, because blocks do not always open and close on lines of their own:
 * LWCR dumps close an array on its item's line (`0 = \t\t\t\t]`) and plain
 * values carry balanced brackets (`domain = gui/501 [100020]`).
 */
export function parseLaunchctlPrint(text: string): LaunchctlJob | undefined {
  const job: LaunchctlJob = { arguments: [], environment: {}, defaultEnvironment: {} };
  let depth = 0;
  /** The depth-1 block we are inside. */
  let block: string | undefined;
  let sawHeader = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const net = bracketBalance(line);
    if (net > 0) {
      if (depth === 0) sawHeader = true;
      if (depth === 1) block = blockName(line);
      depth += net;
      continue;
    }
    if (net < 0) {
      depth = Math.max(0, depth + net);
      if (depth <= 1) block = undefined;
      continue;
    }
    if (depth === 1) {
      const eq = line.indexOf(" = ");
      if (eq <= 0) continue;
      setField(job, line.slice(0, eq), line.slice(eq + 3));
    } else if (depth === 2 && block !== undefined) {
      if (block === "arguments") job.arguments.push(line);
      const arrow = line.indexOf(" => ");
      if (arrow > 0 && block === "environment") job.environment[line.slice(0, arrow)] = line.slice(arrow + 4);
      if (arrow > 0 && block === "default environment") job.defaultEnvironment[line.slice(0, arrow)] = line.slice(arrow + 4);
    }
  }
  // A header without any known field is a format we do not understand, not an empty job.
  const recognised = job.state !== undefined || job.pid !== undefined || job.path !== undefined || job.program !== undefined;
  return sawHeader && recognised ? job : undefined;
}

/**
 * `environment = {` → "environment" (also `=> {`, `= [`); other lines as they
 * are. By hand: /\s*=>?\s*[{[]$/ retries each blank of a long run, quadratic.
 */
function blockName(line: string): string {
  if (!line.endsWith("{") && !line.endsWith("[")) return line;
  const body = line.slice(0, -1).trimEnd();
  if (body.endsWith("=>")) return body.slice(0, -2).trimEnd();
  if (body.endsWith("=")) return body.slice(0, -1).trimEnd();
  return line;
}

/** Opening minus closing brackets on a line, ignoring quoted text. */
function bracketBalance(line: string): number {
  let net = 0;
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (ch === "{" || ch === "[") net++;
    else if (ch === "}" || ch === "]") net--;
  }
  return net;
}

function setField(job: LaunchctlJob, key: string, value: string): void {
  switch (key) {
    case "state": job.state = value; break;
    case "pid": job.pid = intOrUndefined(value); break;
    case "runs": job.runs = intOrUndefined(value); break;
    case "path": job.path = value; break;
    case "program": job.program = value; break;
    case "stdout path": job.stdoutPath = value; break;
    case "stderr path": job.stderrPath = value; break;
    case "job state": job.jobState = value; break;
    case "last exit code":
      job.lastExit = value;
      // "0", "1", "78: EX_CONFIG"; "(never exited)" has no number.
      job.lastExitStatus = /^-?\d+/.test(value) ? Number.parseInt(value, 10) : undefined;
      if (!Number.isSafeInteger(job.lastExitStatus)) job.lastExitStatus = undefined;
      break;
    case "last terminating signal": {
      job.lastExit = value;
      const signal = trailingNumber(value);
      if (signal !== undefined) job.lastExitStatus = -signal;
      break;
    }
  }
}

function intOrUndefined(value: string): number | undefined {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The number ending `Terminated: 15`; scanned by hand, as /(\d+)\s*$/ is quadratic on a long run of digits. */
function trailingNumber(value: string): number | undefined {
  const text = value.trimEnd();
  let start = text.length;
  while (start > 0 && text[start - 1]! >= "0" && text[start - 1]! <= "9") start--;
  return intOrUndefined(text.slice(start));
}
