// The PostgreSQL store: the SQLite store's contract (AsyncStore), for
// collectors that share one database. Writes of one turn share a transaction
// (group commit) on one connection, each write one round trip, and the reports
// among them one round trip together (applyReport is a server-side function);
// reads use the pool's other connections and see what is committed. Every
// query is parameterised; bigint columns come back as text and are read
// exactly (seq as bigint).
import { createHash, randomBytes } from "node:crypto";
import pg, { type PoolClient, type QueryConfig, type QueryResultRow } from "pg";
import type { Verdict } from "../../shared/finding.ts";
import { type PasswordSource, type PgTarget, postgresTarget, redact, storeError } from "./pg-connection.ts";
import { migrate } from "./pg-migrations.ts";
import type { AsyncStore, CredentialRow, CredentialUse, EventFilter, EventKind, EventRow, HistoryQuery, HistoryRows, NodeIdentityRow, NodeRow, RetentionPolicy, SilenceRow, StoredReport } from "./store.ts";
import { credentialUseFromRow, eventFromRow, nodeFromRow, NODES_WITH_CURRENT_REPORT, silenceFromRow, type Row } from "./store-rows.ts";

export { PgStoreError } from "./pg-connection.ts";

/** Most writes one group commit holds: bounds the work a failed commit loses and the wait for an ack. */
const MAX_BATCH = 500;

export interface PgStoreOptions extends PasswordSource {
  /** Connections: one writes at a time, the rest read. */
  poolSize?: number;
  /** Errors of idle connections (the server restarted): the pool replaces them; this only tells. Never holds the password. */
  onConnectionError?: (message: string) => void;
  /** Set when several collectors share the database: its report writes then need the node's lease (pg-leases.ts). */
  collectorId?: string;
  /**
   * The server ends a session whose transaction waits this long for its next statement: a hung
   * collector (stopped mid-commit) must not keep the row locks that stop another taking its nodes.
   */
  idleInTransactionTimeoutMs?: number;
}

interface Write {
  run(client: PoolClient): Promise<unknown>;
  /** An applyReport's arguments: reports next to each other in a batch are sent in one call. */
  report?: unknown[];
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** Committed alone (a prune): a long write does not hold back the acks of the reports around it. */
  solo: boolean;
}


/**
 * PostgreSQL text cannot hold U+0000, and its JSON parser refuses a lone
 * surrogate: both become U+FFFD in plain columns (UTF-8 encoding does the
 * latter anyway). JSON text (findings, event details) keeps them, escaped.
 */
const text = (value: string) => value.toWellFormed().replaceAll("\0", "\uFFFD");
const nullableText = (value: string | undefined) => (value === undefined ? null : text(value));
/** Milliseconds are whole numbers in bigint columns. */
const ms = (value: number) => Math.round(value);

export class PgStore implements AsyncStore {
  /** Where it is, as it may be logged (no password). */
  readonly description: string;
  private readonly pool: pg.Pool;
  private readonly target: PgTarget;
  private queue: Write[] = [];
  private draining = false;
  private closing: Promise<void> | undefined;
  private scheduled = false;
  /** Writes made and not yet settled (each rejects as its write does): what whenDurable waits for. */
  private readonly unsettled = new Set<Promise<unknown>>();

  private constructor(target: PgTarget, options: PgStoreOptions) {
    this.target = target;
    this.description = target.description;
    // The collector's name rides on every connection as a setting: clawfleet_apply_report checks its lease by it.
    const settings = [
      ...(options.collectorId ? [`-c clawfleet.collector=${options.collectorId}`] : []),
      ...(options.idleInTransactionTimeoutMs ? [`-c idle_in_transaction_session_timeout=${Math.round(options.idleInTransactionTimeoutMs)}`] : []),
    ];
    const named = settings.length > 0 ? { options: settings.join(" ") } : {};
    this.pool = new pg.Pool({ ...target.config, ...named, max: options.poolSize ?? 4 });
    this.pool.on("error", (error) => options.onConnectionError?.(storeError(target, error, "connection lost").message));
  }

  /** Connects and brings the schema up to this version; fails with what to do, never with the password. */
  static async open(db: string, options: PgStoreOptions = {}): Promise<PgStore> {
    const target = postgresTarget(db, options);
    const store = new PgStore(target, options);
    try {
      const client = await store.pool.connect();
      try {
        await migrate(client);
      } finally {
        client.release();
      }
    } catch (error) {
      await store.pool.end().catch(() => undefined);
      throw storeError(target, error, "cannot open the collector database");
    }
    return store;
  }

  private async read<R extends QueryResultRow>(query: QueryConfig): Promise<R[]> {
    try {
      return (await this.pool.query<R>(query)).rows;
    } catch (error) {
      throw storeError(this.target, error);
    }
  }

  /** Queues a write for the next group commit; settles when that commit has. */
  private write<T>(run: (client: PoolClient) => Promise<T>, solo = false, report?: unknown[]): Promise<T> {
    const settled = new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject, solo, report });
      if (!this.draining && !this.scheduled) {
        this.scheduled = true;
        // The end of this turn: every write made in it goes in one transaction.
        setImmediate(() => void this.drain());
      }
    });
    const tracked: Promise<unknown> = settled.finally(() => this.unsettled.delete(tracked));
    this.unsettled.add(tracked);
    // A caller may leave a write unawaited and learn of its failure from whenDurable: not an unhandled rejection.
    tracked.catch(() => undefined);
    return settled;
  }

  /** Commits batches until the queue is empty: writes made during a commit form the next batch. */
  private async drain(): Promise<void> {
    this.scheduled = false;
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const soloAt = this.queue.findIndex((w) => w.solo);
        const size = soloAt === 0 ? 1 : Math.min(MAX_BATCH, soloAt < 0 ? this.queue.length : soloAt);
        await this.commit(this.queue.splice(0, size));
      }
    } finally {
      this.draining = false;
    }
  }

  private async commit(batch: Write[]): Promise<void> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      const failure = storeError(this.target, error, "cannot reach the collector database");
      for (const w of batch) w.reject(failure);
      return;
    }
    let broken: Error | undefined;
    // A checked-out client's lost connection is an 'error' event as well as a failed query: the query tells the writes.
    const ignore = () => undefined;
    client.on("error", ignore);
    try {
      await client.query("BEGIN");
      const results: unknown[] = [];
      let failed = false;
      for (let i = 0; i < batch.length && !failed; ) {
        let reports = 0;
        while (batch[i + reports]?.report) reports++;
        try {
          if (reports > 1) {
            results.push(...(await applyReports(client, batch.slice(i, i + reports).map((w) => w.report!))));
            i += reports;
          } else {
            results.push(await batch[i]!.run(client));
            i++;
          }
        } catch (error) {
          failed = true;
          if (batch.length === 1) batch[0]!.reject(storeError(this.target, error));
        }
      }
      if (failed) {
        await client.query("ROLLBACK");
        // One write failed and the transaction with it: each again alone, so the others are stored.
        if (batch.length > 1) for (const w of batch) await this.commitAlone(client, w);
        return;
      }
      await client.query("COMMIT");
      batch.forEach((w, i) => w.resolve(results[i]));
    } catch (error) {
      // BEGIN, COMMIT or the connection failed: nothing of the batch is stored.
      broken = error as Error;
      await client.query("ROLLBACK").catch(() => undefined);
      const failure = storeError(this.target, error, "commit failed");
      for (const w of batch) w.reject(failure);
    } finally {
      client.off("error", ignore);
      client.release(broken);
    }
  }

  private async commitAlone(client: PoolClient, w: Write): Promise<void> {
    try {
      await client.query("BEGIN");
      const result = await w.run(client);
      await client.query("COMMIT");
      w.resolve(result);
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      w.reject(storeError(this.target, error));
    }
  }

  whenDurable(callback: (error?: Error) => void): void {
    if (this.unsettled.size === 0 && this.queue.length === 0) return callback();
    // The writes made so far; their failures are theirs, and the first is told.
    let first: Error | undefined;
    const waits = [...this.unsettled].map((p) => p.catch((error: Error) => (first ??= error)));
    void Promise.all(waits).then(() => callback(first));
  }

  upsertNode(identity: NodeIdentityRow, seenAtMs: number, clockSkewMs: number): Promise<bigint> {
    return this.write(async (client) => {
      const { rows } = await client.query<{ last_seq: string }>({
        name: "upsertNode",
        text: `INSERT INTO nodes (node_id, hostname, platform, agent_version, openclaw_version, first_seen_ms, last_seen_ms, clock_skew_ms, simulated)
               VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)
               ON CONFLICT (node_id) DO UPDATE SET hostname = excluded.hostname, platform = excluded.platform,
                 agent_version = excluded.agent_version, last_seen_ms = excluded.last_seen_ms, clock_skew_ms = excluded.clock_skew_ms, simulated = excluded.simulated,
                 openclaw_version = CASE WHEN excluded.openclaw_version = '' THEN nodes.openclaw_version ELSE excluded.openclaw_version END
               RETURNING last_seq`,
        values: [text(identity.nodeId), text(identity.hostname), text(identity.platform), text(identity.agentVersion), text(identity.openclawVersion), ms(seenAtMs), ms(clockSkewMs), identity.simulated === true],
      });
      return BigInt(rows[0]!.last_seq);
    });
  }

  applyReport(report: StoredReport, events: readonly EventRow[]): Promise<"stored" | "stored_old" | "duplicate"> {
    // The same body and hash as the SQLite store: identical finding sets share one row.
    const body = JSON.stringify({ findings: report.findings, credentials: report.credentials });
    const hash = createHash("sha256").update(body).digest("base64url").slice(0, 22);
    const credentials = JSON.stringify(report.credentials.map((c) => ({ kind: text(c.kind), source: text(c.source), fingerprint: text(c.fingerprint), subject: text(c.subject) })));
    const args = [
      text(report.nodeId), report.seq.toString(), ms(report.observedAtMs), ms(report.receivedAtMs), text(report.verdict), report.primaryIndex,
      hash, body, ms(report.durationMs), report.maySleep, ms(report.lastWakeMs), ms(report.lastSleepMs), text(report.openclawVersion),
      credentials, eventsJson(events),
    ];
    return this.write(async (client) => (await applyReports(client, [args]))[0]!, false, args);
  }

  appendEvents(events: readonly EventRow[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    const rows = eventsJson(events);
    return this.write(async (client) => {
      await client.query({
        name: "appendEvents",
        text: `INSERT INTO events (node_id, at_ms, kind, layer, code, detail_json, detail_kind)
               SELECT e.node_id, e.at_ms, e.kind, e.layer, e.code, e.detail, e.detail_kind
               FROM ROWS FROM (json_to_recordset($1::json) AS (node_id text, at_ms bigint, kind text, layer text, code text, detail text, detail_kind text))
                 WITH ORDINALITY AS e(node_id, at_ms, kind, layer, code, detail, detail_kind, n)
               ORDER BY e.n`,
        values: [rows],
      });
    });
  }

  openSilence(nodeId: string, startedMs: number, label: SilenceRow["label"]): Promise<void> {
    return this.openSilences([{ nodeId, startedMs, label }]);
  }

  openSilences(silences: readonly Pick<SilenceRow, "nodeId" | "startedMs" | "label">[]): Promise<void> {
    if (silences.length === 0) return Promise.resolve();
    const rows = JSON.stringify(silences.map((s) => ({ node_id: text(s.nodeId), started_ms: ms(s.startedMs), label: text(s.label) })));
    return this.write(async (client) => {
      await client.query({
        name: "openSilences",
        text: `INSERT INTO silences (node_id, started_ms, label)
               SELECT s.node_id, s.started_ms, s.label
               FROM ROWS FROM (json_to_recordset($1::json) AS (node_id text, started_ms bigint, label text)) WITH ORDINALITY AS s(node_id, started_ms, label, n)
               ORDER BY s.n`,
        values: [rows],
      });
    });
  }

  closeSilence(nodeId: string, endedMs: number): Promise<SilenceRow | undefined> {
    return this.write(async (client) => {
      const { rows } = await client.query<Row>({
        name: "closeSilence",
        text: `WITH closed AS (UPDATE silences SET ended_ms = $2 WHERE node_id = $1 AND ended_ms IS NULL RETURNING *)
               SELECT * FROM closed ORDER BY id DESC LIMIT 1`,
        values: [text(nodeId), ms(endedMs)],
      });
      return rows[0] ? silenceFromRow(rows[0]) : undefined;
    });
  }

  relabelSilence(id: number, label: SilenceRow["label"]): Promise<void> {
    return this.write(async (client) => {
      await client.query({ name: "relabelSilence", text: "UPDATE silences SET label = $1, relabelled = true WHERE id = $2", values: [text(label), id] });
    });
  }

  async silences(nodeId: string, limit: number): Promise<SilenceRow[]> {
    const rows = await this.read<Row>({ name: "silences", text: "SELECT * FROM silences WHERE node_id = $1 ORDER BY started_ms DESC, id DESC LIMIT $2", values: [text(nodeId), limit] });
    return rows.map(silenceFromRow);
  }

  async listNodes(): Promise<NodeRow[]> {
    const rows = await this.read<Row>({
      name: "listNodes",
      text: NODES_WITH_CURRENT_REPORT,
    });
    return rows.map(nodeFromRow);
  }

  async events(filter: EventFilter): Promise<EventRow[]> {
    const where = ["at_ms >= $1"];
    const values: (string | number)[] = [ms(filter.sinceMs)];
    const param = (value: string | number) => `$${values.push(value)}`;
    if (filter.nodeId !== undefined) where.push(`node_id = ${param(text(filter.nodeId))}`);
    if (filter.kind !== undefined) where.push(`kind = ${param(filter.kind)}`);
    if (filter.before) where.push(`(at_ms, id) < (${param(ms(filter.before.atMs))}, ${param(filter.before.id)})`);
    const shape = `events:${filter.nodeId !== undefined ? "n" : ""}${filter.kind !== undefined ? "k" : ""}${filter.before ? "b" : ""}`;
    const rows = await this.read<Row>({ name: shape, text: `SELECT * FROM events WHERE ${where.join(" AND ")} ORDER BY at_ms DESC, id DESC LIMIT ${param(filter.limit)}`, values });
    return rows.map(eventFromRow);
  }

  async history(query: HistoryQuery): Promise<HistoryRows> {
    if (query.nodeIds.length === 0 || query.kinds.length === 0) return { events: [], silences: [] };
    const nodes = query.nodeIds.map(text);
    // Per node the newest `perNodeLimit`, each read through events_node_kind: bounded by the nodes asked for, not by the log.
    const events = await this.read<Row>({
      name: "historyEvents",
      text: `SELECT e.* FROM (SELECT DISTINCT unnest($1::text[]) AS node_id) w
             CROSS JOIN LATERAL (SELECT * FROM events e WHERE e.node_id = w.node_id AND e.kind = ANY($2::text[]) AND e.at_ms >= $3
                                 ORDER BY e.at_ms DESC, e.id DESC LIMIT $4) e
             ORDER BY e.node_id, e.at_ms, e.id`,
      values: [nodes, query.kinds, ms(query.sinceMs), query.perNodeLimit],
    });
    // The silences that start in the window, and per node the one before it if it lasted into the window.
    const silences = await this.read<Row>({
      name: "historySilences",
      text: `WITH wanted AS (SELECT DISTINCT unnest($1::text[]) AS node_id),
             overlapping AS (
               SELECT s.* FROM wanted w JOIN silences s ON s.node_id = w.node_id AND s.started_ms >= $2
               UNION ALL
               SELECT s.* FROM wanted w CROSS JOIN LATERAL (
                 SELECT p.* FROM silences p WHERE p.node_id = w.node_id AND p.started_ms < $2 ORDER BY p.started_ms DESC, p.id DESC LIMIT 1) s
               WHERE s.ended_ms IS NULL OR s.ended_ms > $2
             )
             SELECT * FROM (SELECT o.*, row_number() OVER (PARTITION BY o.node_id ORDER BY o.started_ms DESC, o.id DESC) AS n FROM overlapping o) x
             WHERE n <= $3 ORDER BY node_id, started_ms, id`,
      values: [nodes, ms(query.sinceMs), query.perNodeLimit],
    });
    return { events: events.map(eventFromRow), silences: silences.map(silenceFromRow) };
  }

  async rotationCounts(): Promise<{ nodeId: string; kind: string; count: number }[]> {
    const rows = await this.read<Row>({
      name: "rotationCounts",
      text: "SELECT node_id, detail_kind AS kind, count(*) AS n FROM events WHERE kind = 'credential_rotated' GROUP BY 1, 2",
    });
    return rows.map((row) => ({ nodeId: row.node_id as string, kind: (row.kind as string | null) ?? "unknown", count: Number(row.n) }));
  }

  async credentialUses(filter: { nodeId?: string; activeOnly?: boolean } = {}): Promise<CredentialUse[]> {
    const where = [...(filter.nodeId !== undefined ? ["c.node_id = $1"] : []), ...(filter.activeOnly ? ["c.retired_ms IS NULL"] : [])];
    const shape = `credentials:${filter.nodeId !== undefined ? "n" : ""}${filter.activeOnly ? "a" : ""}`;
    // An active use was last seen when its node last was (reports leave an unchanged set unwritten).
    const rows = await this.read<Row>({
      name: shape,
      text: `SELECT c.*, CASE WHEN c.retired_ms IS NULL THEN greatest(c.last_seen_ms, coalesce(n.last_seen_ms, 0)) ELSE c.last_seen_ms END AS seen_ms
             FROM credentials c LEFT JOIN nodes n ON n.node_id = c.node_id
             ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY c.fingerprint, c.node_id, c.first_seen_ms`,
      values: filter.nodeId !== undefined ? [text(filter.nodeId)] : [],
    });
    return rows.map(credentialUseFromRow);
  }

  prune(policy: RetentionPolicy, nowMs: number): Promise<{ reports: number; events: number }> {
    return this.write(async (client) => {
      // Never delete a node's current report: it is its state.
      const reports = await client.query({
        name: "pruneReports",
        text: "DELETE FROM reports r WHERE r.received_at_ms < $1 AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.node_id = r.node_id AND n.current_seq = r.seq)",
        values: [ms(nowMs - policy.reportsMaxAgeMs)],
      });
      await client.query({ name: "pruneBodies", text: "DELETE FROM report_bodies b WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.body_hash = b.hash)" });
      const byAge = await client.query({ name: "pruneEventsAge", text: "DELETE FROM events WHERE at_ms < $1", values: [ms(nowMs - policy.eventsMaxAgeMs)] });
      const byCount = await client.query({ name: "pruneEventsRows", text: "DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - $1", values: [policy.eventsMaxRows] });
      return { reports: reports.rowCount ?? 0, events: (byAge.rowCount ?? 0) + (byCount.rowCount ?? 0) };
    }, true);
  }

  async eventCount(): Promise<number> {
    const rows = await this.read<{ n: string }>({ name: "eventCount", text: "SELECT count(*) AS n FROM events" });
    return Number(rows[0]!.n);
  }

  async fingerprintKey(): Promise<Uint8Array> {
    // The first collector's key wins; every other reads it (two statements: the read must see a concurrent insert).
    await this.read({ name: "offerKey", text: "INSERT INTO meta (key, value) VALUES ('fingerprint_key', $1) ON CONFLICT (key) DO NOTHING", values: [randomBytes(32)] });
    const rows = await this.read<{ value: Buffer }>({ name: "readKey", text: "SELECT value FROM meta WHERE key = 'fingerprint_key'" });
    return new Uint8Array(rows[0]!.value);
  }

  /** Commits what is queued, then closes the connections; once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await new Promise<void>((resolve) => this.whenDurable(() => resolve()));
      await this.pool.end().catch((error: Error) => {
        throw new Error(redact(error.message, this.target.password));
      });
    })();
    return this.closing;
  }
}

type Outcome = "stored" | "stored_old" | "duplicate";

/**
 * Reports in one round trip: clawfleet_apply_reports takes each argument as an array (one element a report) and
 * applies them in order. A failure fails the call, and the batch is then retried a write at a time.
 */
async function applyReports(client: PoolClient, reports: unknown[][]): Promise<Outcome[]> {
  const columns = reports[0]!.map((_, i) => reports.map((args) => args[i]));
  const { rows } = await client.query<{ outcomes: Outcome[] }>({
    name: "applyReports",
    text: `SELECT clawfleet_apply_reports($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::integer[], $7::text[], $8::text[],
             $9::bigint[], $10::boolean[], $11::bigint[], $12::bigint[], $13::text[], $14::json[], $15::json[]) AS outcomes`,
    values: columns,
  });
  return rows[0]!.outcomes;
}

/** Events as json_to_recordset reads them: the detail as its JSON text, and its `kind` apart (rotationCounts). */
function eventsJson(events: readonly EventRow[]): string {
  return JSON.stringify(
    events.map((e) => ({
      node_id: text(e.nodeId), at_ms: ms(e.atMs), kind: text(e.kind), layer: nullableText(e.layer), code: nullableText(e.code),
      detail: JSON.stringify(e.detail), detail_kind: e.detail.kind === undefined ? null : text(String(e.detail.kind)),
    })),
  );
}
