// systemd, read two ways: `systemctl --user show` (the manager's merged view,
// when a user manager is reachable) and the unit files and EnvironmentFile=s
// themselves (always possible, and the only way on a host with no user session
// or no lingering). Both follow systemd's own rules, cited per function.
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { problemList } from "./problem-list.ts";

// ---------------------------------------------------------------------------
// `systemctl show` output

/**
 * `Key=value` lines; a key may repeat (one `EnvironmentFiles=` line per file,
 * one `ExecStart=` line per command), so every key maps to its lines in order.
 */
export function parseSystemctlShow(text: string): Map<string, string[]> {
  const properties = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq <= 0 || !/^[A-Za-z][A-Za-z0-9]*$/.test(line.slice(0, eq))) continue;
    const key = line.slice(0, eq);
    const list = properties.get(key) ?? [];
    list.push(line.slice(eq + 1));
    properties.set(key, list);
  }
  return properties;
}

export interface ShowEnvironment {
  assignments: [string, string][];
  /** Entries systemd printed as `[unprintable]` (systemd < 248 for values with spaces): their values are unknown. */
  unprintable: number;
}

/**
 * `Environment=` as systemctl prints it: space-separated assignments, each
 * passed through shell_maybe_quote() (systemd >= 248): quoted with "…" and
 * \-escapes (`\"`, `\\`, `\$`, `` \` ``, C escapes like `\n`) when it holds
 * whitespace or shell specials. Older releases print `[unprintable]` instead
 * (src/shared/bus-print-properties.c).
 */
export function parseShowEnvironment(value: string): ShowEnvironment {
  const assignments: [string, string][] = [];
  let unprintable = 0;
  for (const word of splitQuotedWords(value)) {
    if (word === "[unprintable]") { unprintable++; continue; }
    const eq = word.indexOf("=");
    if (eq > 0) assignments.push([word.slice(0, eq), word.slice(eq + 1)]);
  }
  return { assignments, unprintable };
}

export interface EnvironmentFileSpec {
  path: string;
  /** `-` prefix / ignore_errors=yes: a missing file is not an error. */
  optional: boolean;
}

/**
 * `EnvironmentFiles=/path (ignore_errors=yes)`, one line per file
 * (src/systemctl/systemctl-show.c); systemd < 232 named the property
 * `EnvironmentFile=` and kept the `-` prefix on the path.
 */
export function parseShowEnvironmentFiles(lines: readonly string[]): EnvironmentFileSpec[] {
  const specs: EnvironmentFileSpec[] = [];
  for (const line of lines) {
    // Found from the end, not with /^(.*?)\s+\(…\)$/: that retries the blank
    // run from each of its positions, quadratic on a long line of spaces.
    const trimmed = line.trim();
    const flag = /\(ignore_errors=(yes|no)\)$/.exec(trimmed);
    if (!flag) continue;
    const before = trimmed.slice(0, flag.index);
    if (before.trimEnd() === before) continue; // no blank between path and flag
    let path = before.trimEnd();
    const dash = path.startsWith("-");
    if (dash) path = path.slice(1);
    specs.push({ path, optional: flag[1] === "yes" || dash });
  }
  return specs;
}

export interface ShowExecCommand {
  path: string;
  /**
   * systemctl joins argv with single spaces and no quoting, so an argument
   * containing a space is indistinguishable from two: prefer the unit file's
   * ExecStart= when it agrees (see `sameCommandLine`).
   */
  argv: string[];
  argvText: string;
  pid?: number;
}

/** `ExecStart={ path=/usr/bin/node ; argv[]=/usr/bin/node a b ; ignore_errors=no ; start_time=[…] ; … }` (or ExecStartEx's `flags=`). */
export function parseShowExecStart(value: string): ShowExecCommand | undefined {
  // The first " ; argv[]=" and the first " ; ignore_errors=" / " ; flags=" after
  // it, found with indexOf: the equivalent pair of lazy groups is quadratic when
  // the separator repeats.
  const text = value.trim();
  if (!text.startsWith(EXEC_PATH)) return undefined;
  const argvAt = text.indexOf(EXEC_ARGV, EXEC_PATH.length);
  if (argvAt < 0) return undefined;
  const argvStart = argvAt + EXEC_ARGV.length;
  const ends = [text.indexOf(" ; ignore_errors=", argvStart), text.indexOf(" ; flags=", argvStart)].filter((i) => i >= 0);
  if (ends.length === 0) return undefined;
  const pid = /; pid=(\d+) ;/.exec(value);
  const argvText = text.slice(argvStart, Math.min(...ends));
  const pidNumber = pid ? Number(pid[1]) : 0;
  return { path: text.slice(EXEC_PATH.length, argvAt), argv: argvText.split(" ").filter((a) => a !== ""), argvText, pid: pidNumber > 0 && Number.isSafeInteger(pidNumber) ? pidNumber : undefined };
}

const EXEC_PATH = "{ path=";
const EXEC_ARGV = " ; argv[]=";

/** True when `argv`, joined the way systemctl joins it, is `argvText`. */
export function sameCommandLine(argv: readonly string[], argvText: string): boolean {
  return argv.join(" ") === argvText;
}

/**
 * systemd's timestamp text, `Wed 2020-06-03 16:53:40 CEST` (optionally with
 * microseconds). The agent asks systemctl for UTC (TZ=UTC) so the zone is
 * known; any other zone is accepted only if it is the agent's own local zone
 * at that instant, else the time is reported as unknown rather than guessed.
 */
export function parseSystemdTimestamp(value: string | undefined): number | undefined {
  if (!value || value === "n/a" || value === "0") return undefined;
  const match = /^(?:\w+ )?(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? (\S+)$/.exec(value.trim());
  if (!match) return undefined;
  const [y, mo, d, h, mi, s] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = match[7] ? Math.floor(Number(match[7].padEnd(6, "0")) / 1000) : 0;
  const zone = match[8]!;
  if (zone === "UTC" || zone === "GMT") return Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const offset = /^([+-])(\d\d):?(\d\d)$/.exec(zone);
  if (offset) {
    const sign = offset[1] === "-" ? -1 : 1;
    return Date.UTC(y, mo - 1, d, h, mi, s, ms) - sign * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000;
  }
  const local = new Date(y, mo - 1, d, h, mi, s, ms);
  const localZone = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(local).find((p) => p.type === "timeZoneName")?.value;
  return localZone === zone ? local.getTime() : undefined;
}

// ---------------------------------------------------------------------------
// Unit files

export interface UnitDirective {
  section: string;
  key: string;
  value: string;
  /** The unit file or drop-in that set it. */
  path: string;
}

/**
 * One unit file's directives in order (systemd.syntax(7)): `#`/`;` comment
 * lines, `[Section]` headers, a trailing backslash joins the next line with a
 * space; comment lines inside a continuation are skipped.
 */
export function parseUnitFile(text: string, path: string): { directives: UnitDirective[]; problems: string[] } {
  const directives: UnitDirective[] = [];
  const problems = problemList();
  let section = "";
  // Continued lines are collected and joined once: re-joining and re-testing
  // the growing text per line is quadratic in the number of continuations.
  let pending: string[] = [];
  let pendingLine = 0;
  const lines = text.split("\n");
  const isComment = (line: string) => {
    const first = line.trimStart()[0];
    return first === "#" || first === ";";
  };
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!.endsWith("\r") ? lines[n]!.slice(0, -1) : lines[n]!;
    if (pending.length > 0 ? isComment(raw) : false) continue;
    if (raw.endsWith("\\") && (pending.length > 0 || !isComment(raw))) {
      if (pending.length === 0) pendingLine = n + 1;
      pending.push(raw.slice(0, -1), " ");
      continue;
    }
    const lineNo = pending.length > 0 ? pendingLine : n + 1;
    const joined = pending.length > 0 ? pending.join("") + raw : raw;
    pending = [];
    const line = joined.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("[")) {
      if (!line.endsWith("]")) { problems.push(`${path}:${lineNo}: malformed section header`); continue; }
      section = line.slice(1, -1);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq <= 0) { problems.push(`${path}:${lineNo}: not a Key=value line`); continue; }
    if (!section) { problems.push(`${path}:${lineNo}: assignment outside any section`); continue; }
    directives.push({ section, key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim(), path });
  }
  return { directives, problems: problems.list() };
}

/**
 * The unit and its drop-ins in systemd's order: `<unit>.d/*.conf` from each
 * search directory, sorted by file name across directories, a name in an
 * earlier directory masking the same name later (systemd.unit(5) "drop-in").
 */
export async function readUnitWithDropIns(unitPath: string, dropInDirs: readonly string[]): Promise<
  { ok: true; directives: UnitDirective[]; files: string[]; problems: string[]; mtimeMs: number } | { ok: false; missing: boolean; error: string }
> {
  let text: string;
  let mtimeMs: number;
  try {
    const info = await stat(unitPath);
    mtimeMs = info.mtimeMs;
    text = await readFile(unitPath, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, missing: code === "ENOENT", error: `cannot read ${unitPath}: ${code ?? (error as Error).message}` };
  }
  const byName = new Map<string, string>();
  for (const dir of dropInDirs) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) if (name.endsWith(".conf") && !byName.has(name)) byName.set(name, join(dir, name));
  }
  const dropIns = [...byName.keys()].sort().map((name) => byName.get(name)!);
  const first = parseUnitFile(text, unitPath);
  const directives = [...first.directives];
  const problems = [...first.problems];
  const files = [unitPath];
  for (const path of dropIns) {
    const content = await readFile(path, "utf8").catch((e: NodeJS.ErrnoException) => {
      problems.push(`cannot read ${path}: ${e.code ?? e.message}`);
      return undefined;
    });
    if (content === undefined) continue;
    const parsed = parseUnitFile(content, path);
    directives.push(...parsed.directives);
    problems.push(...parsed.problems);
    files.push(path);
  }
  return { ok: true, directives, files, problems, mtimeMs };
}

/** What systemd resolves `%x` specifiers to for a user unit (systemd.unit(5) "Specifiers"). */
export interface SpecifierContext {
  unitName: string;
  home: string;
  uid: number;
  userName?: string;
  xdgRuntimeDir?: string;
  xdgConfigHome?: string;
  xdgStateHome?: string;
  xdgCacheHome?: string;
}

/** Expands the specifiers a user unit can use; an unknown one is left as is and reported. */
export function expandSpecifiers(value: string, ctx: SpecifierContext, problems?: string[]): string {
  if (!value.includes("%")) return value; // the common case, without building the table
  const unitBase = ctx.unitName.replace(/\.[^.]+$/, "");
  const at = unitBase.indexOf("@");
  const table: Record<string, string | undefined> = {
    "%": "%",
    h: ctx.home,
    U: String(ctx.uid),
    u: ctx.userName,
    n: ctx.unitName,
    N: unitBase,
    p: at >= 0 ? unitBase.slice(0, at) : unitBase,
    i: at >= 0 ? unitBase.slice(at + 1) : "",
    t: ctx.xdgRuntimeDir ?? `/run/user/${ctx.uid}`,
    E: ctx.xdgConfigHome ?? join(ctx.home, ".config"),
    S: ctx.xdgStateHome ?? join(ctx.home, ".local", "state"),
    C: ctx.xdgCacheHome ?? join(ctx.home, ".cache"),
    T: "/tmp",
    V: "/var/tmp",
  };
  return value.replace(/%(.)/g, (whole, letter: string) => {
    const resolved = table[letter];
    if (resolved !== undefined) return resolved;
    problems?.push(`specifier ${whole} is not resolved`);
    return whole;
  });
}

/**
 * `Environment=` in a unit file (config_parse_environ): words split like a
 * shell, "…" and '…' quotes removed, C escapes applied, specifiers expanded;
 * assignments with an invalid name are ignored by systemd, and so here.
 */
export function parseEnvironmentDirective(value: string, ctx: SpecifierContext, problems?: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const word of splitQuotedWords(value)) {
    const expanded = expandSpecifiers(word, ctx, problems);
    const eq = expanded.indexOf("=");
    const name = eq > 0 ? expanded.slice(0, eq) : "";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problems?.push(`Environment= entry ${name ? `"${name}"` : "without a name"} is not a valid assignment; systemd ignores it`);
      continue;
    }
    out.push([name, expanded.slice(eq + 1)]);
  }
  return out;
}

/** `EnvironmentFile=[-]path`: the `-` makes a missing file acceptable; the path must be absolute. */
export function parseEnvironmentFileDirective(value: string, ctx: SpecifierContext, problems?: string[]): EnvironmentFileSpec | undefined {
  const optional = value.startsWith("-");
  const path = expandSpecifiers(optional ? value.slice(1) : value, ctx, problems);
  if (!path.startsWith("/")) {
    problems?.push(`EnvironmentFile=${value} is not an absolute path; systemd ignores it`);
    return undefined;
  }
  return { path, optional };
}

/** `ExecStart=` (systemd.service(5) "Command lines"): prefixes `-@:+!|` stripped, words unquoted and unescaped, specifiers expanded. */
export function parseExecStartDirective(value: string, ctx: SpecifierContext, problems?: string[]): string[] {
  const stripped = value.replace(/^[-@:+!|]+/, "");
  return splitQuotedWords(stripped).map((word) => expandSpecifiers(word, ctx, problems));
}

/**
 * Shell-like word splitting with systemd's quoting (extract_first_word with
 * EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE): whitespace separates words, "…" and '…'
 * group (quotes may start mid-word), backslash escapes are C escapes.
 */
export function splitQuotedWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    // C escapes work the same inside and outside quotes.
    if (ch === "\\" && i + 1 < text.length) {
      const [decoded, used] = cUnescape(text, i + 1);
      word += decoded;
      i += used;
      inWord = true;
      continue;
    }
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
      continue;
    }
    if (ch === " " || ch === "\t" || ch === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (ch === '"' || ch === "'") quote = ch;
    else word += ch;
  }
  if (inWord) words.push(word);
  return words;
}

/** Built once: a table per escape made a megabyte of backslashes allocation-bound. ("\0" alone is not one: octal needs three digits.) */
const SIMPLE_ESCAPES = new Map(Object.entries({ n: "\n", t: "\t", r: "\r", a: "\x07", b: "\b", f: "\f", v: "\v", s: " " }));

/** One C escape starting at `at` (after the backslash): [decoded text, characters consumed]. */
function cUnescape(text: string, at: number): [string, number] {
  const ch = text[at]!;
  if (ch === "x") {
    const hex = /^[0-9a-fA-F]{2}/.exec(text.slice(at + 1, at + 3));
    if (hex) return [String.fromCharCode(Number.parseInt(hex[0], 16)), 3];
  }
  if (ch === "u" || ch === "U") {
    const len = ch === "u" ? 4 : 8;
    const hex = new RegExp(`^[0-9a-fA-F]{${len}}`).exec(text.slice(at + 1, at + 1 + len));
    const codePoint = hex ? Number.parseInt(hex[0], 16) : -1;
    // \U can name more than Unicode holds (\UFFFFFFFF): systemd rejects it as an invalid escape, taken literally here.
    if (codePoint >= 0 && codePoint <= 0x10ffff) return [String.fromCodePoint(codePoint), len + 1];
  }
  if (/^[0-7]{3}$/.test(text.slice(at, at + 3))) return [String.fromCharCode(Number.parseInt(text.slice(at, at + 3), 8)), 3];
  const simple = SIMPLE_ESCAPES.get(ch);
  if (simple !== undefined) return [simple, 1];
  return [ch, 1];
}

// ---------------------------------------------------------------------------
// EnvironmentFile= contents

export interface EnvironmentFileParse {
  values: Record<string, string>;
  /** Lines systemd drops (an invalid name such as `export FOO`); never contain values. */
  problems: string[];
}

/**
 * An EnvironmentFile= as systemd reads it (src/basic/env-file.c,
 * parse_env_file_internal; systemd.exec(5) "EnvironmentFile="): `#`/`;`
 * comment lines; `KEY=value` with leading/trailing whitespace dropped; an
 * unquoted value keeps interior whitespace and honours `\` escapes and
 * `\`-newline continuations; '…' is literal and may span lines; "…" may span
 * lines and unescapes only \" \\ \` \$ (other backslashes stay). No variable
 * expansion. Names that are not valid variable names (`export FOO`) are
 * dropped when the service starts, so they are dropped here too.
 */
export function parseEnvironmentFile(text: string): EnvironmentFileParse {
  const values: Record<string, string> = {};
  const problems = problemList();
  type State = "preKey" | "key" | "preValue" | "value" | "valueEscape" | "single" | "double" | "doubleEscape" | "comment" | "commentEscape";
  let state: State = "preKey";
  let key = "";
  let value = "";
  let hasValue = false;
  let lastKeyWs = -1;
  let lastValueWs = -1;
  let line = 1;
  let keyLine = 1;
  const push = () => {
    if (lastKeyWs >= 0) key = key.slice(0, lastKeyWs);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      problems.push(`line ${keyLine}: "${key.slice(0, 40)}" is not a valid variable name; systemd ignores it`);
    } else {
      values[key] = hasValue ? value : "";
    }
    key = ""; value = ""; hasValue = false; lastKeyWs = -1; lastValueWs = -1;
  };
  for (const c of text) {
    switch (state) {
      case "preKey":
        if (c === "#" || c === ";") state = "comment";
        else if (!" \t\n\r".includes(c)) { state = "key"; key = c; lastKeyWs = -1; keyLine = line; }
        break;
      case "key":
        if (c === "\n" || c === "\r") { state = "preKey"; key = ""; lastKeyWs = -1; }
        else if (c === "=") { state = "preValue"; lastValueWs = -1; }
        else {
          if (!" \t".includes(c)) lastKeyWs = -1;
          else if (lastKeyWs < 0) lastKeyWs = key.length;
          key += c;
        }
        break;
      case "preValue":
        if (c === "\n" || c === "\r") { state = "preKey"; push(); }
        else if (c === "'") { state = "single"; hasValue = true; }
        else if (c === '"') { state = "double"; hasValue = true; }
        else if (c === "\\") { state = "valueEscape"; hasValue = true; }
        else if (!" \t".includes(c)) { state = "value"; value += c; hasValue = true; }
        break;
      case "value":
        if (c === "\n" || c === "\r") {
          state = "preKey";
          if (lastValueWs >= 0) value = value.slice(0, lastValueWs);
          push();
        } else if (c === "\\") { state = "valueEscape"; lastValueWs = -1; }
        else {
          if (!" \t".includes(c)) lastValueWs = -1;
          else if (lastValueWs < 0) lastValueWs = value.length;
          value += c;
        }
        break;
      case "valueEscape":
        state = "value";
        if (c !== "\n" && c !== "\r") value += c;
        break;
      case "single":
        if (c === "'") state = "preValue";
        else value += c;
        break;
      case "double":
        if (c === '"') state = "preValue";
        else if (c === "\\") state = "doubleEscape";
        else value += c;
        break;
      case "doubleEscape":
        state = "double";
        if ('"\\`$'.includes(c)) value += c;
        else if (c !== "\n") value += `\\${c}`;
        break;
      case "comment":
        if (c === "\\") state = "commentEscape";
        else if (c === "\n" || c === "\r") state = "preKey";
        break;
      case "commentEscape":
        // Since v254 an escaped newline no longer continues a comment.
        state = c === "\n" || c === "\r" ? "preKey" : "comment";
        break;
    }
    if (c === "\n") line++;
  }
  if (state === "value" && lastValueWs >= 0) value = value.slice(0, lastValueWs);
  if (["preValue", "value", "valueEscape", "single", "double", "doubleEscape"].includes(state)) push();
  return { values, problems: problems.list() };
}
