// Rows of the event log and the silences as both stores read them back: the
// same columns in SQLite and PostgreSQL (a boolean is 0/1 in one, true/false
// in the other; Number() reads both).
import type { CredentialUse, EventKind, EventRow, SilenceRow } from "./store.ts";

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
