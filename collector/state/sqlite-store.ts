// The embedded store: one SQLite file (node:sqlite), WAL, versioned migrations.
// Report rows are small (identical finding sets share one body row) so the
// table stays cheap at 10,000 nodes reporting every 30 s.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Verdict } from "../../shared/finding.ts";
import { startWalCheckpointer, WRITER_AUTOCHECKPOINT_PAGES, type WalCheckpointer } from "./wal-checkpointer.ts";
import type { CredentialRow, CredentialUse, EventFilter, EventKind, EventRow, HistoryQuery, HistoryRows, NodeIdentityRow, NodeRow, RetentionPolicy, SilenceRow, Store, StoredReport } from "./store.ts";
import { credentialUseFromRow, eventFromRow, nodeFromRow, NODES_WITH_CURRENT_REPORT, silenceFromRow, type Row } from "./store-rows.ts";

/** Each entry upgrades the schema by one version; never edit one that has shipped. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
   CREATE TABLE nodes (
     node_id TEXT PRIMARY KEY,
     hostname TEXT NOT NULL,
     platform TEXT NOT NULL,
     agent_version TEXT NOT NULL,
     openclaw_version TEXT NOT NULL,
     first_seen_ms INTEGER NOT NULL,
     last_seen_ms INTEGER NOT NULL,
     last_seq INTEGER NOT NULL DEFAULT 0,
     current_seq INTEGER NOT NULL DEFAULT 0,
     clock_skew_ms INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE report_bodies (hash TEXT PRIMARY KEY, body_json TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE reports (
     node_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     observed_at_ms INTEGER NOT NULL,
     received_at_ms INTEGER NOT NULL,
     verdict TEXT NOT NULL,
     primary_index INTEGER NOT NULL,
     body_hash TEXT NOT NULL,
     duration_ms INTEGER NOT NULL,
     may_sleep INTEGER NOT NULL,
     last_wake_ms INTEGER NOT NULL,
     last_sleep_ms INTEGER NOT NULL,
     openclaw_version TEXT NOT NULL,
     PRIMARY KEY (node_id, seq)
   ) WITHOUT ROWID;
   CREATE INDEX reports_received ON reports (received_at_ms);
   CREATE TABLE events (
     id INTEGER PRIMARY KEY,
     node_id TEXT NOT NULL,
     at_ms INTEGER NOT NULL,
     kind TEXT NOT NULL,
     layer TEXT,
     code TEXT,
     detail_json TEXT NOT NULL
   );
   CREATE INDEX events_at ON events (at_ms);
   CREATE INDEX events_node ON events (node_id, at_ms);
   CREATE TABLE credentials (
     node_id TEXT NOT NULL,
     kind TEXT NOT NULL,
     source TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     subject TEXT NOT NULL,
     first_seen_ms INTEGER NOT NULL,
     last_seen_ms INTEGER NOT NULL,
     retired_ms INTEGER,
     PRIMARY KEY (node_id, kind, source, fingerprint)
   ) WITHOUT ROWID;
   CREATE INDEX credentials_fingerprint ON credentials (fingerprint);
   CREATE TABLE silences (
     id INTEGER PRIMARY KEY,
     node_id TEXT NOT NULL,
     started_ms INTEGER NOT NULL,
     ended_ms INTEGER,
     label TEXT NOT NULL,
     relabelled INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX silences_node ON silences (node_id, started_ms);`,
  // 2: queries by kind read an index, never the newest N rows: rotations for `query tokens` and the counts at
  // start (kind, time); a node's timeline reads a few kinds of its events among many connects (node, kind, time).
  `CREATE INDEX events_kind ON events (kind, at_ms);
   CREATE INDEX events_node_kind ON events (node_id, kind, at_ms);`,
  // 3: nodes `clawfleet sim` plays say so in their hello; the store keeps it so queries and metrics can tell them apart.
  `ALTER TABLE nodes ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0;`,
];

export class StoreError extends Error {}

/** Most reports one group commit holds: bounds the work lost to a failed commit and the wait for an ack. */
const MAX_BATCH = 500;

/** Body hashes remembered as stored (about 70 bytes each): a few per node at 10,000 nodes. */
const MAX_STORED_BODIES = 100_000;

/** SQLite result codes that mean the file itself is damaged, not the query. */
const DAMAGED = new Set([11 /* SQLITE_CORRUPT */, 26 /* SQLITE_NOTADB */]);

/**
 * An error from opening or first reading the database, as the operator must
 * see it: which file, what SQLite said, and what to do about it.
 */
function storeError(path: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const { message, errcode } = error as Error & { errcode?: number };
  const advice = DAMAGED.has(errcode ?? -1) || /malformed|not a database/i.test(message)
    ? "move it aside to start with an empty store, or restore a backup"
    : "check the file and its directory are readable and writable by this user, or move it aside to start with an empty store";
  return new StoreError(`${path}: cannot open the collector database: ${message} — ${advice}`);
}

export class SqliteStore implements Store {
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly sql: Record<string, StatementSync> = {};
  /** The open group-commit transaction: reports written since it began, and who waits for it. */
  private batch: { callbacks: ((error?: Error) => void)[]; reports: number; bodies: string[] } | undefined;
  /**
   * Hashes of report bodies committed to report_bodies: a node sends the same few bodies over and over, and
   * the INSERT OR IGNORE that finds its body already there still walked to a random page (6-14 µs a report).
   * Only a commit adds to it; prune, which deletes bodies, empties it.
   */
  private readonly storedBodies = new Set<string>();
  /**
   * Per node, what the store holds for it now (committed, or in the open batch): its current seq and its active
   * credentials. Spares two reads per report (SELECT current_seq, SELECT the active set: 6-10 µs). Read from the
   * tables on first use; set once a report's savepoint is released into the open batch; emptied when a commit fails,
   * as that rollback may have taken back what it says.
   */
  private readonly nodeState = new Map<string, { currentSeq: bigint; credentials: readonly CredentialRow[] }>();
  private savepointDepth = 0;
  private readonly checkpointer: WalCheckpointer | undefined;

  constructor(path: string) {
    this.path = path;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    try {
      this.db = new DatabaseSync(path);
      // synchronous=NORMAL (WAL): a committed report survives the collector's crash or kill; power loss may take
      // the last commits back (agents then hold newer state anyway). FULL would fsync on the event loop: in a
      // loaded full test run that pushed /healthz past 100 ms under attack, so it waits for a store off the loop.
      this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = OFF;");
      this.migrate();
      if (path !== ":memory:") {
        this.db.exec(`PRAGMA wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT_PAGES}`);
        this.checkpointer = startWalCheckpointer(path);
      }
    } catch (error) {
      throw storeError(path, error);
    }
  }

  /**
   * Damage in the middle of the file passes open and migrate; the collector's
   * first reads (nodes, silences, events, the key) are where it shows, so
   * those name the file too.
   */
  private reading<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw storeError(this.path, error);
    }
  }

  /** Prepared once, reused: integers come back as bigint so sequence numbers never lose precision. */
  private statement(name: string, text: string): StatementSync {
    let statement = this.sql[name];
    if (!statement) {
      statement = this.db.prepare(text);
      statement.setReadBigInts(true);
      this.sql[name] = statement;
    }
    return statement;
  }

  private migrate(): void {
    this.db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)");
    const row = this.db.prepare("SELECT max(version) AS version FROM schema_migrations").get() as { version: number | null };
    const current = row.version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new StoreError(`schema version ${current} is newer than this clawfleet (${MIGRATIONS.length}); upgrade clawfleet`);
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      this.transaction(() => {
        this.db.exec(MIGRATIONS[version - 1]!);
        this.db.prepare("INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?, ?)").run(version, Date.now());
      });
    }
  }

  /**
   * All-or-nothing work. Inside an open batch it is a savepoint of the batch
   * (committed with it); otherwise its own transaction.
   */
  private transaction<T>(work: () => T): T {
    if (this.batch) return this.savepoint(work);
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }

  private savepoint<T>(work: () => T): T {
    // Prepared, not exec'd: two of these per report, and exec parses its text every time.
    this.statement("savepoint", "SAVEPOINT write").run();
    this.savepointDepth++;
    try {
      const result = work();
      this.statement("release", "RELEASE write").run();
      return result;
    } catch (error) {
      this.statement("rollbackTo", "ROLLBACK TO write").run();
      this.statement("release", "RELEASE write").run();
      throw error;
    } finally {
      this.savepointDepth--;
    }
  }

  /**
   * Group commit: the writes of one event-loop turn (reports, hellos, silences, events) share one transaction,
   * committed once at the end of the turn
   * or after MAX_BATCH reports. Each report is its own savepoint, so one bad
   * report rolls back alone. Acknowledgements wait for the commit (whenDurable).
   */
  private batched<T>(work: () => T): T {
    // Inside a transaction of its own (migrations, a prune): part of it.
    if (!this.batch && this.db.isTransaction) return this.savepoint(work);
    if (!this.batch) {
      this.db.exec("BEGIN IMMEDIATE");
      this.batch = { callbacks: [], reports: 0, bodies: [] };
      setImmediate(() => this.commitBatch());
    }
    const result = this.savepoint(work);
    // Only between writes: a write made of writes (openSilences) is committed whole.
    if (++this.batch.reports >= MAX_BATCH && this.savepointDepth === 0) this.commitBatch();
    return result;
  }

  private commitBatch(): void {
    const batch = this.batch;
    if (!batch) return;
    this.batch = undefined;
    let failure: Error | undefined;
    try {
      this.db.exec("COMMIT");
      if (this.storedBodies.size + batch.bodies.length > MAX_STORED_BODIES) this.storedBodies.clear();
      for (const hash of batch.bodies) this.storedBodies.add(hash);
    } catch (error) {
      failure = error as Error;
      this.nodeState.clear();
      try {
        this.db.exec("ROLLBACK");
      } catch {
        // COMMIT failing may already have rolled back.
      }
    }
    for (const callback of batch.callbacks) callback(failure);
  }

  whenDurable(callback: (error?: Error) => void): void {
    if (this.batch) this.batch.callbacks.push(callback);
    else callback();
  }

  upsertNode(identity: NodeIdentityRow, seenAtMs: number, clockSkewMs: number): bigint {
    // In the turn's group commit: 10,000 hellos in autocommit were 10,000 commits, past the hello timeout.
    return this.batched(() => this.upsertNodeNow(identity, seenAtMs, clockSkewMs));
  }

  private upsertNodeNow(identity: NodeIdentityRow, seenAtMs: number, clockSkewMs: number): bigint {
    this.statement(
      "upsertNode",
      `INSERT INTO nodes (node_id, hostname, platform, agent_version, openclaw_version, first_seen_ms, last_seen_ms, clock_skew_ms, simulated)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (node_id) DO UPDATE SET hostname = excluded.hostname, platform = excluded.platform,
         agent_version = excluded.agent_version, last_seen_ms = excluded.last_seen_ms, clock_skew_ms = excluded.clock_skew_ms, simulated = excluded.simulated,
         openclaw_version = CASE WHEN excluded.openclaw_version = '' THEN nodes.openclaw_version ELSE excluded.openclaw_version END`,
    ).run(identity.nodeId, identity.hostname, identity.platform, identity.agentVersion, identity.openclawVersion, seenAtMs, seenAtMs, Math.round(clockSkewMs), identity.simulated ? 1 : 0);
    return (this.statement("nodeSeq", "SELECT last_seq FROM nodes WHERE node_id = ?").get(identity.nodeId) as { last_seq: bigint }).last_seq;
  }

  applyReport(report: StoredReport, events: readonly EventRow[]): "stored" | "stored_old" | "duplicate" {
    const body = JSON.stringify({ findings: report.findings, credentials: report.credentials });
    const hash = createHash("sha256").update(body).digest("base64url").slice(0, 22);
    const outcome = this.batched(() => {
      const inserted = this.statement(
        "insertReport",
        `INSERT OR IGNORE INTO reports (node_id, seq, observed_at_ms, received_at_ms, verdict, primary_index, body_hash, duration_ms, may_sleep, last_wake_ms, last_sleep_ms, openclaw_version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(report.nodeId, report.seq, report.observedAtMs, report.receivedAtMs, report.verdict, report.primaryIndex, hash, report.durationMs, report.maySleep ? 1 : 0, report.lastWakeMs, report.lastSleepMs, report.openclawVersion);
      if (Number(inserted.changes) === 0) return "duplicate";
      if (!this.storedBodies.has(hash)) this.statement("insertBody", "INSERT OR IGNORE INTO report_bodies (hash, body_json) VALUES (?, ?)").run(hash, body);
      const node = this.nodeStateOf(report.nodeId);
      const newest = !node || report.seq > node.currentSeq;
      if (!newest) {
        this.statement("raiseSeq", "UPDATE nodes SET last_seq = max(last_seq, ?), last_seen_ms = max(last_seen_ms, ?) WHERE node_id = ?").run(report.seq, report.receivedAtMs, report.nodeId);
        return "stored_old";
      }
      // Before the node row moves on: a retired use was last seen when the node last was, before this report.
      this.replaceCredentials(report.nodeId, node?.credentials ?? this.activeCredentials(report.nodeId), report.credentials, report.receivedAtMs);
      // One write of the node row per report: every page a report dirties is written again at commit.
      this.statement(
        "advanceNode",
        `UPDATE nodes SET last_seq = max(last_seq, ?1), current_seq = ?1, last_seen_ms = max(last_seen_ms, ?2),
           openclaw_version = CASE WHEN ?3 = '' THEN openclaw_version ELSE ?3 END WHERE node_id = ?4`,
      ).run(report.seq, report.receivedAtMs, report.openclawVersion, report.nodeId);
      this.insertEvents(events);
      return "stored";
    });
    // Its savepoint released into the open batch: the body is stored when that batch commits (a batch already
    // committed at MAX_BATCH leaves it unremembered, which only costs the lookup again).
    const inBatch = this.batch !== undefined && this.savepointDepth === 0;
    if (outcome !== "duplicate" && inBatch && !this.storedBodies.has(hash)) this.batch!.bodies.push(hash);
    if (outcome === "stored") {
      // Only a node with a row has a current seq; outside the open batch (its commit done or failed) it is read again.
      if (inBatch && this.nodeState.has(report.nodeId)) this.nodeState.set(report.nodeId, { currentSeq: report.seq, credentials: report.credentials.map((c) => ({ ...c })) });
      else this.nodeState.delete(report.nodeId);
    }
    return outcome;
  }

  /**
   * Makes the node's active credential set the report's: new fingerprints are
   * added (or un-retired), those no longer seen at a source are retired, and an
   * unchanged set writes nothing (an active use's last sighting is the node's,
   * see credentialUses), which is nearly every report.
   */
  private replaceCredentials(nodeId: string, active: readonly CredentialRow[], credentials: readonly CredentialRow[], nowMs: number): void {
    const key = (c: CredentialRow) => `${c.kind}\0${c.source}\0${c.fingerprint}`;
    const activeByKey = new Map(active.map((row) => [key(row), row]));
    const upsert = this.statement(
      "upsertCredential",
      `INSERT INTO credentials (node_id, kind, source, fingerprint, subject, first_seen_ms, last_seen_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (node_id, kind, source, fingerprint) DO UPDATE SET last_seen_ms = excluded.last_seen_ms, subject = excluded.subject, retired_ms = NULL`,
    );
    for (const c of credentials) {
      const seen = activeByKey.get(key(c));
      if (!seen || seen.subject !== c.subject) upsert.run(nodeId, c.kind, c.source, c.fingerprint, c.subject, nowMs, nowMs);
    }
    const keep = new Set(credentials.map(key));
    const retire = this.statement("retireCredential", "UPDATE credentials SET retired_ms = ?1, last_seen_ms = max(last_seen_ms, (SELECT last_seen_ms FROM nodes WHERE node_id = ?2)) WHERE node_id = ?2 AND kind = ?3 AND source = ?4 AND fingerprint = ?5");
    for (const row of active) {
      if (!keep.has(key(row))) retire.run(nowMs, nodeId, row.kind, row.source, row.fingerprint);
    }
  }

  private activeCredentials(nodeId: string): CredentialRow[] {
    return this.statement("activeCredentials", "SELECT kind, source, fingerprint, subject FROM credentials WHERE node_id = ? AND retired_ms IS NULL").all(nodeId) as unknown as CredentialRow[];
  }

  /** The node's current seq and active credentials, from memory or its rows; undefined when the node has no row. */
  private nodeStateOf(nodeId: string): { currentSeq: bigint; credentials: readonly CredentialRow[] } | undefined {
    const known = this.nodeState.get(nodeId);
    if (known) return known;
    const row = this.statement("nodeCurrent", "SELECT current_seq FROM nodes WHERE node_id = ?").get(nodeId) as { current_seq: bigint } | undefined;
    if (!row) return undefined;
    const state = { currentSeq: row.current_seq, credentials: this.activeCredentials(nodeId) };
    this.nodeState.set(nodeId, state);
    return state;
  }

  private insertEvents(events: readonly EventRow[]): void {
    const insert = this.statement("insertEvent", "INSERT INTO events (node_id, at_ms, kind, layer, code, detail_json) VALUES (?, ?, ?, ?, ?, ?)");
    for (const e of events) insert.run(e.nodeId, e.atMs, e.kind, e.layer ?? null, e.code ?? null, JSON.stringify(e.detail));
  }

  appendEvents(events: readonly EventRow[]): void {
    if (events.length > 0) this.batched(() => this.insertEvents(events));
  }

  openSilence(nodeId: string, startedMs: number, label: SilenceRow["label"]): void {
    this.batched(() => this.statement("openSilence", "INSERT INTO silences (node_id, started_ms, label) VALUES (?, ?, ?)").run(nodeId, startedMs, label));
  }

  openSilences(silences: readonly Pick<SilenceRow, "nodeId" | "startedMs" | "label">[]): void {
    if (silences.length > 0) this.batched(() => silences.forEach((s) => this.openSilence(s.nodeId, s.startedMs, s.label)));
  }

  closeSilence(nodeId: string, endedMs: number): SilenceRow | undefined {
    return this.batched(() => this.closeSilenceNow(nodeId, endedMs));
  }

  private closeSilenceNow(nodeId: string, endedMs: number): SilenceRow | undefined {
    const open = this.statement("openSilenceRow", "SELECT * FROM silences WHERE node_id = ? AND ended_ms IS NULL ORDER BY id DESC LIMIT 1").get(nodeId) as Row | undefined;
    if (!open) return undefined;
    this.statement("closeSilence", "UPDATE silences SET ended_ms = ? WHERE node_id = ? AND ended_ms IS NULL").run(endedMs, nodeId);
    return { ...silenceFromRow(open), endedMs };
  }

  relabelSilence(id: number, label: SilenceRow["label"]): void {
    this.batched(() => this.statement("relabel", "UPDATE silences SET label = ?, relabelled = 1 WHERE id = ?").run(label, id));
  }

  silences(nodeId: string, limit: number): SilenceRow[] {
    return this.reading(() => (this.statement("silences", "SELECT * FROM silences WHERE node_id = ? ORDER BY started_ms DESC LIMIT ?").all(nodeId, limit) as Row[]).map(silenceFromRow));
  }

  listNodes(): NodeRow[] {
    return this.reading(() => {
      // One read with each node's current report joined (one query per node was a third slower at 10,000 nodes).
      const rows = this.statement(
        "listNodes",
        NODES_WITH_CURRENT_REPORT,
      ).all() as Row[];
      return rows.map(nodeFromRow);
    });
  }

  events(filter: EventFilter): EventRow[] {
    return this.reading(() => {
      // One prepared statement per filter shape: each uses the index that fits it (events_node, events_kind, events_at).
      const where = ["at_ms >= ?"];
      const args: (string | number)[] = [filter.sinceMs];
      if (filter.nodeId) where.push("node_id = ?"), args.push(filter.nodeId);
      if (filter.kind) where.push("kind = ?"), args.push(filter.kind);
      if (filter.before) where.push("(at_ms < ? OR (at_ms = ? AND id < ?))"), args.push(filter.before.atMs, filter.before.atMs, filter.before.id);
      const shape = `events:${filter.nodeId ? "n" : ""}${filter.kind ? "k" : ""}${filter.before ? "b" : ""}`;
      const rows = this.statement(shape, `SELECT * FROM events WHERE ${where.join(" AND ")} ORDER BY at_ms DESC, id DESC LIMIT ?`).all(...args, filter.limit);
      return (rows as Row[]).map(eventFromRow);
    });
  }

  history(query: HistoryQuery): HistoryRows {
    if (query.nodeIds.length === 0 || query.kinds.length === 0) return { events: [], silences: [] };
    const nodes = JSON.stringify(query.nodeIds);
    return this.reading(() => {
      // Per node the newest `perNodeLimit` rows, found through events_node_kind: the read is bounded by the nodes asked for, not by the log.
      const events = this.statement(
        "historyEvents",
        `SELECT id, node_id, at_ms, kind, layer, code, detail_json FROM (
           SELECT e.*, row_number() OVER (PARTITION BY e.node_id ORDER BY e.at_ms DESC, e.id DESC) AS n
           FROM events e
           WHERE e.node_id IN (SELECT value FROM json_each(?)) AND e.kind IN (SELECT value FROM json_each(?)) AND e.at_ms >= ?
         ) WHERE n <= ? ORDER BY node_id, at_ms, id`,
      ).all(nodes, JSON.stringify(query.kinds), query.sinceMs, query.perNodeLimit) as Row[];
      // The silences that start in the window, and per node the one before it if it lasted into the window.
      const silences = this.statement(
        "historySilences",
        `WITH wanted(node_id) AS (SELECT value FROM json_each(?1)),
         overlapping AS (
           SELECT s.* FROM wanted w JOIN silences s ON s.node_id = w.node_id AND s.started_ms >= ?2
           UNION ALL
           SELECT s.* FROM wanted w JOIN silences s ON s.id = (SELECT p.id FROM silences p WHERE p.node_id = w.node_id AND p.started_ms < ?2 ORDER BY p.started_ms DESC LIMIT 1)
           WHERE s.ended_ms IS NULL OR s.ended_ms > ?2
         )
         SELECT * FROM (SELECT o.*, row_number() OVER (PARTITION BY o.node_id ORDER BY o.started_ms DESC, o.id DESC) AS n FROM overlapping o)
         WHERE n <= ?3 ORDER BY node_id, started_ms, id`,
      ).all(nodes, query.sinceMs, query.perNodeLimit) as Row[];
      return { events: events.map(eventFromRow), silences: silences.map(silenceFromRow) };
    });
  }

  rotationCounts(): { nodeId: string; kind: string; count: number }[] {
    return this.reading(() =>
      (this.statement("rotationCounts", "SELECT node_id, json_extract(detail_json, '$.kind') AS kind, count(*) AS n FROM events WHERE kind = 'credential_rotated' GROUP BY node_id, 2").all() as Row[]).map((row) => ({
        nodeId: row.node_id as string,
        kind: (row.kind as string | null) ?? "unknown",
        count: Number(row.n),
      })),
    );
  }

  credentialUses(filter: { nodeId?: string; activeOnly?: boolean } = {}): CredentialUse[] {
    return this.reading(() => {
      const where = [...(filter.nodeId !== undefined ? ["c.node_id = ?"] : []), ...(filter.activeOnly ? ["c.retired_ms IS NULL"] : [])];
      const shape = `credentials:${filter.nodeId !== undefined ? "n" : ""}${filter.activeOnly ? "a" : ""}`;
      // An active use was last seen when its node last was (reports leave an unchanged set unwritten).
      // `+fingerprint`: sorting what the scan found beats walking credentials_fingerprint and looking each row up by
      // its key (48 ms against 7 ms for the 1,000 in-use rows among 31,000 after 30,000 rotations).
      const text = `SELECT c.*, CASE WHEN c.retired_ms IS NULL THEN max(c.last_seen_ms, coalesce(n.last_seen_ms, 0)) ELSE c.last_seen_ms END AS seen_ms
                    FROM credentials c LEFT JOIN nodes n ON n.node_id = c.node_id
                    ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY +c.fingerprint, c.node_id, c.first_seen_ms`;
      const rows = this.statement(shape, text).all(...(filter.nodeId !== undefined ? [filter.nodeId] : [])) as Row[];
      return rows.map(credentialUseFromRow);
    });
  }

  prune(policy: RetentionPolicy, nowMs: number): { reports: number; events: number } {
    // It deletes the bodies no report uses any more (this batch's too): which ones is not worth tracking.
    this.storedBodies.clear();
    if (this.batch) this.batch.bodies = [];
    return this.transaction(() => {
      // Never delete a node's current report: it is its state.
      const reports = this.statement(
        "pruneReports",
        "DELETE FROM reports WHERE received_at_ms < ? AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.node_id = reports.node_id AND n.current_seq = reports.seq)",
      ).run(nowMs - policy.reportsMaxAgeMs).changes;
      // NOT IN reads reports once (reports has no body_hash index); NOT EXISTS scanned it once per body:
      // 2.6 s at 10,000 nodes, every prune and at start, and quadratic from there.
      this.statement("pruneBodies", "DELETE FROM report_bodies WHERE hash NOT IN (SELECT body_hash FROM reports)").run();
      const byAge = this.statement("pruneEventsAge", "DELETE FROM events WHERE at_ms < ?").run(nowMs - policy.eventsMaxAgeMs).changes;
      const byCount = this.statement("pruneEventsRows", "DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ?").run(policy.eventsMaxRows).changes;
      return { reports: Number(reports), events: Number(byAge) + Number(byCount) };
    });
  }

  eventCount(): number {
    return Number((this.statement("eventCount", "SELECT count(*) AS n FROM events").get() as { n: bigint }).n);
  }

  fingerprintKey(): Uint8Array {
    return this.reading(() => {
      const existing = this.db.prepare("SELECT value FROM meta WHERE key = 'fingerprint_key'").get() as { value: Uint8Array } | undefined;
      if (existing) return existing.value;
      const key = randomBytes(32);
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('fingerprint_key', ?)").run(key);
      return key;
    });
  }

  close(): void {
    this.commitBatch();
    // The checkpointer's connection first: the writer's close is then the last, which checkpoints and removes the WAL.
    this.checkpointer?.stop();
    if (this.db.isOpen) this.db.close();
  }
}
