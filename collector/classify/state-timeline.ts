// A node's state over a window of time, for the pages' history strips: the
// segments (healthy / degraded / failing from its reports, asleep /
// unreachable from its silences) and where it went to sleep and woke.
//
// The log records changes, not states, so the walk starts from what is known
// for certain, the node's current report, and undoes each layer change going
// back in time. That way a log cut short by its retention bound (or by the
// page's per-node limit) loses only the oldest part, which is shown as
// unknown instead of guessed. Silences come from the silence rows, not the
// silent/woke events: a row carries its final label after a relabel.
import { STATUS_RANK, type Status } from "../../shared/taxonomy.ts";
import type { EventRow, SilenceRow } from "../state/store.ts";
import type { NodeState } from "./node-state.ts";

export type TimelineState = NodeState | "unknown";

export interface StateSegment {
  fromMs: number;
  toMs: number;
  state: TimelineState;
  /** When segments were too many and were merged: the other states seen within this span, worst first. */
  also?: NodeState[];
  /** An asleep silence the node proved afterwards (it had first looked unreachable). */
  relabelled?: boolean;
}

export interface TimelineMark {
  atMs: number;
  kind: "sleep" | "wake";
}

export interface StateTimeline {
  fromMs: number;
  toMs: number;
  /** Contiguous, oldest first, covering fromMs to toMs. */
  segments: StateSegment[];
  marks: TimelineMark[];
}

export interface StateTimelineInput {
  fromMs: number;
  toMs: number;
  /** Before this the collector had never heard of the node. */
  firstSeenMs: number;
  /** Each layer's worst status in the current report (layerStatuses); undefined before the first report. */
  currentLayers?: ReadonlyMap<string, Status>;
  /** The node's events in the window; only layer_change is read, in any order. */
  events: readonly EventRow[];
  silences: readonly SilenceRow[];
  /** The rows were cut to the newest: the history before this time is unknown. */
  completeFromMs?: number;
  /** More segments than this are merged into this many equal spans, each showing its worst state. */
  maxSegments?: number;
  /** Only the newest marks beyond this many are kept. */
  maxMarks?: number;
}

export const DEFAULT_MAX_SEGMENTS = 96;
export const DEFAULT_MAX_MARKS = 48;

/** Worst first: the order a merged span picks its state by. */
const SEVERITY: readonly TimelineState[] = ["failing", "unreachable", "degraded", "asleep", "healthy", "unknown"];

/** What a reporting node's layers make it: the same rule as nodeState's verdict mapping. */
export function reportingState(layers: ReadonlyMap<string, Status>): NodeState {
  let worst = 0;
  for (const status of layers.values()) worst = Math.max(worst, STATUS_RANK[status] ?? 1);
  return worst >= 2 ? "failing" : worst === 1 ? "degraded" : "healthy";
}

export function stateTimeline(input: StateTimelineInput): StateTimeline {
  const { fromMs, toMs } = input;
  if (!(toMs > fromMs)) return { fromMs, toMs, segments: [], marks: [] };
  const changes = input.events.filter((e) => e.kind === "layer_change" && e.layer).sort((a, b) => a.atMs - b.atMs || (a.id ?? 0) - (b.id ?? 0));

  // Walk back from the current report: after[i] is the state once change i applied.
  const after: TimelineState[] = new Array(changes.length);
  const layers = new Map<string, string>(input.currentLayers ?? []);
  const stateOf = () => (input.currentLayers ? reportingState(layers as Map<string, Status>) : "unknown");
  for (let i = changes.length - 1; i >= 0; i--) {
    after[i] = stateOf();
    const from = String(changes[i]!.detail.from ?? "none");
    if (from === "none") layers.delete(changes[i]!.layer!);
    else layers.set(changes[i]!.layer!, from);
  }
  const initial = stateOf();
  const silences = [...input.silences].sort((a, b) => a.startedMs - b.startedMs);
  const knownFrom = Math.max(input.firstSeenMs, input.completeFromMs ?? -Infinity);

  // Called with ascending times: both lists are walked once, not once per call.
  let change = -1;
  let firstSilence = 0;
  const at = (t: number): Pick<StateSegment, "state" | "relabelled"> => {
    while (change + 1 < changes.length && changes[change + 1]!.atMs <= t) change++;
    while (firstSilence < silences.length && (silences[firstSilence]!.endedMs ?? Infinity) <= t) firstSilence++;
    let silence: SilenceRow | undefined;
    for (let k = firstSilence; k < silences.length && silences[k]!.startedMs <= t; k++) if (t < (silences[k]!.endedMs ?? Infinity)) silence = silences[k];
    if (silence) return silence.relabelled ? { state: silence.label, relabelled: true } : { state: silence.label };
    if (t < knownFrom) return { state: "unknown" };
    return { state: change < 0 ? initial : after[change]! };
  };

  const cuts = new Set([fromMs, input.firstSeenMs, knownFrom, ...changes.map((c) => c.atMs), ...silences.flatMap((s) => [s.startedMs, s.endedMs ?? toMs])]);
  const bounds = [...cuts].filter((t) => t > fromMs && t < toMs).sort((a, b) => a - b);
  bounds.unshift(fromMs);
  bounds.push(toMs);
  const segments: StateSegment[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const here = at(bounds[k]!);
    const last = segments.at(-1);
    if (last && last.state === here.state && last.relabelled === here.relabelled) last.toMs = bounds[k + 1]!;
    else segments.push({ fromMs: bounds[k]!, toMs: bounds[k + 1]!, ...here });
  }

  const marks: TimelineMark[] = [];
  for (const s of silences) {
    if (s.label !== "asleep") continue;
    if (s.startedMs >= fromMs && s.startedMs <= toMs) marks.push({ atMs: s.startedMs, kind: "sleep" });
    if (s.endedMs !== undefined && s.endedMs >= fromMs && s.endedMs <= toMs) marks.push({ atMs: s.endedMs, kind: "wake" });
  }
  marks.sort((a, b) => a.atMs - b.atMs);
  const maxMarks = input.maxMarks ?? DEFAULT_MAX_MARKS;
  const maxSegments = input.maxSegments ?? DEFAULT_MAX_SEGMENTS;
  return {
    fromMs,
    toMs,
    segments: segments.length > maxSegments ? downsample(segments, fromMs, toMs, maxSegments) : segments,
    marks: marks.slice(Math.max(0, marks.length - maxMarks)),
  };
}

/**
 * Equal spans, each the worst state within it: a node that flaps faster than
 * the strip can draw still shows its failures, and the page stays bounded.
 */
function downsample(segments: readonly StateSegment[], fromMs: number, toMs: number, spans: number): StateSegment[] {
  const width = (toMs - fromMs) / spans;
  const out: StateSegment[] = [];
  let k = 0;
  for (let i = 0; i < spans; i++) {
    const start = fromMs + i * width;
    const end = i === spans - 1 ? toMs : fromMs + (i + 1) * width;
    const seen = new Set<TimelineState>();
    while (k < segments.length && segments[k]!.toMs <= start) k++;
    for (let j = k; j < segments.length && segments[j]!.fromMs < end; j++) seen.add(segments[j]!.state);
    const ordered = SEVERITY.filter((s) => seen.has(s));
    const state = ordered[0] ?? "unknown";
    const also = ordered.slice(1).filter((s): s is NodeState => s !== "unknown");
    const last = out.at(-1);
    if (last && last.state === state && (last.also ?? []).join() === also.join()) last.toMs = end;
    else out.push({ fromMs: start, toMs: end, state, ...(also.length ? { also } : {}) });
  }
  return out;
}

/** How long the node spent in each state within the timeline, worst state first. */
export function timeInStates(timeline: StateTimeline): [TimelineState, number][] {
  const total = new Map<TimelineState, number>();
  for (const s of timeline.segments) total.set(s.state, (total.get(s.state) ?? 0) + (s.toMs - s.fromMs));
  return SEVERITY.filter((s) => total.has(s)).map((s) => [s, total.get(s)!]);
}
