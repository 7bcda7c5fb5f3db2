// The .env files OpenClaw loads itself, read as it reads them: which files, in
// which order, with which parser, and which of their keys it keeps. Mirrors the
// pinned openclaw 2026.9.6:
//   dist/dotenv-global-*.mjs (src/infra/dotenv-global-core.ts): each file through
//     realpath, a regular file of at most 1 MiB (else skipped), dotenv's parse(),
//     then only portable names (normalizeEnvVarKey { portable: true });
//     first file wins, and nothing already in the process environment is overridden;
//   resolveGlobalDotEnvPaths: <state dir>/.env, then ~/.config/openclaw/gateway.env
//     unless OPENCLAW_STATE_DIR moves the state dir away from ~/.openclaw;
//   dist/pre-bootstrap-*.mjs resolveGatewayRunDotEnvPaths and dist/dotenv-qNpaL7Pa.mjs
//     loadDotEnv (config loading): <config dir>/.env too, when it is another directory
//     (OPENCLAW_CONFIG_PATH elsewhere; src/utils resolveConfigDir).
// A `.env` in the working directory is also read by the CLI, but with a blocklist that drops
// every OPENCLAW_* variable and every provider key (dist/dotenv-qNpaL7Pa.mjs), which are
// the only variables clawfleet judges, and the agent's working directory is not the operator's.
import { closeSync, fstatSync, openSync, readSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import dotenv from "dotenv";

export type Env = Readonly<Record<string, string | undefined>>;

/** OpenClaw skips a larger .env with a warning (MAX_DOTENV_FILE_BYTES). */
export const MAX_DOTENV_FILE_BYTES = 1048576;

/** host-env-security PORTABLE_ENV_VAR_KEY: the names OpenClaw keeps from a .env. */
const PORTABLE_ENV_VAR_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface DotenvFile {
  path: string;
  /** Why OpenClaw would skip this file ("missing", too large, not a regular file); values is then empty. */
  skipped?: string;
  values: Record<string, string>;
}

/**
 * A .env text as OpenClaw parses it: `dotenv.parse`, then only portable names.
 * `#` starts a comment even mid-value, quotes ('…', "…", `…`) may span lines,
 * only "…" turns \n and \r into line breaks, `KEY: value` is an assignment,
 * a later duplicate wins, CRLF is LF, and a BOM is blank space before the first key.
 */
export function parseDotenv(text: string): Record<string, string> {
  const parsed = quadraticCost(text) > QUADRATIC_BUDGET ? parseDotenvLinear(text) : dotenv.parse(text);
  const out: Record<string, string> = {};
  for (const [rawKey, value] of Object.entries(parsed)) {
    const key = rawKey.trim();
    if (PORTABLE_ENV_VAR_KEY.test(key)) out[key] = value;
  }
  return out;
}

/**
 * dotenv's LINE begins with `^\s*` under the `m` flag: from every line start in a
 * run of blank lines it rescans the rest of the run: on dotenv 17.4.2, 6 s for
 * 64 Ki newlines and 98 s for 256 Ki (measured), so some 25 minutes at OpenClaw's
 * 1 MiB cap. A synchronous parse cannot be timed out, so above this many rescanned
 * characters (~50 ms; the estimate counts runs an assignment's trailing `\s*`
 * would swallow too, so it errs towards the twin) the line-anchored twin below is used.
 */
const QUADRATIC_BUDGET = 20_000_000;

/** Σ over line starts of the whitespace run that follows: the characters dotenv's leading `\s*` rescans. */
function quadraticCost(text: string): number {
  let run = 0;
  let cost = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    run = isRegExpSpace(text.charCodeAt(i)) ? run + 1 : 0;
    if (run > 0 && (i === 0 || isLineTerminator(text.charCodeAt(i - 1)))) cost += run;
  }
  return cost;
}

/** What `\s` matches in a JavaScript RegExp (WhiteSpace and LineTerminator, BOM included). */
function isRegExpSpace(code: number): boolean {
  return (code >= 0x09 && code <= 0x0d) || code === 0x20 || code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;
}

function isLineTerminator(code: number): boolean {
  return code === 0x0a || code === 0x0d || code === 0x2028 || code === 0x2029;
}

/**
 * dotenv 17.4.2's parse() with one change: the leading `\s*` stays on its line
 * (`[^\S\n\u2028\u2029]*`). It finds the same assignments, since a key can only
 * begin at the first non-blank character after a line start and `^` is tried at
 * every one; test/property/config-files.property.test.ts proves the equality
 * against the installed dotenv on random and .env-shaped inputs.
 */
export function parseDotenvLinear(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/\r\n?/g, "\n");
  for (const match of lines.matchAll(DOTENV_LINE)) {
    const key = match[1]!;
    let value = (match[2] ?? "").trim();
    const quote = value[0];
    value = value.replace(/^(['"`])([\s\S]*)\1$/gm, "$2");
    if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
    out[key] = value;
  }
  return out;
}

const DOTENV_LINE = /^[^\S\n\u2028\u2029]*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?$/gm;

/** One .env file as OpenClaw's readDotEnvFileCore reads it; never throws. */
export function readDotenvFile(path: string): DotenvFile {
  let fd: number | undefined;
  try {
    const real = realpathSync(path);
    fd = openSync(real, "r");
    const info = fstatSync(fd);
    if (!info.isFile()) return { path, skipped: "not a regular file", values: {} };
    if (info.size > MAX_DOTENV_FILE_BYTES) return { path, skipped: `larger than ${MAX_DOTENV_FILE_BYTES} bytes, which OpenClaw skips`, values: {} };
    const buffer = Buffer.alloc(info.size);
    let read = 0;
    while (read < info.size) {
      const n = readSync(fd, buffer, read, info.size - read, read);
      if (n === 0) break;
      read += n;
    }
    return { path, values: parseDotenv(buffer.subarray(0, read).toString()) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { path, skipped: code === "ENOENT" ? "missing" : `unreadable (${code ?? (error as Error).message})`, values: {} };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The .env files a gateway (and a CLI) started with `env` loads, first wins:
 * the state dir's, the config dir's when that is another directory, and
 * ~/.config/openclaw/gateway.env unless the state dir was moved by OPENCLAW_STATE_DIR.
 */
export function openclawDotenvPaths(env: Env, home: string, stateDir: string): string[] {
  const stateEnv = join(stateDir, ".env");
  const paths = [stateEnv];
  const configPath = env.OPENCLAW_CONFIG_PATH?.trim();
  // resolveConfigDir: OPENCLAW_STATE_DIR, else the config file's directory (a leading `~` is home), else ~/.openclaw.
  const configDir = env.OPENCLAW_STATE_DIR?.trim() ? stateDir : configPath ? dirname(resolve(configPath.replace(/^~(?=$|[\\/])/, () => home))) : join(home, ".openclaw");
  const configEnv = join(configDir, ".env");
  if (resolve(configEnv) !== resolve(stateEnv)) paths.push(configEnv);
  // `OPENCLAW_STATE_DIR?.trim() !== undefined`: set at all, even blank, counts as moved.
  const moved = env.OPENCLAW_STATE_DIR !== undefined && resolve(stateEnv) !== resolve(join(home, ".openclaw", ".env"));
  if (!moved) paths.push(join(home, ".config", "openclaw", "gateway.env"));
  return paths;
}

/** Every file's values, in OpenClaw's order; `merged` is what they add under `env` (first file wins, env never overridden). */
export function loadOpenClawDotenv(env: Env, home: string, stateDir: string): { files: DotenvFile[]; merged: Record<string, string> } {
  const files = openclawDotenvPaths(env, home, stateDir).map(readDotenvFile);
  const merged: Record<string, string> = {};
  for (const file of files) {
    for (const [key, value] of Object.entries(file.values)) if (env[key] === undefined && !(key in merged)) merged[key] = value;
  }
  return { files, merged };
}

/** The file a variable comes from among `files` (the first that sets it), for naming its origin. */
export function dotenvOrigin(files: readonly DotenvFile[], name: string): DotenvFile | undefined {
  return files.find((file) => Object.hasOwn(file.values, name));
}
