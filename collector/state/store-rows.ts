// Rows of the event log and the silences as both stores read them back: the
// same columns in SQLite and PostgreSQL (a boolean is 0/1 in one, true/false
// in the other; Number() reads both).
import type { Verdict } from "../../shared/finding.ts";
import type { CredentialUse, EventKind, EventRow, NodeRow, SilenceRow, StoredReport } from "./store.ts";

export type Row = Record<string, unknown>;

export function eventFromRow(row: Row): EventRow {
  return {
    id: Number(row.id),
    nodeId: row.node_id as string,
    atMs: Number(row.at_ms),
    kind: row.kind as EventKind,
    layer: (row.layer as string | null) ?? undefined,
    code: (row.code as string | null) ?? undefined,
    detail: JSON.parse(row.detail_json as string),
  };
}

export function silenceFromRow(row: Row): SilenceRow {
  return {
    id: Number(row.id),
    nodeId: row.node_id as string,
    startedMs: Number(row.started_ms),
    endedMs: row.ended_ms === null ? undefined : Number(row.ended_ms),
    label: row.label as SilenceRow["label"],
    relabelled: Number(row.relabelled) === 1,
  };
}

/** A credential use with `seen_ms`: its own last sighting, or for one in use the node's (both stores compute it in SQL). */
export function credentialUseFromRow(row: Row): CredentialUse {
  return {
    nodeId: row.node_id as string,
    kind: row.kind as string,
    source: row.source as string,
    fingerprint: row.fingerprint as string,
    subject: row.subject as string,
    firstSeenMs: Number(row.first_seen_ms),
    lastSeenMs: Number(row.seen_ms),
    retiredMs: row.retired_ms === null ? undefined : Number(row.retired_ms),
  };
}

/** Every node with its current report and that report's body, one row each: the columns nodeFromRow reads (same SQL in both engines). */
export const NODES_WITH_CURRENT_REPORT = `SELECT n.*, r.seq AS r_seq, r.observed_at_ms, r.received_at_ms, r.verdict, r.primary_index, r.duration_ms, r.may_sleep,
    r.last_wake_ms, r.last_sleep_ms, r.openclaw_version AS r_openclaw_version, b.body_json
  FROM nodes n
  LEFT JOIN reports r ON n.current_seq > 0 AND r.node_id = n.node_id AND r.seq = n.current_seq
  LEFT JOIN report_bodies b ON b.hash = r.body_hash
  ORDER BY n.node_id`;

/**
 * A node with its current report, as both stores' listNodes read it: `nodes n` joined to its report (`r.seq AS
 * r_seq`, `r.openclaw_version AS r_openclaw_version`, the rest of `r` as is) and the report's body.
 */
export function nodeFromRow(row: Row): NodeRow {
  return {
    nodeId: row.node_id as string,
    hostname: row.hostname as string,
    platform: row.platform as string,
    agentVersion: row.agent_version as string,
    openclawVersion: row.openclaw_version as string,
    simulated: Number(row.simulated) === 1,
    firstSeenMs: Number(row.first_seen_ms),
    lastSeenMs: Number(row.last_seen_ms),
    lastSeq: BigInt(row.last_seq as bigint | string),
    clockSkewMs: Number(row.clock_skew_ms),
    current: typeof row.body_json === "string" ? currentReportFromRow(row) : undefined,
  };
}

function currentReportFromRow(row: Row): StoredReport {
  const body = JSON.parse(row.body_json as string) as Pick<StoredReport, "findings" | "credentials">;
  return {
    nodeId: row.node_id as string,
    seq: BigInt(row.r_seq as bigint | string),
    observedAtMs: Number(row.observed_at_ms),
    receivedAtMs: Number(row.received_at_ms),
    verdict: row.verdict as Verdict,
    primaryIndex: Number(row.primary_index),
    findings: body.findings,
    credentials: body.credentials ?? [],
    durationMs: Number(row.duration_ms),
    maySleep: Number(row.may_sleep) === 1,
    lastWakeMs: Number(row.last_wake_ms),
    lastSleepMs: Number(row.last_sleep_ms),
    openclawVersion: row.r_openclaw_version as string,
  };
}
