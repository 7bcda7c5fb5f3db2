// OpenClaw's credential stores, read without ever writing: which auth profiles
// an agent holds, of which type, and until when. Layout per the pinned
// openclaw 2026.9.6 (dist/sqlite-json-*.mjs, src/agents/auth-profiles/*.ts):
//
//   shared store  <stateDir>/state/openclaw.sqlite, table config_machine_state,
//                 state_key "authProfiles.store" (and "authProfiles.state"),
//                 when state_key "auth.sharedStore" is {"location":"state-db"};
//                 otherwise (older installs, "legacy-main") the main agent's
//                 <OPENCLAW_AGENT_DIR | stateDir/agents/main/agent>/openclaw-agent.sqlite
//   agent store   <agentDir>/openclaw-agent.sqlite, table auth_profile_store,
//                 store_key "primary", column store_json (and auth_profile_state.state_json)
//
// store_json is {"version":1,"profiles":{"<id>":{"type":"api_key"|"token"|"oauth","provider",…}},"order"?}.
// Every agent sees the shared store merged under its own (its profiles win by id).
import { statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { normalizeProviderId } from "./provider-env.ts";
import { databaseIdentity, readSqlite, StoreBusyError } from "./sqlite-read.ts";

export type CredentialType = "api_key" | "token" | "oauth";

export interface SecretRef {
  source: string;
  id: string;
}

export interface StoredProfile {
  id: string;
  provider: string;
  type: CredentialType;
  /** The key/token itself, only ever used to fingerprint it. */
  secret?: string;
  /** keyRef / tokenRef: where the secret is resolved from at run time. */
  secretRef?: SecretRef;
  /** OAuth refresh token present: an expired access token is renewed on use. */
  refreshable: boolean;
  /** Epoch ms; 0 means OpenClaw considers the expiry invalid. */
  expiresAt?: number;
  /** OAuth refresh claimed by a gateway ("pending") or that failed ("failed"): src/agents/auth-profiles/oauth-refresh-marker.ts. */
  refreshFence?: "pending" | "failed";
  /** Saved by setup as a replacement, not active yet (`setup.replacement`). */
  inactive: boolean;
  /** Rejected by OpenClaw's loader (malformed key, no secret at all). */
  unusableReason?: string;
  /** Which store it came from. */
  storePath: string;
}

export type StoreStatus = "ok" | "missing" | "unreadable";

export interface AuthStore {
  path: string;
  kind: "shared-state" | "agent";
  status: StoreStatus;
  /** Why it could not be read (permission, corrupt file, locked, bad JSON). */
  reason?: string;
  /** The file is there but briefly locked: worth a retry rather than an alarm. */
  transient?: boolean;
  profiles: Record<string, StoredProfile>;
  /** Explicit per-provider profile order (store or state row). */
  order: Record<string, string[]>;
}

interface Cells {
  store?: string;
  state?: string;
  ownership?: string;
}

type Query = (db: DatabaseSync) => Cells;

type CellsRead = { status: StoreStatus; reason?: string; transient?: boolean; cells?: Cells };

/**
 * A daemon's store reads by path, each with the database identity it was read
 * at (sqlite-read.ts databaseIdentity): an unchanged store is not copied and
 * opened again. A read that failed is never kept.
 */
export type AuthStoreCache = Map<string, { identity: string; read: CellsRead }>;
const AUTH_STORE_ENTRIES = 32;

function readCells(path: string, kind: AuthStore["kind"], query: Query, cache?: AuthStoreCache): CellsRead {
  try {
    statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? { status: "missing" } : { status: "unreadable", reason: code ?? (error as Error).message };
  }
  if (!cache) return queryCells(path, kind, query);
  const key = `${kind}\0${path}`;
  const identity = databaseIdentity(path);
  const kept = cache.get(key);
  if (identity !== undefined && kept?.identity === identity) return kept.read;
  const read = queryCells(path, kind, query);
  // Kept only when the identity did not move during the read: the rows are then the ones it names.
  if (identity !== undefined && read.status !== "unreadable" && databaseIdentity(path) === identity) {
    if (!cache.has(key) && cache.size >= AUTH_STORE_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(key, { identity, read });
  } else cache.delete(key);
  return read;
}

function queryCells(path: string, kind: AuthStore["kind"], query: Query): CellsRead {
  try {
    // Never a plain open, read-only or not: see sqlite-read.ts for what that writes beside the file.
    return readSqlite(path, (db) => {
      const table = kind === "shared-state" ? "config_machine_state" : "auth_profile_store";
      const object = db.prepare("SELECT type FROM sqlite_master WHERE name = ?").get(table) as { type?: string } | undefined;
      // OpenClaw reads a missing table as "no store yet", an object of another kind as unreadable.
      if (!object) return { status: "missing" as const, reason: `no ${table} table` };
      if (object.type !== "table") return { status: "unreadable" as const, reason: `${table} is a ${object.type}, not a table` };
      return { status: "ok" as const, cells: query(db) };
    });
  } catch (error) {
    const err = error as { errcode?: number; errstr?: string; message?: string; code?: string };
    // SQLITE_BUSY (5) / SQLITE_LOCKED (6), or the files changed under every copy: a writer is busy right now.
    const transient = err.errcode === 5 || err.errcode === 6 || error instanceof StoreBusyError;
    const detail = err.errstr ?? err.message ?? String(error);
    return { status: "unreadable", reason: accessHint(path, detail), transient };
  }
}

/** SQLite says "unable to open database file" for a permission problem too: say which. */
function accessHint(path: string, detail: string): string {
  if (!/unable to open/i.test(detail)) return detail;
  try {
    const { mode, uid } = statSync(path);
    return `${detail} (mode ${(mode & 0o777).toString(8).padStart(3, "0")}, owner uid ${uid}, read by uid ${process.getuid?.() ?? "?"})`;
  } catch {
    return detail;
  }
}

const agentQuery: Query = (db) => {
  const store = db.prepare("SELECT store_json FROM auth_profile_store WHERE store_key = 'primary'").get() as { store_json?: string } | undefined;
  const hasState = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'auth_profile_state'").get();
  const state = hasState ? (db.prepare("SELECT state_json FROM auth_profile_state WHERE state_key = 'primary'").get() as { state_json?: string } | undefined) : undefined;
  return { store: store?.store_json, state: state?.state_json };
};

const sharedQuery: Query = (db) => {
  const cell = (key: string) => (db.prepare("SELECT value_json FROM config_machine_state WHERE state_key = ?").get(key) as { value_json?: string } | undefined)?.value_json;
  return { store: cell("authProfiles.store"), state: cell("authProfiles.state"), ownership: cell("auth.sharedStore") };
};

function toStore(path: string, kind: AuthStore["kind"], read: ReturnType<typeof readCells>): AuthStore {
  const empty: AuthStore = { path, kind, status: read.status, profiles: {}, order: {} };
  if (read.status !== "ok") return { ...empty, ...(read.reason ? { reason: read.reason } : {}), ...(read.transient ? { transient: true } : {}) };
  if (read.cells?.store === undefined) return { ...empty, status: "missing", reason: "no auth profile row" };
  let raw: unknown;
  try {
    raw = JSON.parse(read.cells.store);
  } catch {
    return { ...empty, status: "unreadable", reason: "the stored profiles are not valid JSON" };
  }
  const store = parseStoreJson(raw, path);
  if (!store) return { ...empty, status: "unreadable", reason: "the stored profiles have no `profiles` object" };
  let stateOrder: Record<string, string[]> = {};
  try {
    stateOrder = read.cells.state ? parseOrder((JSON.parse(read.cells.state) as Record<string, unknown>).order) : {};
  } catch {
    // The state row only orders profiles; a broken one does not hide credentials.
  }
  return { path, kind, status: "ok", profiles: store.profiles, order: { ...store.order, ...stateOrder } };
}

/** One agent's own store: `<agentDir>/openclaw-agent.sqlite`. */
export function readAgentStore(agentDir: string, cache?: AuthStoreCache): AuthStore {
  const path = join(agentDir, "openclaw-agent.sqlite");
  return toStore(path, "agent", readCells(path, "agent", agentQuery, cache));
}

export function stateDatabasePath(stateDir: string): string {
  return join(stateDir, "state", "openclaw.sqlite");
}

/** The main agent's directory, which holds the shared store on "legacy-main" installs (shared-main-dir.ts). */
export function sharedMainAgentDir(stateDir: string, env: Readonly<Record<string, string | undefined>>): string {
  const configured = env.OPENCLAW_AGENT_DIR?.trim();
  return configured ? configured : join(stateDir, "agents", "main", "agent");
}

/**
 * The shared store every agent inherits. Where it lives is itself recorded in
 * the state database (`auth.sharedStore`); absent means the legacy location.
 */
export function readSharedStore(stateDir: string, env: Readonly<Record<string, string | undefined>>, cache?: AuthStoreCache): AuthStore {
  const statePath = stateDatabasePath(stateDir);
  const read = readCells(statePath, "shared-state", sharedQuery, cache);
  let location = "legacy-main";
  if (read.status === "unreadable") return toStore(statePath, "shared-state", read);
  if (read.status === "ok" && read.cells?.ownership) {
    try {
      const parsed = JSON.parse(read.cells.ownership) as { location?: unknown };
      if (parsed.location === "state-db" || parsed.location === "legacy-main") location = parsed.location;
      else return { path: statePath, kind: "shared-state", status: "unreadable", reason: `auth.sharedStore names an unknown location (${read.cells.ownership})`, profiles: {}, order: {} };
    } catch {
      return { path: statePath, kind: "shared-state", status: "unreadable", reason: "auth.sharedStore is not valid JSON", profiles: {}, order: {} };
    }
  }
  if (location === "state-db") return toStore(statePath, "shared-state", read);
  return readAgentStore(sharedMainAgentDir(stateDir, env), cache);
}

/**
 * What one agent sees: the shared store with its own on top (profiles win by
 * id, src/agents/auth-profiles/persisted.ts mergeAuthProfileStores). An agent
 * whose own store *is* the shared one sees it once.
 */
export function effectiveStore(shared: AuthStore, own: AuthStore): { profiles: Record<string, StoredProfile>; order: Record<string, string[]> } {
  if (own.path === shared.path) return { profiles: own.profiles, order: own.order };
  const profiles = { ...shared.profiles, ...own.profiles };
  const order: Record<string, string[]> = { ...shared.order, ...own.order };
  // An agent's own profiles go ahead of an inherited order for their provider (mergeProfileOrderWithOverridePrecedence).
  for (const [provider, ids] of Object.entries(shared.order)) {
    if (own.order[provider]) continue;
    const local = Object.values(own.profiles).filter((p) => p.provider === provider).map((p) => p.id);
    if (local.length > 0) order[provider] = [...new Set([...local, ...ids])];
  }
  return { profiles, order };
}

/** store_json, normalized the way OpenClaw's loader does (persisted.ts normalizeRawCredentialEntry). */
export function parseStoreJson(raw: unknown, storePath: string): { profiles: Record<string, StoredProfile>; order: Record<string, string[]> } | undefined {
  if (!isRecord(raw) || !isRecord(raw.profiles)) return undefined;
  const profiles: Record<string, StoredProfile> = {};
  for (const [id, value] of Object.entries(raw.profiles)) {
    const profile = parseProfile(id, value, storePath);
    if (profile) profiles[id] = profile;
  }
  return { profiles, order: parseOrder(raw.order) };
}

function parseOrder(value: unknown): Record<string, string[]> {
  if (!isRecord(value)) return {};
  const out: Record<string, string[]> = {};
  for (const [provider, ids] of Object.entries(value)) {
    if (Array.isArray(ids)) out[normalizeProviderId(provider)] = ids.filter((id): id is string => typeof id === "string");
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function nonBlank(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function secretRef(value: unknown): SecretRef | undefined {
  if (!isRecord(value)) return undefined;
  const source = nonBlank(value.source);
  const id = nonBlank(value.id);
  return source && id ? { source, id } : undefined;
}

/** normalizeExpiryField: a positive finite number, else 0 (which OpenClaw treats as an invalid expiry). */
function expiry(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * A key that is really a pasted `openclaw onboard … --auth-choice …` command
 * line. Not OpenClaw's /^openclaw\s+onboard(?:\s+.*)?\s+--auth-choice/: its
 * two blank runs can split a long run of spaces every which way (quadratic).
 */
const PASTED_ONBOARD = /^openclaw\s+onboard\s(?:.*\s)?--auth-choice(?:\s|=|$)/i;

const FENCE = /^openclaw-oauth-refresh-fence:v1:[a-f0-9]{32}:(failed:)?access:[a-f0-9]{64}$/;

function parseProfile(id: string, value: unknown, storePath: string): StoredProfile | undefined {
  if (!isRecord(value)) return undefined;
  let type = typeof value.type === "string" ? value.type : typeof value.mode === "string" ? value.mode : undefined;
  if (type === "apiKey") type = "api_key";
  if (type !== "api_key" && type !== "token" && type !== "oauth") return undefined;
  const provider = nonBlank(value.provider);
  if (!provider) return undefined;
  const base = {
    id,
    provider: normalizeProviderId(provider),
    type,
    refreshable: false,
    inactive: isRecord(value.setup) && value.setup.replacement === true,
    storePath,
  } as const;
  if (type === "api_key") {
    // A key stored as an object is a SecretRef in the legacy `key` slot.
    const key = nonBlank(value.key) ?? (value.key === undefined ? nonBlank(value.apiKey) : undefined);
    const ref = secretRef(value.keyRef) ?? secretRef(value.key);
    const malformed = key !== undefined && PASTED_ONBOARD.test(key);
    return {
      ...base,
      ...(ref ? { secretRef: ref } : key ? { secret: key } : {}),
      ...(malformed ? { unusableReason: "the saved key is an `openclaw onboard` command line, not a key" } : !ref && !key ? { unusableReason: "no key saved" } : {}),
    };
  }
  if (type === "token") {
    const token = nonBlank(value.token);
    const ref = secretRef(value.tokenRef) ?? secretRef(value.token);
    const expiresAt = expiry(value.expires);
    return {
      ...base,
      ...(token ? { secret: token } : {}),
      ...(ref ? { secretRef: ref } : {}),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      ...(!token && !ref ? { unusableReason: "no token saved" } : {}),
    };
  }
  const access = nonBlank(value.access);
  const refresh = nonBlank(value.refresh);
  const expiresAt = expiry(value.expires);
  const fence = access && value.expires === 1 ? FENCE.exec(access) : null;
  return {
    ...base,
    // The refresh token is the long-lived identity; the access token changes hourly.
    ...(refresh && !fence ? { secret: refresh } : access && !fence ? { secret: access } : {}),
    refreshable: refresh !== undefined && !fence,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    ...(fence ? { refreshFence: fence[1] ? ("failed" as const) : ("pending" as const) } : {}),
    ...(!access && !refresh ? { unusableReason: isRecord(value.oauthRef) ? "its OAuth reference is not resolved" : "no OAuth tokens saved" } : {}),
  };
}
