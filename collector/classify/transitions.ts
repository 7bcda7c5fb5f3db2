// What changed between a node's previous report and its new one, as events
// for the log: layers, findings, credentials (rotations), versions.
import { activeProblems, layerStatuses } from "./node-state.ts";
import type { CredentialRow, EventRow, StoredReport } from "../state/store.ts";

export function reportTransitions(previous: StoredReport | undefined, next: StoredReport): EventRow[] {
  const at = next.receivedAtMs;
  const nodeId = next.nodeId;
  const events: EventRow[] = [];

  if (previous) {
    const before = layerStatuses(previous.findings);
    const after = layerStatuses(next.findings);
    for (const layer of new Set([...before.keys(), ...after.keys()])) {
      const from = before.get(layer) ?? "none";
      const to = after.get(layer) ?? "none";
      if (from !== to) events.push({ nodeId, atMs: at, kind: "layer_change", layer, detail: { from, to } });
    }
  }

  const key = (f: { layer: string; code: string }) => `${f.layer}/${f.code}`;
  const was = new Map((previous ? activeProblems(previous.findings) : []).map((f) => [key(f), f]));
  const now = new Map(activeProblems(next.findings).map((f) => [key(f), f]));
  for (const [k, f] of now) if (!was.has(k)) events.push({ nodeId, atMs: at, kind: "finding_raised", layer: f.layer, code: f.code, detail: { status: f.status, summary: f.summary.slice(0, 300) } });
  for (const [k, f] of was) if (!now.has(k)) events.push({ nodeId, atMs: at, kind: "finding_cleared", layer: f.layer, code: f.code, detail: {} });

  events.push(...credentialTransitions(nodeId, at, previous?.credentials ?? [], next.credentials));

  if (previous?.openclawVersion && next.openclawVersion && previous.openclawVersion !== next.openclawVersion) {
    events.push({ nodeId, atMs: at, kind: "version_change", detail: { component: "openclaw", from: previous.openclawVersion, to: next.openclawVersion } });
  }
  return events;
}

/** A rotation is a source whose fingerprint changed; the audit trail keeps both, never a secret. */
export function credentialTransitions(nodeId: string, atMs: number, before: readonly CredentialRow[], after: readonly CredentialRow[]): EventRow[] {
  const bySource = (list: readonly CredentialRow[]) => {
    const map = new Map<string, CredentialRow[]>();
    for (const c of list) map.set(`${c.kind}\0${c.source}`, [...(map.get(`${c.kind}\0${c.source}`) ?? []), c]);
    return map;
  };
  const was = bySource(before);
  const now = bySource(after);
  const events: EventRow[] = [];
  for (const [k, list] of now) {
    const previous = was.get(k);
    const c = list[0]!;
    const fingerprints = list.map((x) => x.fingerprint).sort().join(",");
    if (!previous) events.push({ nodeId, atMs, kind: "credential_added", detail: { kind: c.kind, source: c.source, subject: c.subject, to: fingerprints } });
    else {
      const old = previous.map((x) => x.fingerprint).sort().join(",");
      if (old !== fingerprints) events.push({ nodeId, atMs, kind: "credential_rotated", detail: { kind: c.kind, source: c.source, subject: c.subject, from: old, to: fingerprints } });
    }
  }
  for (const [k, list] of was) {
    if (!now.has(k)) events.push({ nodeId, atMs, kind: "credential_removed", detail: { kind: list[0]!.kind, source: list[0]!.source, subject: list[0]!.subject, from: list.map((x) => x.fingerprint).sort().join(",") } });
  }
  return events;
}
