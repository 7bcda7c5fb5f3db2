// The embedded store: one SQLite file (node:sqlite), WAL, versioned migrations.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Finding, Verdict } from "../../shared/finding.ts";
import type { NodeIdentityRow, NodeRow, Store, StoredReport } from "./store.ts";

/** Each entry upgrades the schema by one version; never edit a released one. */
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
     last_seq INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE reports (
     node_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     observed_at_ms INTEGER NOT NULL,
     received_at_ms INTEGER NOT NULL,
     verdict TEXT NOT NULL,
     primary_index INTEGER NOT NULL,
     findings_json TEXT NOT NULL,
     duration_ms INTEGER NOT NULL,
     may_sleep INTEGER NOT NULL,
     last_wake_ms INTEGER NOT NULL,
     PRIMARY KEY (node_id, seq)
   ) WITHOUT ROWID;`,
];

export class StoreError extends Error {}

interface ReportRecord {
  node_id: string;
  seq: bigint;
  observed_at_ms: number;
  received_at_ms: number;
  verdict: string;
  primary_index: number;
  findings_json: string;
  duration_ms: number;
  may_sleep: number;
  last_wake_ms: number;
}

export class SqliteStore implements Store {
  private readonly db: DatabaseSync;
  private readonly statements: {
    upsertNode: StatementSync;
    nodeSeq: StatementSync;
    insertReport: StatementSync;
    raiseSeq: StatementSync;
    listNodes: StatementSync;
    currentReport: StatementSync;
  };

  readonly path: string;

  constructor(path: string) {
    this.path = path;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    try {
      this.db = new DatabaseSync(path);
      this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
      this.migrate();
    } catch (error) {
      throw new StoreError(`${path}: cannot open the collector database (${(error as Error).message}); move it aside to start with an empty one`);
    }

    this.statements = {
      upsertNode: this.db.prepare(
        `INSERT INTO nodes (node_id, hostname, platform, agent_version, openclaw_version, first_seen_ms, last_seen_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (node_id) DO UPDATE SET hostname = excluded.hostname, platform = excluded.platform,
           agent_version = excluded.agent_version, openclaw_version = excluded.openclaw_version, last_seen_ms = excluded.last_seen_ms`,
      ),
      nodeSeq: this.db.prepare("SELECT last_seq FROM nodes WHERE node_id = ?"),
      insertReport: this.db.prepare(
        `INSERT OR IGNORE INTO reports (node_id, seq, observed_at_ms, received_at_ms, verdict, primary_index, findings_json, duration_ms, may_sleep, last_wake_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      raiseSeq: this.db.prepare("UPDATE nodes SET last_seq = max(last_seq, ?), last_seen_ms = max(last_seen_ms, ?) WHERE node_id = ?"),
      listNodes: this.db.prepare("SELECT * FROM nodes ORDER BY node_id"),
      currentReport: this.db.prepare("SELECT * FROM reports WHERE node_id = ? AND seq = ?"),
    };
    // Integers come back as bigint so sequence numbers never lose precision.
    for (const statement of [this.statements.nodeSeq, this.statements.listNodes, this.statements.currentReport]) statement.setReadBigInts(true);
  }

  private migrate(): void {
    this.db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)");
    const row = this.db.prepare("SELECT max(version) AS version FROM schema_migrations").get() as { version: number | null };
    const current = row.version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new StoreError(`schema version ${current} is newer than this clawfleet (${MIGRATIONS.length}); upgrade clawfleet`);
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        this.db.exec(MIGRATIONS[version - 1]!);
        this.db.prepare("INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?, ?)").run(version, Date.now());
        this.db.exec("COMMIT");
      } catch (error) {
        this.db.exec("ROLLBACK");
        throw error;
      }
    }
  }

  upsertNode(identity: NodeIdentityRow, seenAtMs: number): bigint {
    this.statements.upsertNode.run(identity.nodeId, identity.hostname, identity.platform, identity.agentVersion, identity.openclawVersion, seenAtMs, seenAtMs);
    return (this.statements.nodeSeq.get(identity.nodeId) as { last_seq: bigint }).last_seq;
  }

  recordReport(report: StoredReport): "stored" | "duplicate" {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = this.statements.insertReport.run(
        report.nodeId, report.seq, report.observedAtMs, report.receivedAtMs, report.verdict, report.primaryIndex,
        JSON.stringify(report.findings), report.durationMs, report.maySleep ? 1 : 0, report.lastWakeMs,
      );
      if (result.changes === 0) {
        this.db.exec("COMMIT");
        return "duplicate";
      }
      this.statements.raiseSeq.run(report.seq, report.receivedAtMs, report.nodeId);
      this.db.exec("COMMIT");
      return "stored";
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }

  listNodes(): NodeRow[] {
    return (this.statements.listNodes.all() as Record<string, unknown>[]).map((row) => {
      const lastSeq = row.last_seq as bigint;
      const current = lastSeq > 0n ? (this.statements.currentReport.get(row.node_id as string, lastSeq) as ReportRecord | undefined) : undefined;
      return {
        nodeId: row.node_id as string,
        hostname: row.hostname as string,
        platform: row.platform as string,
        agentVersion: row.agent_version as string,
        openclawVersion: row.openclaw_version as string,
        firstSeenMs: Number(row.first_seen_ms),
        lastSeenMs: Number(row.last_seen_ms),
        lastSeq,
        current: current ? reportFromRecord(current) : undefined,
      };
    });
  }

  fingerprintKey(): Uint8Array {
    const existing = this.db.prepare("SELECT value FROM meta WHERE key = 'fingerprint_key'").get() as { value: Uint8Array } | undefined;
    if (existing) return existing.value;
    const key = randomBytes(32);
    this.db.prepare("INSERT INTO meta (key, value) VALUES ('fingerprint_key', ?)").run(key);
    return key;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}

function reportFromRecord(row: ReportRecord): StoredReport {
  return {
    nodeId: row.node_id,
    seq: BigInt(row.seq),
    observedAtMs: Number(row.observed_at_ms),
    receivedAtMs: Number(row.received_at_ms),
    verdict: row.verdict as Verdict,
    primaryIndex: Number(row.primary_index),
    findings: JSON.parse(row.findings_json) as Finding[],
    durationMs: Number(row.duration_ms),
    maySleep: Number(row.may_sleep) === 1,
    lastWakeMs: Number(row.last_wake_ms),
  };
}
