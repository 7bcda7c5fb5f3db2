// Where the gateway writes its own file log, found as the pinned OpenClaw
// 2026.9.6 finds it (dist/logger-*.mjs, src/logging/log-file-path.ts and
// logger.ts; dist/tmp-openclaw-dir-*.mjs with @openclaw/fs-safe
// secure-temp-dir.js):
// - `logging.file` in the config, `~` expanded. A name of the old dated shape
//   (`openclaw-YYYY-MM-DD.log`) is "rolling": the date part moves to today;
//   any other name is written as is.
// - otherwise `<dir>/openclaw[-<profile>]-<local date>.log`, where <dir> is
//   /tmp/openclaw when that is a real directory owned by the gateway's user and
//   not group/world-writable, else `<os.tmpdir()>/openclaw-<uid>`; <profile>
//   is OPENCLAW_PROFILE encoded (a-z0-9 kept, `-`→`--`, `_`→`-0`, A-Z→`-1a`…).
// - a file that outgrows logging.maxFileBytes (100 MB) is renamed to
//   `<name>.1.log` … `<name>.5.log`; dated files older than 24 h are deleted
//   by the gateway when it opens a new one.
// The agent only lists and stats here: it never creates the directory that
// OpenClaw would (mkdirSync in resolveSecureTempRoot), nor touches a file.
import { lstatSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { createHash } from "node:crypto";

export const OPENCLAW_PREFERRED_LOG_DIR = "/tmp/openclaw";
/** OpenClaw's own retention for dated log files (MAX_LOG_AGE_MS). */
export const OPENCLAW_LOG_RETENTION_MS = 24 * 60 * 60_000;

const ROLLING_LOG_FILE = /^(openclaw(?:-[a-z0-9-]+)?)-(\d{4}-\d{2}-\d{2})\.log$/u;
/** A dated file or one of its size rotations (`openclaw-2026-12-05.2.log`). */
const FAMILY_FILE = /^(openclaw(?:-[a-z0-9-]+)?)-(\d{4}-\d{2}-\d{2})(?:\.(\d))?\.log$/u;
const MAX_PROFILE_SEGMENT = 220;

export interface LogFileInput {
  /** `logging.file` from the config the gateway reads, if set. */
  configuredFile?: string;
  /** The gateway's environment (OPENCLAW_PROFILE, TMPDIR, HOME). */
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  uid: number;
  /** Stands in for /tmp/openclaw (tests: the real one is shared by every gateway on the host). */
  preferredDir?: string;
}

export interface LogFile {
  path: string;
  mtimeMs: number;
  size: number;
}

/** OpenClaw's encodeLogProfileSegment/resolveLogProfileSegment. */
export function logProfileSegment(profile: string | undefined): string | undefined {
  const trimmed = profile?.trim();
  if (!trimmed || trimmed.toLowerCase() === "default") return undefined;
  let encoded = "";
  for (const char of trimmed) {
    if (/^[a-z0-9]$/u.test(char)) encoded += char;
    else if (char === "-") encoded += "--";
    else if (char === "_") encoded += "-0";
    else if (/^[A-Z]$/u.test(char)) encoded += `-1${char.toLowerCase()}`;
    else encoded += `-2${char.codePointAt(0)?.toString(16) ?? "0"}-`;
  }
  return encoded.length <= MAX_PROFILE_SEGMENT ? encoded : `-3${createHash("sha256").update(trimmed).digest("hex")}`;
}

/** The directory the default rolling log lives in (resolveSecureTempRoot, read-only). */
export function defaultLogDir(env: LogFileInput["env"], uid: number, preferredDir = OPENCLAW_PREFERRED_LOG_DIR): string {
  try {
    const info = lstatSync(preferredDir);
    if (info.isDirectory() && !info.isSymbolicLink() && info.uid === uid && (info.mode & 0o022) === 0) return preferredDir;
  } catch {
    // Missing: the gateway would create it, but has not, so it wrote nothing there.
  }
  // os.tmpdir() of the gateway: its TMPDIR (macOS gives each user one), else /tmp.
  const tmp = env.TMPDIR?.trim() ? env.TMPDIR.trim().replace(/\/+$/, "") || "/" : "/tmp";
  return join(tmp, `openclaw-${uid}`);
}

function expandHome(file: string, home: string): string {
  return file === "~" ? home : file.startsWith("~/") ? join(home, file.slice(2)) : file;
}

/**
 * A gateway started by Vitest writes no file log (dist/logger-*.mjs
 * canUseSilentVitestFileLogFastPath: VITEST=true, no OPENCLAW_LOG_LEVEL, and
 * OPENCLAW_TEST_FILE_LOG unset; with it set the file is named after the
 * gateway's cwd and pid, which only the gateway knows). Reading the host's
 * shared default log then would show another gateway's lines as this one's.
 */
export function silencedUnderVitest(env: LogFileInput["env"], configuredFile: string | undefined): boolean {
  if (env.VITEST !== "true") return false;
  if (env.OPENCLAW_TEST_FILE_LOG === "1") return !configuredFile?.trim();
  return !env.OPENCLAW_LOG_LEVEL?.trim();
}

/**
 * The gateway's log files that exist, newest first: the dated family in its
 * directory (today's, then earlier days, with their size rotations), or a
 * fixed configured file and its rotations.
 */
export function findOpenClawLogFiles(input: LogFileInput): LogFile[] {
  if (silencedUnderVitest(input.env, input.configuredFile)) return [];
  const configured = input.configuredFile?.trim() ? expandHome(input.configuredFile.trim(), input.home) : undefined;
  const legacyRolling = configured !== undefined && (basename(configured) === "openclaw-YYYY-MM-DD.log" || ROLLING_LOG_FILE.exec(basename(configured))?.[1] === "openclaw");
  let candidates: string[];
  if (configured && !legacyRolling) {
    const ext = extname(configured);
    const stem = configured.slice(0, configured.length - ext.length);
    candidates = [configured, ...[1, 2, 3, 4, 5].map((i) => `${stem}.${i}${ext}`)];
  } else {
    // A legacy dated name keeps its directory and the plain `openclaw` family.
    const dir = configured ? dirname(configured) : defaultLogDir(input.env, input.uid, input.preferredDir);
    const segment = configured ? undefined : logProfileSegment(input.env.OPENCLAW_PROFILE);
    const family = segment ? `openclaw-${segment}` : "openclaw";
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    candidates = names.filter((name) => FAMILY_FILE.exec(name)?.[1] === family).map((name) => join(dir, name));
  }
  const files: LogFile[] = [];
  for (const path of candidates) {
    try {
      const info = statSync(path);
      if (info.isFile()) files.push({ path, mtimeMs: info.mtimeMs, size: info.size });
    } catch {
      // Not there: nothing to read.
    }
  }
  return files.sort((a, b) => b.mtimeMs - a.mtimeMs);
}
