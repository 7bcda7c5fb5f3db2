// A collector store as a fleet leaves it after weeks of running: the store
// itself makes the schema and writes the nodes and their current reports; the
// bulk (events, the retired fingerprints a rotation leaves, past silences) goes
// into its tables by plain SQL on the same file, for which the store has no
// bulk call. A million events through the store's own one-row insert took 35 s
// (four indexes updated row by row past the page cache); here its event indexes
// are dropped, the rows inserted 100 to a statement, and the very same index
// definitions (read back from sqlite_master) built once at the end: ~5 s.
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../collector/state/sqlite-store.ts";
import type { EventKind, EventRow } from "../collector/state/store.ts";
import { simulatedReport } from "./fleet-fixture.ts";
import { seededRandom } from "../agent/sim/seeded-random.ts";

/** Share of each kind per 1,000 events: a fleet that reconnects, flaps, sleeps and rotates (3 % rotations: 30,000 at a million). */
export const EVENT_MIX: readonly [EventKind, number][] = [
  ["finding_raised", 240],
  ["finding_cleared", 230],
  ["layer_change", 200],
  ["connect", 80],
  ["disconnect", 80],
  ["silent", 40],
  ["woke", 40],
  ["credential_rotated", 30],
  ["relabelled", 20],
  ["credential_added", 15],
  ["version_change", 10],
  ["identity_conflict", 10],
  ["credential_removed", 5],
];

const FINDINGS: readonly [string, string, string][] = [
  ["session", "token_mismatch", "The gateway rejected the token from config gateway.auth.token (hmac:3f1c9a7e02b4d851) with AUTH_TOKEN_MISMATCH."],
  ["provider", "api_key_missing", "Agent main has no credential for provider anthropic: the auth store and the gateway's environment hold none."],
  ["gateway", "not_running", "No OpenClaw gateway is running for /Users/ops/.openclaw and nothing listens on 127.0.0.1:18789 (port from config)."],
  ["tunnel", "tailscale_not_running", "tailscaled does not answer on its LocalAPI socket."],
  ["drift", "multiple_binaries", "Two openclaw installs on PATH: /opt/homebrew/bin/openclaw (2026.9.6) and /usr/local/bin/openclaw (2026.8.1)."],
  ["power", "slept_recently", "The host slept 2 times in the last 24 h, last for 41 min."],
];

/** Deterministic: the same sizes give the same store, so runs compare (the simulator's generator). */
const random = seededRandom;

export const nodeName = (i: number) => `mini-${String(i).padStart(5, "0")}`;
const fingerprint = (n: number) => `hmac:${(n >>> 0).toString(16).padStart(16, "0")}`;

function pickKind(r: number): EventKind {
  let at = r * 1000;
  for (const [kind, weight] of EVENT_MIX) {
    if (at < weight) return kind;
    at -= weight;
  }
  return "finding_raised";
}

function event(i: number, nodeId: string, atMs: number, kind: EventKind, r: () => number): EventRow {
  const [layer, code, summary] = FINDINGS[Math.floor(r() * FINDINGS.length)]!;
  switch (kind) {
    case "finding_raised":
      return { nodeId, atMs, kind, layer, code, detail: { status: "fail", summary } };
    case "finding_cleared":
      return { nodeId, atMs, kind, layer, code, detail: {} };
    case "layer_change":
      return { nodeId, atMs, kind, layer, detail: i % 2 ? { from: "ok", to: "fail" } : { from: "fail", to: "ok" } };
    case "connect":
      return { nodeId, atMs, kind, detail: { peer: `ipv4:100.64.${i % 250}.${(i >> 8) % 250}:${40000 + (i % 20000)}`, agentVersion: "0.1.0" } };
    case "silent":
      return { nodeId, atMs, kind, detail: { label: i % 3 ? "asleep" : "unreachable" } };
    case "woke":
      return { nodeId, atMs, kind, detail: { label: "asleep", silentMs: 3_600_000 + (i % 7) * 60_000 } };
    case "credential_rotated":
      return { nodeId, atMs, kind, detail: { kind: "gateway_token", source: "config gateway.auth.token", subject: "gateway:18789", from: fingerprint(i * 2654435761), to: fingerprint((i + 1) * 2654435761) } };
    case "credential_added":
      return { nodeId, atMs, kind, detail: { kind: "provider_key", source: "auth store main/anthropic", subject: "main/anthropic", to: fingerprint(i * 40503) } };
    case "credential_removed":
      return { nodeId, atMs, kind, detail: { kind: "provider_key", source: "auth store main/anthropic", subject: "main/anthropic", from: fingerprint(i * 40503) } };
    case "relabelled":
      return { nodeId, atMs, kind, detail: { from: "unreachable", to: "asleep", silenceStartedMs: atMs - 7_200_000, silenceEndedMs: atMs - 60_000 } };
    case "version_change":
      return { nodeId, atMs, kind, detail: { component: "openclaw", from: "2026.8.1", to: "2026.9.6" } };
    case "identity_conflict":
      return { nodeId, atMs, kind, detail: { peers: "ipv4:100.64.1.2:41000,ipv4:100.64.1.9:52011" } };
    default:
      return { nodeId, atMs, kind, detail: {} };
  }
}

export interface SeedStats {
  events: number;
  nodes: number;
  rotations: number;
  seconds: number;
}

/**
 * `nodes` nodes with a current report each (a tenth failing, as fleet-fixture's
 * mix), `events` events over the last 29 days (inside the 30-day retention, so
 * the collector's start prunes none) in EVENT_MIX proportions, a retired
 * credential row for every rotation, and a past silence for every third node.
 */
export function seedStore(path: string, nodes: number, events: number, nowMs = Date.now()): SeedStats {
  const started = performance.now();
  const r = random(nodes * 7919 + events);
  const store = new SqliteStore(path);
  for (let i = 0; i < nodes; i++) {
    const nodeId = nodeName(i);
    store.upsertNode({ nodeId, hostname: `${nodeId}.fleet.internal`, platform: i % 5 === 0 ? "linux" : "darwin", agentVersion: "0.1.0", openclawVersion: "2026.9.6" }, nowMs - 60_000, 0);
    store.applyReport(simulatedReport(nodeId, 1n, i, nowMs - 60_000), []);
  }
  store.close();
  const db = new DatabaseSync(path);
  // A scratch copy being built: no fsync, a page cache that holds the indexes while they are built.
  db.exec("PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; BEGIN");
  const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL").all() as { name: string; sql: string }[];
  for (const { name } of indexes) db.exec(`DROP INDEX ${name}`);
  const ROWS = 100;
  const insertMany = db.prepare(`INSERT INTO events (node_id, at_ms, kind, layer, code, detail_json) VALUES ${Array(ROWS).fill("(?, ?, ?, ?, ?, ?)").join(", ")}`);
  const insertOne = db.prepare("INSERT INTO events (node_id, at_ms, kind, layer, code, detail_json) VALUES (?, ?, ?, ?, ?, ?)");
  const rotations: { nodeId: string; atMs: number; from: string }[] = [];
  const spanMs = 29 * 86_400_000;
  let batch: (string | number | null)[] = [];
  for (let i = 0; i < events; i++) {
    // Every node has events; a few (the flappers, the first 1 %) a fifth of them.
    const nodeIndex = r() < 0.2 ? Math.floor(r() * Math.max(1, nodes / 100)) : Math.floor(r() * nodes);
    const e = event(i, nodeName(nodeIndex), nowMs - spanMs + Math.floor((i / events) * spanMs), pickKind(r()), r);
    if (e.kind === "credential_rotated") rotations.push({ nodeId: e.nodeId, atMs: e.atMs, from: e.detail.from as string });
    batch.push(e.nodeId, e.atMs, e.kind, e.layer ?? null, e.code ?? null, JSON.stringify(e.detail));
    if (batch.length === ROWS * 6) (insertMany.run(...batch), (batch = []));
  }
  for (let at = 0; at < batch.length; at += 6) insertOne.run(...batch.slice(at, at + 6));
  for (const { sql } of indexes) db.exec(sql);
  const retired = db.prepare(
    "INSERT OR IGNORE INTO credentials (node_id, kind, source, fingerprint, subject, first_seen_ms, last_seen_ms, retired_ms) VALUES (?, 'gateway_token', 'config gateway.auth.token', ?, 'gateway:18789', ?, ?, ?)",
  );
  for (const rot of rotations) retired.run(rot.nodeId, rot.from, rot.atMs - 86_400_000, rot.atMs, rot.atMs);
  const silence = db.prepare("INSERT INTO silences (node_id, started_ms, ended_ms, label) VALUES (?, ?, ?, ?)");
  for (let i = 0; i < nodes; i += 3) silence.run(nodeName(i), nowMs - 20 * 3_600_000, nowMs - 13 * 3_600_000, "asleep");
  db.exec("COMMIT");
  db.close();
  return { events, nodes, rotations: rotations.length, seconds: (performance.now() - started) / 1000 };
}
