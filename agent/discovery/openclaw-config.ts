// Reads openclaw.json (JSON5) the way the OpenClaw CLI does: `${VAR}`
// substitution from the environment, and env SecretRefs resolved. Nothing here
// ever runs an `exec` SecretRef or writes a file.
import { readFileSync, statSync } from "node:fs";
import JSON5 from "json5";

export type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigFile {
  path: string;
  exists: boolean;
  /** Parsed document, before substitution; undefined when missing or invalid. */
  raw?: Record<string, unknown>;
  /** Why the file could not be used, naming the file and, when known, the line. */
  error?: string;
  mtimeMs?: number;
}

export function readConfigFile(path: string): ConfigFile {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { path, exists: false };
    return { path, exists: true, error: `${path}: cannot read (${code ?? (error as Error).message})` };
  }
  try {
    const raw: unknown = JSON5.parse(text);
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      return { path, exists: true, mtimeMs, error: `${path}: the top level must be an object` };
    }
    return { path, exists: true, mtimeMs, raw: raw as Record<string, unknown> };
  } catch (error) {
    return { path, exists: true, mtimeMs, error: `${path}: ${(error as Error).message.replace(/^JSON5: /, "")}` };
  }
}

/** Walks a dotted path ("gateway.auth.token") through plain objects. */
export function configValue(raw: Record<string, unknown> | undefined, dotted: string): unknown {
  let node: unknown = raw;
  for (const key of dotted.split(".")) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A config string or SecretRef, resolved as the CLI would. */
export interface ResolvedSecret {
  /** The value, when it resolved. */
  value?: string;
  /** Why it did not: an unset variable, a ref source we must not run. */
  unresolved?: string;
  /** Variables it names, so drift checks can compare shell and service. */
  variables: string[];
}

const VAR_PATTERN = /(\$?)\$\{([A-Z_][A-Z0-9_]*)\}/g;

export function resolveSecret(value: unknown, env: Env): ResolvedSecret | undefined {
  if (typeof value === "string") {
    const variables: string[] = [];
    const missing: string[] = [];
    const resolved = value.replace(VAR_PATTERN, (whole, escape: string, name: string) => {
      if (escape) return whole.slice(1); // `$${VAR}` is a literal `${VAR}`
      variables.push(name);
      const found = env[name];
      if (found === undefined || found === "") missing.push(name);
      return found ?? whole;
    });
    if (missing.length > 0) return { unresolved: `variable ${missing.join(", ")} is not set`, variables };
    return { value: resolved, variables };
  }
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const ref = value as { source?: unknown; id?: unknown };
    if (ref.source === "env" && typeof ref.id === "string") {
      const found = env[ref.id];
      return found === undefined || found === ""
        ? { unresolved: `env SecretRef ${ref.id} is not set`, variables: [ref.id] }
        : { value: found, variables: [ref.id] };
    }
    if (typeof ref.source === "string") {
      return { unresolved: `${ref.source} SecretRef is not resolved by clawfleet (it never runs secret providers)`, variables: [] };
    }
  }
  return undefined;
}

/**
 * Parses a dotenv file exactly as OpenClaw loads `~/.openclaw/.env`: with
 * `dotenv`'s parse() (17.x, lib/main.js), then keeping only portable names
 * (openclaw dist/dotenv-global-*.mjs, normalizeEnvVarKey). So: `#` starts a
 * comment even mid-value, quotes ('…', "…", `…`) may span lines, "…" turns
 * \n and \r into line breaks, `KEY: value` is an assignment, and a later
 * duplicate wins. One deliberate difference: dotenv's leading \s* may run
 * across lines, which makes it quadratic on a run of blank lines (minutes on
 * 1 MB); here it stays on its line, which finds the same assignments, since a
 * key can only begin at the first non-blank character after a line start.
 */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/\r\n?/g, "\n");
  for (const match of lines.matchAll(DOTENV_LINE)) {
    const key = match[1]!.trim();
    let value = (match[2] ?? "").trim();
    const quote = value[0];
    value = value.replace(/^(['"`])([\s\S]*)\1$/gm, "$2");
    if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) out[key] = value;
  }
  return out;
}

/** dotenv's LINE with `[^\S\n\u2028\u2029]*` (blanks within the line) for its leading `\s*`. */
const DOTENV_LINE = /^[^\S\n\u2028\u2029]*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?$/gm;

export function readDotenv(path: string): Record<string, string> | undefined {
  try {
    return parseDotenv(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

/** Every variable a config names: `${VAR}` in any string and env SecretRef ids. */
export function referencedVariables(raw: unknown): string[] {
  const found = new Set<string>();
  // An explicit stack, not recursion: a JSON5 file of a few hundred kilobytes
  // can nest deeper than the call stack allows.
  const pending: unknown[] = [raw];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node === "string") {
      for (const match of node.matchAll(VAR_PATTERN)) if (!match[1]) found.add(match[2]!);
    } else if (Array.isArray(node)) {
      for (const item of node) pending.push(item); // not push(...node): a huge array overflows the arguments
    } else if (node && typeof node === "object") {
      const ref = node as { source?: unknown; id?: unknown };
      if (ref.source === "env" && typeof ref.id === "string") found.add(ref.id);
      for (const value of Object.values(node)) pending.push(value);
    }
  }
  return [...found].sort();
}
