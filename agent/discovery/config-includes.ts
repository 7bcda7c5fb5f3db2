// `$include` in openclaw.json, resolved as the gateway resolves it. A port of
// the pinned openclaw 2026.9.6 dist/includes-CaaCq-XN.mjs (src/config/includes.ts,
// IncludeProcessor) with the reader io.read-helpers resolveConfigIncludesForRead
// gives it, so a value that lives in an included file is the value the gateway uses:
// - `"$include": "./a.json5"` or `["./a.json5", "./b.json5"]` (merged in order);
//   paths relative to the including file; nested includes up to depth 10; a cycle is an error;
// - sibling keys beside `$include` are merged over the included object (then an
//   object is required); merging concatenates arrays, merges objects, and the later
//   primitive wins; `__proto__`/`prototype`/`constructor` keys are dropped (deep-merge);
// - a target must stay inside the config file's directory or an OPENCLAW_INCLUDE_ROOTS
//   entry, lexically and after symlinks; it must be a regular file of at most 2 MiB with
//   one link; the main file is parsed JSON-then-JSON5, included files with JSON5.
// Only reads; the messages are OpenClaw's (ConfigIncludeError).
import { closeSync, fstatSync, openSync, readFileSync, realpathSync } from "node:fs";
import { delimiter, dirname, isAbsolute, normalize, relative, resolve, sep } from "node:path";
import JSON5 from "json5";

const INCLUDE_KEY = "$include";
const MAX_INCLUDE_FILE_BYTES = 2097152;
const MAX_INCLUDE_PATH_LENGTH = 4096;
const MAX_INCLUDE_DEPTH = 10;
const BLOCKED_OBJECT_KEYS = new Set(["__proto__", "prototype", "constructor"]);

export class ConfigIncludeError extends Error {
  readonly includePath: string;
  constructor(message: string, includePath: string) {
    super(message);
    this.includePath = includePath;
    this.name = "ConfigIncludeError";
  }
}

type Json = unknown;
interface Root { rootDir: string; rootRealDir: string }

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.prototype.toString.call(value) === "[object Object]";
}

function isPathInside(root: string, target: string): boolean {
  const rel = relative(resolve(root), resolve(target));
  return rel === "" || (rel.split(sep)[0] !== ".." && !isAbsolute(rel));
}

function safeRealpath(target: string): string {
  try {
    return realpathSync(target);
  } catch {
    return target;
  }
}

function sanitizePlainObject(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (BLOCKED_OBJECT_KEYS.has(key)) continue;
    out[key] = isPlainObject(entry) ? sanitizePlainObject(entry) : entry;
  }
  return out;
}

/** deep-merge mergeDeep with { arrays: "concat", undefinedValues: "replace" }. */
function deepMerge(base: Json, override: Json): Json {
  if (Array.isArray(base) && Array.isArray(override)) return [...base, ...override];
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const merged = sanitizePlainObject(base);
  for (const [key, value] of Object.entries(override)) {
    if (BLOCKED_OBJECT_KEYS.has(key)) continue;
    const current = merged[key];
    if (isPlainObject(value)) merged[key] = isPlainObject(current) ? deepMerge(current, value) : sanitizePlainObject(value);
    else if (Array.isArray(current) && Array.isArray(value)) merged[key] = [...current, ...value];
    else merged[key] = value;
  }
  return merged;
}

/** resolveHomeRelativePath: a leading `~` is the home directory. */
function expandHome(input: string, home: string): string {
  return input.replace(/^~(?=$|[\\/])/, () => home);
}

/** OPENCLAW_INCLUDE_ROOTS: a `:`-separated list, each entry tilde-expanded and made absolute (paths resolveIncludeRoots). */
export function includeRoots(env: Readonly<Record<string, string | undefined>>, home: string): string[] {
  const raw = env.OPENCLAW_INCLUDE_ROOTS?.trim();
  if (!raw) return [];
  const roots: string[] = [];
  for (const entry of raw.split(delimiter)) {
    const trimmed = entry.trim();
    if (!trimmed) continue;
    const resolved = resolve(expandHome(trimmed, home));
    if (isAbsolute(resolved) && !roots.includes(resolved)) roots.push(resolved);
  }
  return roots;
}

export interface IncludeResolution {
  value: Json;
  /** Every file an include named and read, in the order read. */
  files: string[];
}

/** Resolves every `$include` in `doc`, parsed from `configPath`; throws ConfigIncludeError like OpenClaw. */
export function resolveConfigIncludes(doc: Json, configPath: string, allowedRoots: readonly string[] = []): IncludeResolution {
  const configRootDir = normalize(dirname(configPath));
  const roots: Root[] = [
    { rootDir: configRootDir, rootRealDir: normalize(safeRealpath(configRootDir)) },
    ...allowedRoots.filter((entry) => entry.length > 0 && isAbsolute(entry)).map((entry) => ({ rootDir: normalize(entry), rootRealDir: normalize(safeRealpath(normalize(entry))) })),
  ];
  const files: string[] = [];
  const containing = (candidate: string, field: keyof Root) => roots.find((root) => isPathInside(root[field], candidate));

  const processAt = (basePath: string, visited: readonly string[], depth: number, node: Json): Json => {
    if (Array.isArray(node)) return node.map((item) => processAt(basePath, visited, depth, item));
    if (!isPlainObject(node)) return node;
    if (!(INCLUDE_KEY in node)) {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(node)) out[key] = processAt(basePath, visited, depth, value);
      return out;
    }
    const includeValue = node[INCLUDE_KEY];
    const otherKeys = Object.keys(node).filter((key) => key !== INCLUDE_KEY);
    const included = resolveInclude(basePath, visited, depth, includeValue);
    if (otherKeys.length === 0) return included;
    if (!isPlainObject(included)) throw new ConfigIncludeError("Sibling keys require included content to be an object", typeof includeValue === "string" ? includeValue : INCLUDE_KEY);
    const rest: Record<string, unknown> = {};
    for (const key of otherKeys) rest[key] = processAt(basePath, visited, depth, node[key]);
    return deepMerge(included, rest);
  };

  const resolveInclude = (basePath: string, visited: readonly string[], depth: number, value: Json): Json => {
    if (typeof value === "string") return loadFile(basePath, visited, depth, value);
    if (Array.isArray(value)) {
      const entries = value.map((item) => {
        if (typeof item !== "string") throw new ConfigIncludeError(`Invalid $include array item: expected string, got ${typeof item}`, String(item));
        return loadFile(basePath, visited, depth, item);
      });
      return entries.reduce((current, entry) => deepMerge(current, entry), {});
    }
    throw new ConfigIncludeError(`Invalid $include value: expected string or array of strings, got ${typeof value}`, String(value));
  };

  const loadFile = (basePath: string, visited: readonly string[], depth: number, includePath: string): Json => {
    const { resolvedPath, root } = resolvePath(basePath, includePath);
    if (visited.includes(resolvedPath)) throw new ConfigIncludeError(`Circular include detected: ${[...visited, resolvedPath].join(" -> ")}`, resolvedPath);
    if (depth >= MAX_INCLUDE_DEPTH) throw new ConfigIncludeError(`Maximum include depth (${MAX_INCLUDE_DEPTH}) exceeded at: ${includePath}`, includePath);
    const raw = readGuarded(includePath, resolvedPath, root);
    files.push(resolvedPath);
    let parsed: Json;
    try {
      parsed = JSON5.parse(raw);
    } catch {
      throw new ConfigIncludeError(`Failed to parse include file: ${includePath} (resolved: ${resolvedPath})`, includePath);
    }
    return processAt(resolvedPath, [...visited, resolvedPath], depth + 1, parsed);
  };

  const resolvePath = (basePath: string, includePath: string): { resolvedPath: string; root: Root } => {
    if (includePath.includes("\0")) throw new ConfigIncludeError("Include path must not contain null bytes", includePath);
    if (includePath.length >= MAX_INCLUDE_PATH_LENGTH) throw new ConfigIncludeError(`Include path exceeds maximum length (${MAX_INCLUDE_PATH_LENGTH} characters)`, includePath);
    const normalized = normalize(isAbsolute(includePath) ? includePath : resolve(dirname(basePath), includePath));
    if (normalized.length >= MAX_INCLUDE_PATH_LENGTH) throw new ConfigIncludeError(`Resolved include path exceeds maximum length (${MAX_INCLUDE_PATH_LENGTH} characters)`, includePath);
    const lexical = containing(normalized, "rootDir");
    if (!lexical) throw new ConfigIncludeError(`Include path escapes config directory: ${includePath} (root: ${roots[0]!.rootDir})`, includePath);
    let real: string;
    try {
      real = realpathSync(normalized);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return { resolvedPath: normalized, root: lexical };
      throw new ConfigIncludeError(`Failed to resolve include file realpath: ${includePath} (resolved: ${normalized})`, includePath);
    }
    const realRoot = containing(real, "rootRealDir");
    if (!realRoot) throw new ConfigIncludeError(`Include path resolves outside config directory (symlink): ${includePath} (root: ${roots[0]!.rootDir})`, includePath);
    return { resolvedPath: normalized, root: realRoot };
  };

  return { value: processAt(normalize(configPath), [normalize(configPath)], 0, doc), files };
}

/** readConfigIncludeFileWithGuards: a regular file, at most 2 MiB, one hard link, inside its root after symlinks. */
function readGuarded(includePath: string, resolvedPath: string, root: Root): string {
  let fd: number;
  try {
    fd = openSync(resolvedPath, "r");
  } catch {
    throw new ConfigIncludeError(`Failed to read include file: ${includePath} (resolved: ${resolvedPath})`, includePath);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.size > MAX_INCLUDE_FILE_BYTES || info.nlink > 1 || !isPathInside(root.rootRealDir, safeRealpath(resolvedPath))) {
      throw new ConfigIncludeError(`Include file failed security checks (regular file, max ${MAX_INCLUDE_FILE_BYTES} bytes, no hardlinks): ${includePath}`, includePath);
    }
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}

/** Whether a parsed document holds a `$include` anywhere (io.read-helpers containsConfigIncludeDirective), without recursion. */
export function containsInclude(doc: Json): boolean {
  const pending: Json[] = [doc];
  while (pending.length > 0) {
    const node = pending.pop();
    if (Array.isArray(node)) for (const item of node) pending.push(item);
    else if (isPlainObject(node)) {
      if (INCLUDE_KEY in node) return true;
      for (const value of Object.values(node)) pending.push(value);
    }
  }
  return false;
}
