// Rows of the event log and the silences as both stores read them back: the
// same columns in SQLite and PostgreSQL (a boolean is 0/1 in one, true/false
// in the other; Number() reads both).
import type { EventKind, EventRow, SilenceRow } from "./store.ts";

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
