// Reading OpenClaw's SQLite credential stores read-only: profile types and
// expiry, the shared store's two locations, merging, and every way a store
// can fail to be read. The databases are built with OpenClaw's own schema and
// JSON (as openclaw 2026.9.6 writes them: `sqlite_master` and rows observed
// after `openclaw models auth paste-api-key` / `paste-token --expires-in`).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { effectiveStore, parseStoreJson, readAgentStore, readSharedStore, type AuthStoreCache } from "../../agent/discovery/auth-store.ts";
import { diffSnapshots, snapshotTree } from "../helpers/host-snapshot.ts";

// Obvious fakes, never real keys.
const API_KEY = "sk-ant-clawfleet-FAKE-unit-0001";
const TOKEN = "sk-ant-oat01-clawfleet-FAKE-unit-0002";
const REFRESH = "clawfleet-FAKE-refresh-0003";

const AGENT_SCHEMA = `
  PRAGMA journal_mode = WAL;
  CREATE TABLE auth_profile_store (store_key TEXT NOT NULL PRIMARY KEY, store_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT;
  CREATE TABLE auth_profile_state (state_key TEXT NOT NULL PRIMARY KEY, state_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT;`;
const STATE_SCHEMA = `
  PRAGMA journal_mode = WAL;
  CREATE TABLE config_machine_state (state_key TEXT NOT NULL PRIMARY KEY, value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL) STRICT;`;

function agentDb(dir: string, store: unknown, state?: unknown): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "openclaw-agent.sqlite");
  const db = new DatabaseSync(path);
  db.exec(AGENT_SCHEMA);
  db.prepare("INSERT INTO auth_profile_store VALUES ('primary', ?, ?)").run(JSON.stringify(store), Date.now());
  if (state) db.prepare("INSERT INTO auth_profile_state VALUES ('primary', ?, ?)").run(JSON.stringify(state), Date.now());
  db.close();
  return path;
}

function stateDb(stateDir: string, cells: Record<string, unknown>): string {
  mkdirSync(join(stateDir, "state"), { recursive: true });
  const path = join(stateDir, "state", "openclaw.sqlite");
  const db = new DatabaseSync(path);
  db.exec(STATE_SCHEMA);
  for (const [key, value] of Object.entries(cells)) db.prepare("INSERT INTO config_machine_state VALUES (?, ?, ?)").run(key, JSON.stringify(value), Date.now());
  db.close();
  return path;
}

describe("OpenClaw auth stores", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "clawfleet-auth-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("a daemon keeps a store's read until the database or its -wal changes, and vouches for no file written just now", () => {
    const agentDir = join(root, "agents", "main", "agent");
    const profile = (key: string) => ({ version: 1, profiles: { [`openai:${key}`]: { type: "api_key", provider: "openai", key: `${API_KEY}-${key}` } } });
    const path = agentDb(agentDir, profile("first"));
    const cache: AuthStoreCache = new Map();
    const age = () => {
      const past = new Date(Date.now() - 60_000);
      for (const file of [path, `${path}-wal`]) if (existsSync(file)) utimesSync(file, past, past);
    };
    // Just written: read, not kept.
    expect(Object.keys(readAgentStore(agentDir, cache).profiles)).toEqual(["openai:first"]);
    expect(cache.size).toBe(0);
    age();
    expect(Object.keys(readAgentStore(agentDir, cache).profiles)).toEqual(["openai:first"]);
    expect(cache.size).toBe(1);
    expect(Object.keys(readAgentStore(agentDir, cache).profiles)).toEqual(["openai:first"]);
    // The gateway writes in WAL mode with its connection open: the commit lives only in the -wal.
    const db = new DatabaseSync(path);
    try {
      db.exec("PRAGMA journal_mode=WAL");
      db.prepare("UPDATE auth_profile_store SET store_json = ? WHERE store_key = 'primary'").run(JSON.stringify(profile("second")));
      expect(Object.keys(readAgentStore(agentDir, cache).profiles)).toEqual(["openai:second"]);
      age();
      expect(Object.keys(readAgentStore(agentDir, cache).profiles)).toEqual(["openai:second"]);
      db.prepare("UPDATE auth_profile_store SET store_json = ? WHERE store_key = 'primary'").run(JSON.stringify(profile("third")));
      age();
      expect(Object.keys(readAgentStore(agentDir, cache).profiles)).toEqual(["openai:third"]);
    } finally {
      db.close();
    }
  });

  it("reads api_key, token and oauth profiles with their expiry from an agent store", () => {
    const agentDir = join(root, "agents", "work", "agent");
    const expires = Date.now() - 60_000;
    const path = agentDb(agentDir, {
      version: 1,
      profiles: {
        "anthropic:manual": { type: "api_key", provider: "anthropic", key: API_KEY },
        "anthropic:night": { type: "token", provider: "Anthropic", expires, token: TOKEN },
        "openai:codex": { type: "oauth", provider: "openai", access: "clawfleet-FAKE-access", refresh: REFRESH, expires, email: "ops@example.com" },
        "broken:1": { type: "password", provider: "x" },
      },
    }, { version: 1, order: { anthropic: ["anthropic:night", "anthropic:manual"] } });
    const store = readAgentStore(agentDir);
    expect(store).toMatchObject({ path, kind: "agent", status: "ok", order: { anthropic: ["anthropic:night", "anthropic:manual"] } });
    expect(Object.keys(store.profiles)).toEqual(["anthropic:manual", "anthropic:night", "openai:codex"]);
    expect(store.profiles["anthropic:manual"]).toMatchObject({ type: "api_key", provider: "anthropic", secret: API_KEY, storePath: path });
    expect(store.profiles["anthropic:night"]).toMatchObject({ type: "token", provider: "anthropic", expiresAt: expires, secret: TOKEN });
    // The refresh token is the stable identity to fingerprint; it also makes an expired access token renewable.
    expect(store.profiles["openai:codex"]).toMatchObject({ type: "oauth", refreshable: true, expiresAt: expires, secret: REFRESH });
  });

  it("normalizes legacy entry shapes as OpenClaw's loader does", () => {
    const parsed = parseStoreJson({
      profiles: {
        a: { mode: "apiKey", provider: "xai", apiKey: "xai-clawfleet-FAKE" },
        b: { type: "api_key", provider: "openrouter", key: { source: "env", provider: "default", id: "OPENROUTER_API_KEY" } },
        c: { type: "token", provider: "anthropic", token: TOKEN, expires: -5 },
        d: { type: "oauth", provider: "openai", access: `openclaw-oauth-refresh-fence:v1:${"a".repeat(32)}:failed:access:${"b".repeat(64)}`, refresh: "x", expires: 1 },
        e: { type: "api_key", provider: "openai" },
        f: { type: "api_key", provider: "openai", key: "k", setup: { replacement: true, modelRef: "openai/x", configJson: "{}" } },
      },
    }, "/db")!;
    expect(parsed.profiles.a).toMatchObject({ type: "api_key", secret: "xai-clawfleet-FAKE" });
    expect(parsed.profiles.b).toMatchObject({ secretRef: { source: "env", id: "OPENROUTER_API_KEY" } });
    expect(parsed.profiles.b!.secret).toBeUndefined();
    expect(parsed.profiles.c!.expiresAt).toBe(0); // OpenClaw: an invalid expiry, not "never"
    expect(parsed.profiles.d).toMatchObject({ refreshFence: "failed", refreshable: false });
    expect(parsed.profiles.d!.secret).toBeUndefined();
    expect(parsed.profiles.e!.unusableReason).toBe("no key saved");
    expect(parsed.profiles.f!.inactive).toBe(true);
    expect(parseStoreJson({ version: 1 }, "/db")).toBeUndefined();
  });

  it("finds the shared store in the state database once auth.sharedStore says state-db, and merges each agent's own over it", () => {
    const stateDir = join(root, ".openclaw");
    const statePath = stateDb(stateDir, {
      "auth.sharedStore": { location: "state-db" },
      "authProfiles.store": { version: 1, profiles: { "anthropic:manual": { type: "api_key", provider: "anthropic", key: API_KEY }, "xai:manual": { type: "api_key", provider: "xai", key: "xai-clawfleet-FAKE-shared" } } },
      "authProfiles.state": { version: 1, order: { xai: ["xai:manual"] } },
    });
    const shared = readSharedStore(stateDir, {});
    expect(shared).toMatchObject({ path: statePath, kind: "shared-state", status: "ok", order: { xai: ["xai:manual"] } });
    const own = readAgentStore(join(stateDir, "agents", "night", "agent"));
    expect(own.status).toBe("missing");
    const ownDir = join(stateDir, "agents", "work", "agent");
    agentDb(ownDir, { version: 1, profiles: { "anthropic:manual": { type: "token", provider: "anthropic", token: TOKEN }, "xai:work": { type: "api_key", provider: "xai", key: "xai-clawfleet-FAKE-work" } } });
    const merged = effectiveStore(shared, readAgentStore(ownDir));
    // Same id: the agent's own profile wins; its own xai profile goes ahead of the inherited order.
    expect(merged.profiles["anthropic:manual"]).toMatchObject({ type: "token", storePath: join(ownDir, "openclaw-agent.sqlite") });
    expect(merged.order.xai).toEqual(["xai:work", "xai:manual"]);
    expect(effectiveStore(shared, own).profiles["xai:manual"]!.storePath).toBe(statePath);
  });

  it("uses the main agent's store as the shared one on installs without auth.sharedStore (legacy-main), honouring OPENCLAW_AGENT_DIR", () => {
    const stateDir = join(root, ".openclaw");
    stateDb(stateDir, { "config.lastTouchedAt": "2026-11-25T08:50:15.436Z" });
    const mainDir = join(stateDir, "agents", "main", "agent");
    const mainPath = agentDb(mainDir, { version: 1, profiles: { "openai:manual": { type: "api_key", provider: "openai", key: "sk-clawfleet-FAKE-main" } } });
    const shared = readSharedStore(stateDir, {});
    expect(shared).toMatchObject({ path: mainPath, kind: "agent", status: "ok" });
    // The main agent's own store is the shared one: seen once, not merged with itself.
    expect(Object.keys(effectiveStore(shared, readAgentStore(mainDir)).profiles)).toEqual(["openai:manual"]);
    const relocated = join(root, "elsewhere");
    agentDb(relocated, { version: 1, profiles: {} });
    expect(readSharedStore(stateDir, { OPENCLAW_AGENT_DIR: relocated }).path).toBe(join(relocated, "openclaw-agent.sqlite"));
    // No state database at all (a fresh install): still the legacy location, missing.
    expect(readSharedStore(join(root, "fresh"), {})).toMatchObject({ status: "missing", path: join(root, "fresh", "agents", "main", "agent", "openclaw-agent.sqlite") });
  });

  it("sees a commit still in the WAL, and creates no -wal/-shm files when reading a closed store", () => {
    const agentDir = join(root, "agent");
    agentDb(agentDir, { version: 1, profiles: {} });
    expect(readdirSync(agentDir)).toEqual(["openclaw-agent.sqlite"]);
    expect(readAgentStore(agentDir).status).toBe("ok");
    expect(readdirSync(agentDir)).toEqual(["openclaw-agent.sqlite"]);

    // A live writer (the gateway) keeps its connection: the new row sits in the WAL, not the main file.
    const writer = new DatabaseSync(join(agentDir, "openclaw-agent.sqlite"));
    try {
      writer.exec("PRAGMA wal_autocheckpoint = 0");
      writer.prepare("UPDATE auth_profile_store SET store_json = ? WHERE store_key = 'primary'").run(JSON.stringify({ version: 1, profiles: { "xai:manual": { type: "api_key", provider: "xai", key: "xai-clawfleet-FAKE-wal" } } }));
      const before = snapshotTree(agentDir);
      expect(Object.keys(readAgentStore(agentDir).profiles)).toEqual(["xai:manual"]);
      // Not even the -shm the writer shares with readers is touched.
      expect(diffSnapshots(before, snapshotTree(agentDir))).toEqual([]);
    } finally {
      writer.close();
    }
  });

  it("reads the last commit of a store held under an exclusive lock, without waiting or touching it", () => {
    const agentDir = join(root, "agent");
    agentDb(agentDir, { version: 1, profiles: {} });
    const writer = new DatabaseSync(join(agentDir, "openclaw-agent.sqlite"));
    try {
      // Committed: an xai profile. Still open in the exclusive transaction: its replacement.
      writer.exec("PRAGMA wal_autocheckpoint = 0; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;");
      writer.prepare("UPDATE auth_profile_store SET store_json = ? WHERE store_key = 'primary'").run(JSON.stringify({ version: 1, profiles: { "xai:manual": { type: "api_key", provider: "xai", key: "xai-clawfleet-FAKE-committed" } } }));
      writer.exec("COMMIT; BEGIN EXCLUSIVE;");
      writer.prepare("UPDATE auth_profile_store SET store_json = ? WHERE store_key = 'primary'").run(JSON.stringify({ version: 1, profiles: {} }));
      const before = snapshotTree(agentDir);
      const started = performance.now();
      const store = readAgentStore(agentDir);
      // A private copy takes no lock: what was committed, at once.
      expect(store).toMatchObject({ status: "ok", profiles: { "xai:manual": { secret: "xai-clawfleet-FAKE-committed" } } });
      expect(performance.now() - started).toBeLessThan(2000);
      expect(diffSnapshots(before, snapshotTree(agentDir))).toEqual([]);
    } finally {
      writer.exec("ROLLBACK");
      writer.close();
    }
  });

  it("tells a missing store (no file, no table, no row) from an unreadable one (corrupt, bad JSON, not a file)", () => {
    expect(readAgentStore(join(root, "none")).status).toBe("missing");

    const noTable = join(root, "no-table");
    mkdirSync(noTable);
    new DatabaseSync(join(noTable, "openclaw-agent.sqlite")).close();
    expect(readAgentStore(noTable)).toMatchObject({ status: "missing", reason: "no auth_profile_store table" });

    const corrupt = join(root, "corrupt");
    mkdirSync(corrupt);
    writeFileSync(join(corrupt, "openclaw-agent.sqlite"), "this is not a database, it is a text file long enough to have a header".repeat(20));
    expect(readAgentStore(corrupt)).toMatchObject({ status: "unreadable", reason: expect.stringMatching(/not a database/) });

    const badJson = join(root, "bad-json");
    const db = new DatabaseSync(join((mkdirSync(badJson), badJson), "openclaw-agent.sqlite"));
    db.exec(AGENT_SCHEMA);
    db.prepare("INSERT INTO auth_profile_store VALUES ('primary', '{not json', 0)").run();
    db.close();
    expect(readAgentStore(badJson)).toMatchObject({ status: "unreadable", reason: "the stored profiles are not valid JSON" });

    const directory = join(root, "dir");
    mkdirSync(join(directory, "openclaw-agent.sqlite"), { recursive: true });
    expect(readAgentStore(directory).status).toBe("unreadable");

    const stateDir = join(root, "bad-owner");
    stateDb(stateDir, { "auth.sharedStore": { location: "cloud" } });
    expect(readSharedStore(stateDir, {})).toMatchObject({ status: "unreadable", reason: expect.stringMatching(/unknown location/) });
  });
});
