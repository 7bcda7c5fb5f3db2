// The PostgreSQL store's schema, versioned as SQLite's is: each entry upgrades it
// by one version, in one transaction, never edited once shipped. Collectors that
// start together on one database take turns (an advisory lock), so each version
// is applied once.
import type { PoolClient } from "pg";
import { PgStoreError } from "./pg-connection.ts";
import { LEASE_LOST_SQLSTATE } from "./lease-errors.ts";

/** The first key of every collector's presence lock (the second is the collector's own): "claw" as a number. */
export const PRESENCE_LOCK_CLASS = 0x636c6178;

// Text is compared byte by byte (COLLATE "C"), as SQLite does: orderings match
// the SQLite store's whatever locale the database was created with.
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL);
   CREATE TABLE nodes (
     node_id text COLLATE "C" PRIMARY KEY,
     hostname text NOT NULL,
     platform text NOT NULL,
     agent_version text NOT NULL,
     openclaw_version text NOT NULL,
     first_seen_ms bigint NOT NULL,
     last_seen_ms bigint NOT NULL,
     last_seq bigint NOT NULL DEFAULT 0,
     current_seq bigint NOT NULL DEFAULT 0,
     clock_skew_ms bigint NOT NULL DEFAULT 0,
     simulated boolean NOT NULL DEFAULT false
   );
   CREATE TABLE report_bodies (hash text COLLATE "C" PRIMARY KEY, body_json text NOT NULL);
   CREATE TABLE reports (
     node_id text COLLATE "C" NOT NULL,
     seq bigint NOT NULL,
     observed_at_ms bigint NOT NULL,
     received_at_ms bigint NOT NULL,
     verdict text NOT NULL,
     primary_index integer NOT NULL,
     body_hash text COLLATE "C" NOT NULL,
     duration_ms bigint NOT NULL,
     may_sleep boolean NOT NULL,
     last_wake_ms bigint NOT NULL,
     last_sleep_ms bigint NOT NULL,
     openclaw_version text NOT NULL,
     PRIMARY KEY (node_id, seq)
   );
   CREATE INDEX reports_received ON reports (received_at_ms);
   -- Pruning bodies asks which are still used: an anti-join on this, not a scan per body.
   CREATE INDEX reports_body ON reports (body_hash);
   CREATE TABLE events (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     node_id text COLLATE "C" NOT NULL,
     at_ms bigint NOT NULL,
     kind text COLLATE "C" NOT NULL,
     layer text,
     code text,
     detail_json text NOT NULL,
     -- detail.kind, set on insert: rotations are counted by it without parsing JSON (a NUL escaped anywhere in a
     -- detail makes PostgreSQL's ->> refuse the whole row).
     detail_kind text
   );
   CREATE INDEX events_at ON events (at_ms, id);
   CREATE INDEX events_kind ON events (kind, at_ms, id);
   CREATE INDEX events_node_kind ON events (node_id, kind, at_ms, id);
   CREATE INDEX events_node ON events (node_id, at_ms, id);
   CREATE TABLE credentials (
     node_id text COLLATE "C" NOT NULL,
     kind text COLLATE "C" NOT NULL,
     source text COLLATE "C" NOT NULL,
     fingerprint text COLLATE "C" NOT NULL,
     subject text NOT NULL,
     first_seen_ms bigint NOT NULL,
     last_seen_ms bigint NOT NULL,
     retired_ms bigint,
     PRIMARY KEY (node_id, kind, source, fingerprint)
   );
   CREATE INDEX credentials_fingerprint ON credentials (fingerprint);
   CREATE TABLE silences (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     node_id text COLLATE "C" NOT NULL,
     started_ms bigint NOT NULL,
     ended_ms bigint,
     label text NOT NULL,
     relabelled boolean NOT NULL DEFAULT false
   );
   CREATE INDEX silences_node ON silences (node_id, started_ms);
   ${applyReportFunction()}
   -- Many reports in one call (one round trip for a batch's reports): argument i of each array is report i's.
   CREATE FUNCTION clawfleet_apply_reports(
     p_node text[], p_seq bigint[], p_observed bigint[], p_received bigint[], p_verdict text[], p_primary integer[],
     p_hash text[], p_body text[], p_duration bigint[], p_may_sleep boolean[], p_wake bigint[], p_sleep bigint[], p_version text[],
     p_credentials json[], p_events json[]) RETURNS text[] LANGUAGE plpgsql AS $fn$
   DECLARE
     v_outcomes text[] := '{}';
   BEGIN
     -- Bodies are shared across nodes, so collectors writing at once insert the same ones: taken in one order
     -- (by hash) they wait for each other instead of deadlocking. A duplicate's body may stay unused: prune drops it.
     INSERT INTO report_bodies (hash, body_json)
       SELECT DISTINCT ON (b.hash) b.hash, b.body FROM unnest(p_hash, p_body) AS b(hash, body) ORDER BY b.hash
     ON CONFLICT (hash) DO NOTHING;
     FOR i IN 1 .. coalesce(array_length(p_node, 1), 0) LOOP
       v_outcomes := v_outcomes || clawfleet_apply_report(p_node[i], p_seq[i], p_observed[i], p_received[i], p_verdict[i], p_primary[i],
         p_hash[i], p_body[i], p_duration[i], p_may_sleep[i], p_wake[i], p_sleep[i], p_version[i], p_credentials[i], p_events[i]);
     END LOOP;
     RETURN v_outcomes;
   END
   $fn$;`,
  // Several collectors on one database (pg-leases.ts): a node's stream is held by one collector at a time.
  `CREATE TABLE node_leases (
     node_id text COLLATE "C" PRIMARY KEY,
     collector text COLLATE "C" NOT NULL,
     -- The holder's presence lock (a session advisory lock it holds while its process lives).
     presence integer NOT NULL,
     expires_at timestamptz NOT NULL
   );
   CREATE INDEX node_leases_collector ON node_leases (collector);
   -- A collector is alive while its session holds its presence lock: a killed process's connection closes and
   -- PostgreSQL drops the lock at once, so its leases are free before they expire.
   CREATE FUNCTION clawfleet_collector_alive(p_presence integer) RETURNS boolean LANGUAGE sql STABLE AS $fn$
     SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = ${PRESENCE_LOCK_CLASS} AND objid = p_presence::bigint::oid
                    AND objsubid = 2 AND granted)
   $fn$;
   ${applyReportFunction({ leaseGuard: true })}`,
];

/**
 * A report, its body, the node's credential set and its events in one round
 * trip: the SQLite store's applyReport, server-side (six statements a report
 * were six round trips). Credentials and events come as JSON arrays of rows
 * (detail already JSON text); the answer is stored, stored_old or duplicate.
 */
function applyReportFunction(options: { leaseGuard?: boolean } = {}): string {
  // Version 2: a collector (its connections name it in clawfleet.collector, pg-store.ts) writes a node's report only
  // while it holds the node's lease, checked in the report's own transaction; the lease row is share-locked, so
  // another collector cannot take it over until this transaction ends.
  const guard = options.leaseGuard
    ? `
     v_collector := current_setting('clawfleet.collector', true);
     IF coalesce(v_collector, '') <> '' AND NOT EXISTS (
         SELECT 1 FROM node_leases l WHERE l.node_id = p_node AND l.collector = v_collector AND l.expires_at > now() FOR SHARE) THEN
       RAISE EXCEPTION 'collector % does not hold the lease of node %', v_collector, p_node USING ERRCODE = '${LEASE_LOST_SQLSTATE}';
     END IF;`
    : "";
  return `CREATE ${options.leaseGuard ? "OR REPLACE " : ""}FUNCTION clawfleet_apply_report(
     p_node text, p_seq bigint, p_observed bigint, p_received bigint, p_verdict text, p_primary integer,
     p_hash text, p_body text, p_duration bigint, p_may_sleep boolean, p_wake bigint, p_sleep bigint, p_version text,
     p_credentials json, p_events json) RETURNS text LANGUAGE plpgsql AS $fn$
   DECLARE
     v_current bigint;${options.leaseGuard ? "\n     v_collector text;" : ""}
   BEGIN${guard}
     INSERT INTO reports (node_id, seq, observed_at_ms, received_at_ms, verdict, primary_index, body_hash, duration_ms, may_sleep, last_wake_ms, last_sleep_ms, openclaw_version)
     VALUES (p_node, p_seq, p_observed, p_received, p_verdict, p_primary, p_hash, p_duration, p_may_sleep, p_wake, p_sleep, p_version)
     ON CONFLICT (node_id, seq) DO NOTHING;
     IF NOT FOUND THEN RETURN 'duplicate'; END IF;
     INSERT INTO report_bodies (hash, body_json) VALUES (p_hash, p_body) ON CONFLICT (hash) DO NOTHING;
     -- The node row is locked: reports of one node are applied one at a time whoever writes them.
     SELECT current_seq INTO v_current FROM nodes WHERE node_id = p_node FOR UPDATE;
     IF FOUND AND p_seq <= v_current THEN
       UPDATE nodes SET last_seq = greatest(last_seq, p_seq), last_seen_ms = greatest(last_seen_ms, p_received) WHERE node_id = p_node;
       RETURN 'stored_old';
     END IF;
     -- Before the node row moves on: a retired use was last seen when the node last was, before this report.
     UPDATE credentials c SET retired_ms = p_received,
         last_seen_ms = greatest(c.last_seen_ms, (SELECT n.last_seen_ms FROM nodes n WHERE n.node_id = p_node))
       WHERE c.node_id = p_node AND c.retired_ms IS NULL
         AND NOT EXISTS (SELECT 1 FROM json_to_recordset(p_credentials) AS r(kind text, source text, fingerprint text)
                         WHERE r.kind = c.kind AND r.source = c.source AND r.fingerprint = c.fingerprint);
     -- New fingerprints (or retired ones back, or a new subject); an unchanged set writes nothing. The last of a
     -- credential listed twice wins, as in SQLite's row-by-row upsert.
     INSERT INTO credentials (node_id, kind, source, fingerprint, subject, first_seen_ms, last_seen_ms)
       SELECT DISTINCT ON (r.kind, r.source, r.fingerprint) p_node, r.kind, r.source, r.fingerprint, r.subject, p_received, p_received
       FROM ROWS FROM (json_to_recordset(p_credentials) AS (kind text, source text, fingerprint text, subject text)) WITH ORDINALITY AS r(kind, source, fingerprint, subject, n)
       WHERE NOT EXISTS (SELECT 1 FROM credentials c WHERE c.node_id = p_node AND c.kind = r.kind AND c.source = r.source
                         AND c.fingerprint = r.fingerprint AND c.retired_ms IS NULL AND c.subject = r.subject)
       ORDER BY r.kind, r.source, r.fingerprint, r.n DESC
     ON CONFLICT (node_id, kind, source, fingerprint) DO UPDATE SET last_seen_ms = excluded.last_seen_ms, subject = excluded.subject, retired_ms = NULL;
     UPDATE nodes SET last_seq = greatest(last_seq, p_seq), current_seq = p_seq, last_seen_ms = greatest(last_seen_ms, p_received),
         openclaw_version = CASE WHEN p_version = '' THEN openclaw_version ELSE p_version END
       WHERE node_id = p_node;
     INSERT INTO events (node_id, at_ms, kind, layer, code, detail_json, detail_kind)
       SELECT e.node_id, e.at_ms, e.kind, e.layer, e.code, e.detail, e.detail_kind
       FROM ROWS FROM (json_to_recordset(p_events) AS (node_id text, at_ms bigint, kind text, layer text, code text, detail text, detail_kind text))
         WITH ORDINALITY AS e(node_id, at_ms, kind, layer, code, detail, detail_kind, n)
       ORDER BY e.n;
     RETURN 'stored';
   END
   $fn$;`;
}

/** Any number: all clawfleet collectors on one database agree on it (the low half of a hash of the name). */
const MIGRATION_LOCK = 0x636c6177;

export async function migrate(client: PoolClient): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at_ms bigint NOT NULL)");
    const { rows } = await client.query<{ version: number | null }>("SELECT max(version) AS version FROM schema_migrations");
    const current = rows[0]?.version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new PgStoreError(`schema version ${current} is newer than this clawfleet (${MIGRATIONS.length}); upgrade clawfleet`);
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      // One transaction for all pending versions: PostgreSQL's DDL is transactional, so a failure leaves none applied.
      await client.query(MIGRATIONS[version - 1]!);
      await client.query("INSERT INTO schema_migrations (version, applied_at_ms) VALUES ($1, $2)", [version, Date.now()]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
