// A node's findings over a window of time, for the node page: one lane per
// layer/code with the spans from each raise to its clear, and the credential
// changes (rotations first of all) as marks. Pure: events in, lanes out.
import { LAYERS } from "../../shared/taxonomy.ts";
import type { EventRow } from "../state/store.ts";

export interface FindingSpan {
  fromMs: number;
  toMs: number;
  /** fail, warn, error; "unknown" when it was raised before the window (a clear does not say). */
  status: string;
  /** Raised before the window (or before the retained log): the span's start is not its raise. */
  raisedBefore: boolean;
  /** Still active: the span runs up to the window's end. */
  open: boolean;
}

export interface FindingLane {
  layer: string;
  code: string;
  spans: FindingSpan[];
}

export interface CredentialMark {
  atMs: number;
  change: "rotated" | "added" | "removed";
  /** gateway_token, provider_key. */
  kind: string;
  source: string;
  /** Fingerprints, as the event log holds them (never secrets). */
  from?: string;
  to?: string;
}

export interface FindingTimelineInput {
  fromMs: number;
  toMs: number;
  /** The node's events in the window, any order; finding and credential kinds are read. */
  events: readonly EventRow[];
  /** The problems active now: one raised before the window still gets its lane. */
  active: readonly { layer: string; code: string; status: string }[];
  maxLanes?: number;
}

export const DEFAULT_MAX_LANES = 24;

const laneKey = (f: { layer?: string; code?: string }) => `${f.layer ?? ""}/${f.code ?? ""}`;

export function findingLanes(input: FindingTimelineInput): FindingLane[] {
  const lanes = new Map<string, FindingLane>();
  const lane = (f: { layer?: string; code?: string }) => {
    const key = laneKey(f);
    let found = lanes.get(key);
    if (!found) lanes.set(key, (found = { layer: f.layer ?? "", code: f.code ?? "", spans: [] }));
    return found;
  };
  const open = new Map<string, FindingSpan>();
  const sorted = input.events.filter((e) => e.kind === "finding_raised" || e.kind === "finding_cleared").sort((a, b) => a.atMs - b.atMs || (a.id ?? 0) - (b.id ?? 0));
  for (const e of sorted) {
    const key = laneKey(e);
    const running = open.get(key);
    if (e.kind === "finding_raised") {
      if (running) continue; // raised twice without a clear: the first raise stands
      const span: FindingSpan = { fromMs: e.atMs, toMs: input.toMs, status: String(e.detail.status ?? "unknown"), raisedBefore: false, open: true };
      lane(e).spans.push(span);
      open.set(key, span);
    } else if (running) {
      running.toMs = e.atMs;
      running.open = false;
      open.delete(key);
    } else if (lane(e).spans.length === 0) {
      // Cleared in the window, raised before it.
      lane(e).spans.push({ fromMs: input.fromMs, toMs: e.atMs, status: "unknown", raisedBefore: true, open: false });
    }
  }
  for (const f of input.active) {
    const key = laneKey(f);
    if (lanes.has(key)) continue;
    lane(f).spans.push({ fromMs: input.fromMs, toMs: input.toMs, status: f.status, raisedBefore: true, open: true });
  }
  const layerRank = (layer: string) => (LAYERS as readonly string[]).indexOf(layer) >>> 0;
  return [...lanes.values()]
    .sort((a, b) => layerRank(a.layer) - layerRank(b.layer) || a.code.localeCompare(b.code))
    .slice(0, input.maxLanes ?? DEFAULT_MAX_LANES);
}

const CREDENTIAL_CHANGES = { credential_rotated: "rotated", credential_added: "added", credential_removed: "removed" } as const;

export function credentialMarks(events: readonly EventRow[]): CredentialMark[] {
  const marks: CredentialMark[] = [];
  for (const e of events) {
    if (!(e.kind in CREDENTIAL_CHANGES)) continue;
    const d = e.detail;
    marks.push({
      atMs: e.atMs,
      change: CREDENTIAL_CHANGES[e.kind as keyof typeof CREDENTIAL_CHANGES],
      kind: String(d.kind ?? "unknown"),
      source: String(d.source ?? ""),
      ...(d.from !== undefined ? { from: String(d.from) } : {}),
      ...(d.to !== undefined ? { to: String(d.to) } : {}),
    });
  }
  return marks.sort((a, b) => a.atMs - b.atMs);
}
