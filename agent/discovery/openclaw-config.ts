// Reads openclaw.json the way the OpenClaw gateway does: strict JSON first,
// JSON5 as the fallback (dist/parse-json-compat-*.mjs parseJsonWithJson5Fallback),
// `$include`s resolved (config-includes.ts), `${VAR}` substitution from the
// environment and env SecretRefs resolved. Nothing here ever runs an `exec`
// SecretRef or writes a file.
import { readFileSync, statSync } from "node:fs";
import JSON5 from "json5";
import { ConfigIncludeError, containsInclude, includeRoots, resolveConfigIncludes } from "./config-includes.ts";

export type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigFile {
  path: string;
  exists: boolean;
  /** Parsed document with its `$include`s resolved, before `${VAR}` substitution; undefined when missing or invalid. */
  raw?: Record<string, unknown>;
  /** Files its `$include`s read, in the order read. */
  includes?: string[];
  /** The most recently modified of the file and its includes (the gateway watches all of them). */
  newestEdit?: { path: string; mtimeMs: number };
  /** Why the file could not be used, naming the file and, when known, the line. */
  error?: string;
  mtimeMs?: number;
}

/** Where `$include` may reach beyond the config's directory: OPENCLAW_INCLUDE_ROOTS, with `~` as `home`. */
export interface IncludeScope {
  env: Env;
  home: string;
}

export function readConfigFile(path: string, scope?: IncludeScope): ConfigFile {
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
  let parsed: unknown;
  try {
    parsed = parseJsonWithJson5Fallback(text);
  } catch (error) {
    return { path, exists: true, mtimeMs, error: `${path}: ${(error as Error).message.replace(/^JSON5: /, "")}` };
  }
  let includes: string[] | undefined;
  if (containsInclude(parsed)) {
    try {
      const resolved = resolveConfigIncludes(parsed, path, scope ? includeRoots(scope.env, scope.home) : []);
      parsed = resolved.value;
      includes = resolved.files;
    } catch (error) {
      if (error instanceof ConfigIncludeError) return { path, exists: true, mtimeMs, error: `${path}: ${error.message}` };
      if (error instanceof RangeError) return { path, exists: true, mtimeMs, error: `${path}: nests too deeply to resolve its $include` };
      throw error;
    }
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { path, exists: true, mtimeMs, error: `${path}: the top level must be an object` };
  }
  return { path, exists: true, mtimeMs, raw: parsed as Record<string, unknown>, ...(includes ? { includes, newestEdit: newestOf(path, mtimeMs, includes) } : {}) };
}

function newestOf(path: string, mtimeMs: number, includes: readonly string[]): { path: string; mtimeMs: number } {
  let newest = { path, mtimeMs };
  for (const include of includes) {
    try {
      const included = statSync(include).mtimeMs;
      if (included > newest.mtimeMs) newest = { path: include, mtimeMs: included };
    } catch {
      // Read a moment ago; gone now: the next run reports it.
    }
  }
  return newest;
}

/** Strict JSON is the fast path; JSON5 (comments, trailing commas, unquoted keys) the fallback, whose error is the one reported. */
function parseJsonWithJson5Fallback(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return JSON5.parse(text);
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

/**
 * `${VAR}` substitution exactly as the gateway does it: a port of the pinned
 * openclaw dist/redact-*.mjs parseEnvTokenAt / substituteString
 * (src/config/env-substitution.ts). Names are upper-case `[A-Z_][A-Z0-9_]*`
 * up to the first `}`; `$${VAR}` is the literal `${VAR}`; an unset or empty
 * variable is missing (the gateway keeps `${VAR}` and warns).
 */
const ENV_VAR_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;

type EnvToken = { kind: "escaped" | "substitution"; name: string; end: number };

function parseEnvTokenAt(value: string, index: number): EnvToken | undefined {
  if (value[index] !== "$") return undefined;
  const next = value[index + 1];
  if (next === "$" && value[index + 2] === "{") {
    const end = value.indexOf("}", index + 3);
    if (end !== -1) {
      const name = value.slice(index + 3, end);
      if (ENV_VAR_NAME_PATTERN.test(name)) return { kind: "escaped", name, end };
    }
  }
  if (next === "{") {
    const end = value.indexOf("}", index + 2);
    if (end !== -1) {
      const name = value.slice(index + 2, end);
      if (ENV_VAR_NAME_PATTERN.test(name)) return { kind: "substitution", name, end };
    }
  }
  return undefined;
}

/** The string with its references substituted (missing ones kept as `${NAME}`), the names it references, and those missing. */
export function substituteEnv(value: string, env: Env): { value: string; variables: string[]; missing: string[] } {
  const variables: string[] = [];
  const missing: string[] = [];
  if (!value.includes("$")) return { value, variables, missing };
  const chunks: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const char = value.charAt(i);
    const token = char === "$" ? parseEnvTokenAt(value, i) : undefined;
    if (!token) {
      chunks.push(char);
      continue;
    }
    if (token.kind === "substitution") {
      variables.push(token.name);
      const found = env[token.name];
      if (found === undefined || found === "") missing.push(token.name);
      chunks.push(found === undefined || found === "" ? `\${${token.name}}` : found);
    } else {
      chunks.push(`\${${token.name}}`);
    }
    i = token.end;
  }
  return { value: chunks.join(""), variables, missing };
}

export function resolveSecret(value: unknown, env: Env): ResolvedSecret | undefined {
  if (typeof value === "string") {
    const { value: resolved, variables, missing } = substituteEnv(value, env);
    if (missing.length > 0) return { unresolved: `variable ${[...new Set(missing)].join(", ")} is not set`, variables };
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

/** Every variable a config names: `${VAR}` in any string and env SecretRef ids. */
export function referencedVariables(raw: unknown): string[] {
  const found = new Set<string>();
  // An explicit stack, not recursion: a JSON5 file of a few hundred kilobytes
  // can nest deeper than the call stack allows.
  const pending: unknown[] = [raw];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node === "string") {
      for (const name of substituteEnv(node, {}).variables) found.add(name);
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

const BLOCKED_CONFIG_ENV_VARS = new Set(["OPENCLAW_ALLOW_OLDER_BINARY_DESTRUCTIVE_ACTIONS", "OPENCLAW_INCLUDE_ROOTS", "OPENCLAW_CONFIG_READONLY"]);

/**
 * `env.vars.*` and top-level string `env.*` (openclaw dist/config-env-vars-*.mjs
 * collectConfigEnvVarsByTarget / isConfigRuntimeEnvVarAllowed): a value that
 * references `${VAR}` is never applied, nor OPENCLAW_INCLUDE_ROOTS and its two siblings.
 */
export function configEnvVars(config: Record<string, unknown> | undefined): Record<string, string> {
  const block = config?.env;
  if (!block || typeof block !== "object" || Array.isArray(block)) return {};
  const out: Record<string, string> = {};
  const take = (rawKey: string, value: unknown) => {
    const key = rawKey.trim();
    if (typeof value !== "string" || !value.trim() || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return;
    if (BLOCKED_CONFIG_ENV_VARS.has(key.toUpperCase()) || substituteEnv(value, {}).variables.length > 0) return;
    out[key] = value;
  };
  const vars = (block as Record<string, unknown>).vars;
  if (vars && typeof vars === "object" && !Array.isArray(vars)) for (const [key, value] of Object.entries(vars)) take(key, value);
  for (const [key, value] of Object.entries(block)) if (key !== "vars" && key !== "shellEnv") take(key, value);
  return out;
}

/**
 * `env` with the config's env vars applied as the gateway applies them before
 * substituting `${VAR}` (applyConfigEnvVars): a config value takes a key that is
 * unset or blank, never one with a value.
 */
export function withConfigEnv(env: Env, config: Record<string, unknown> | undefined): Env {
  const vars = configEnvVars(config);
  if (Object.keys(vars).length === 0) return env;
  const out: Record<string, string | undefined> = { ...env };
  for (const [key, value] of Object.entries(vars)) if (!out[key]?.trim()) out[key] = value;
  return out;
}
