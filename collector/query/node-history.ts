// The timelines the pages draw: one bounded store read for all the nodes a
// page shows (never one per node, never the whole log), turned into state
// segments per node, and for one node its finding lanes and credential marks.
import { credentialMarks, findingLanes, type CredentialMark, type FindingLane } from "../classify/finding-timeline.ts";
import { activeProblems, layerStatuses } from "../classify/node-state.ts";
import { stateTimeline, type StateTimeline } from "../classify/state-timeline.ts";
import type { Fleet } from "../state/fleet.ts";
import type { EventKind, EventRow, SilenceRow } from "../state/store.ts";

export const HISTORY_WINDOW_MS = 24 * 3_600_000;
/** Per node on the fleet page: a node that changes state every 15 minutes all day fits. */
export const FLEET_EVENTS_PER_NODE = 200;
/** On the node page, findings and credentials share the budget with the layer changes. */
const NODE_EVENTS_PER_NODE = 1000;

const NODE_KINDS: readonly EventKind[] = ["layer_change", "finding_raised", "finding_cleared", "credential_rotated", "credential_added", "credential_removed"];

/** State timelines over the last 24 h for these nodes, in one store read. */
export function stateTimelines(fleet: Fleet, nodeIds: readonly string[], nowMs: number): Map<string, StateTimeline> {
  const fromMs = nowMs - HISTORY_WINDOW_MS;
  const rows = fleet.store.history({ nodeIds, kinds: ["layer_change"], sinceMs: fromMs, perNodeLimit: FLEET_EVENTS_PER_NODE });
  const events = groupBy(rows.events);
  const silences = groupBy(rows.silences);
  const out = new Map<string, StateTimeline>();
  for (const nodeId of nodeIds) {
    const timeline = timelineOf(fleet, nodeId, events.get(nodeId) ?? [], silences.get(nodeId) ?? [], FLEET_EVENTS_PER_NODE, fromMs, nowMs);
    if (timeline) out.set(nodeId, timeline);
  }
  return out;
}

export interface NodeHistory {
  state: StateTimeline;
  lanes: FindingLane[];
  credentials: CredentialMark[];
}

/** One node's last 24 h: its state, a lane per finding code, its credential changes. */
export function nodeHistory(fleet: Fleet, nodeId: string, nowMs: number): NodeHistory | undefined {
  const fromMs = nowMs - HISTORY_WINDOW_MS;
  const rows = fleet.store.history({ nodeIds: [nodeId], kinds: NODE_KINDS, sinceMs: fromMs, perNodeLimit: NODE_EVENTS_PER_NODE });
  const state = timelineOf(fleet, nodeId, rows.events, rows.silences, NODE_EVENTS_PER_NODE, fromMs, nowMs);
  if (!state) return undefined;
  const active = activeProblems(fleet.get(nodeId)?.current?.findings ?? []);
  const knownFrom = state.segments.find((s) => s.state !== "unknown")?.fromMs ?? fromMs;
  return {
    state,
    lanes: findingLanes({ fromMs: knownFrom, toMs: nowMs, events: rows.events, active }),
    credentials: credentialMarks(rows.events),
  };
}

function timelineOf(fleet: Fleet, nodeId: string, events: readonly EventRow[], silences: readonly SilenceRow[], limit: number, fromMs: number, nowMs: number): StateTimeline | undefined {
  const view = fleet.get(nodeId);
  if (!view) return undefined;
  // A node that hit the per-node limit has older history than was read: that part is unknown, not guessed.
  const cut = [events.length >= limit ? events[0]?.atMs : undefined, silences.length >= limit ? silences[0]?.startedMs : undefined].filter((t) => t !== undefined);
  return stateTimeline({
    fromMs,
    toMs: nowMs,
    firstSeenMs: view.firstSeenMs,
    currentLayers: view.current ? layerStatuses(view.current.findings) : undefined,
    events,
    silences,
    completeFromMs: cut.length ? Math.max(...cut) : undefined,
  });
}

function groupBy<T extends { nodeId: string }>(rows: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const row of rows) {
    const list = out.get(row.nodeId);
    if (list) list.push(row);
    else out.set(row.nodeId, [row]);
  }
  return out;
}
