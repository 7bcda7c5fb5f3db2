// The history strip's derivation: events and silences in, state segments and
// sleep/wake marks out. Times are whole hours and minutes into a 24 h window.
import { describe, expect, it } from "vitest";
import { reportingState, stateTimeline, timeInStates, type StateTimeline } from "../../collector/classify/state-timeline.ts";
import type { EventRow, SilenceRow } from "../../collector/state/store.ts";
import type { Status } from "../../shared/taxonomy.ts";

const H = 3_600_000;
const M = 60_000;
const T0 = Date.UTC(2026, 11, 4, 12); // window start
const NOW = T0 + 24 * H;
const HEALTHY = new Map<string, Status>([["gateway", "ok"], ["session", "ok"], ["tunnel", "ok"]]);

let nextId = 1;
const change = (atMs: number, layer: string, from: string, to: string): EventRow => ({ id: nextId++, nodeId: "n", atMs, kind: "layer_change", layer, detail: { from, to } });
const silence = (startedMs: number, endedMs: number | undefined, label: SilenceRow["label"], relabelled = false): SilenceRow => ({ id: nextId++, nodeId: "n", startedMs, endedMs, label, relabelled });

/** Segments as [state, from hour, to hour] (fractions for minutes), for readable expectations. */
const spans = (t: StateTimeline) => t.segments.map((s) => [s.state, (s.fromMs - T0) / H, (s.toMs - T0) / H]);

describe("a node's state over 24 hours, from its event log and silences", () => {
  it("shows a node that fails for 10 minutes every hour as a comb of failures between healthy spans", () => {
    const events = Array.from({ length: 24 }, (_, h) => [change(T0 + h * H, "session", "ok", "fail"), change(T0 + h * H + 10 * M, "session", "fail", "ok")]).flat();
    const t = stateTimeline({ fromMs: T0, toMs: NOW, firstSeenMs: T0 - 48 * H, currentLayers: HEALTHY, events, silences: [] });
    expect(t.segments).toHaveLength(48);
    expect(t.segments.filter((s) => s.state === "failing").map((s) => (s.toMs - s.fromMs) / M)).toEqual(Array(24).fill(10));
    expect(spans(t).slice(0, 3)).toEqual([["failing", 0, 10 / 60], ["healthy", 10 / 60, 1], ["failing", 1, 1 + 10 / 60]]);
    expect(timeInStates(t)).toEqual([["failing", 4 * H], ["healthy", 20 * H]]);
    expect(t.marks).toEqual([]);
  });

  it("merges a node that flaps faster than the strip can draw into equal spans that still show each failure", () => {
    // Fails for one minute every 5 minutes: 576 segments.
    const events = Array.from({ length: 288 }, (_, i) => [change(T0 + i * 5 * M + M, "gateway", "ok", "fail"), change(T0 + i * 5 * M + 2 * M, "gateway", "fail", "ok")]).flat();
    const t = stateTimeline({ fromMs: T0, toMs: NOW, firstSeenMs: T0 - H, currentLayers: HEALTHY, events, silences: [], maxSegments: 24 });
    expect(t.segments).toEqual([{ fromMs: T0, toMs: NOW, state: "failing", also: ["healthy"] }]);
  });

  it("shows a Mac that slept from 02:00 to 07:00 as asleep, with its sleep and wake marked, healthy around it", () => {
    const sleep = Date.UTC(2026, 11, 5, 2);
    const wake = Date.UTC(2026, 11, 5, 7);
    const t = stateTimeline({ fromMs: T0, toMs: NOW, firstSeenMs: T0 - 72 * H, currentLayers: HEALTHY, events: [], silences: [silence(sleep, wake, "asleep")] });
    expect(spans(t)).toEqual([["healthy", 0, 14], ["asleep", 14, 19], ["healthy", 19, 24]]);
    expect(t.marks).toEqual([{ atMs: sleep, kind: "sleep" }, { atMs: wake, kind: "wake" }]);
  });

  it("shows nothing known before a node came up in the middle of the window, and its first report's state after", () => {
    const first = T0 + 18 * H;
    // It first reported degraded (tunnel warn), then its tunnel recovered.
    const events = [change(T0 + 20 * H, "tunnel", "warn", "ok")];
    const t = stateTimeline({ fromMs: T0, toMs: NOW, firstSeenMs: first, currentLayers: HEALTHY, events, silences: [] });
    expect(spans(t)).toEqual([["unknown", 0, 18], ["degraded", 18, 20], ["healthy", 20, 24]]);
  });

  it("runs an open silence up to now, unreachable, without a wake mark", () => {
    const t = stateTimeline({ fromMs: T0, toMs: NOW, firstSeenMs: T0 - H, currentLayers: HEALTHY, events: [], silences: [silence(NOW - 2 * H, undefined, "unreachable")] });
    expect(spans(t)).toEqual([["healthy", 0, 22], ["unreachable", 22, 24]]);
    expect(t.marks).toEqual([]);
  });

  it("keeps a silence that began before the window, and marks only the wake inside it", () => {
    const t = stateTimeline({ fromMs: T0, toMs: NOW, firstSeenMs: T0 - 9 * H, currentLayers: HEALTHY, events: [], silences: [silence(T0 - 2 * H, T0 + 3 * H, "asleep")] });
    expect(spans(t)).toEqual([["asleep", 0, 3], ["healthy", 3, 24]]);
    expect(t.marks).toEqual([{ atMs: T0 + 3 * H, kind: "wake" }]);
  });

  it("undoes layer changes from the current report back: a layer that appeared, and one that failed while another warned", () => {
    const current = new Map<string, Status>([...HEALTHY, ["drift", "warn"]]);
    const events = [
      change(T0 + 2 * H, "gateway", "ok", "fail"),
      change(T0 + 4 * H, "gateway", "fail", "ok"),
      change(T0 + 6 * H, "drift", "none", "warn"), // a check that had nothing to say before
    ];
    const t = stateTimeline({ fromMs: T0, toMs: NOW, firstSeenMs: T0 - H, currentLayers: current, events, silences: [] });
    expect(spans(t)).toEqual([["healthy", 0, 2], ["failing", 2, 4], ["healthy", 4, 6], ["degraded", 6, 24]]);
  });

  it("shows a silence relabelled from the node's own sleep record as asleep, flagged, and marks it", () => {
    const t = stateTimeline({ fromMs: T0, toMs: NOW, firstSeenMs: T0 - H, currentLayers: HEALTHY, events: [], silences: [silence(T0 + 5 * H, T0 + 6 * H, "asleep", true)] });
    expect(t.segments[1]).toEqual({ fromMs: T0 + 5 * H, toMs: T0 + 6 * H, state: "asleep", relabelled: true });
    expect(t.marks.map((m) => m.kind)).toEqual(["sleep", "wake"]);
  });

  it("shows the part before a cut-short log as unknown rather than guessing it", () => {
    const events = [change(T0 + 10 * H, "session", "ok", "fail"), change(T0 + 11 * H, "session", "fail", "ok")];
    const t = stateTimeline({ fromMs: T0, toMs: NOW, firstSeenMs: T0 - 30 * H, currentLayers: HEALTHY, events, silences: [], completeFromMs: T0 + 10 * H });
    expect(spans(t)).toEqual([["unknown", 0, 10], ["failing", 10, 11], ["healthy", 11, 24]]);
  });

  it("keeps only the newest sleep and wake marks beyond the limit", () => {
    const silences = Array.from({ length: 10 }, (_, h) => silence(T0 + h * H, T0 + h * H + 30 * M, "asleep"));
    const t = stateTimeline({ fromMs: T0, toMs: NOW, firstSeenMs: T0 - H, currentLayers: HEALTHY, events: [], silences, maxMarks: 4 });
    expect(t.marks.map((m) => [(m.atMs - T0) / H, m.kind])).toEqual([[8, "sleep"], [8.5, "wake"], [9, "sleep"], [9.5, "wake"]]);
  });

  it("knows nothing of a node that never reported, and returns nothing for an empty window", () => {
    expect(spans(stateTimeline({ fromMs: T0, toMs: NOW, firstSeenMs: T0 + H, events: [], silences: [] }))).toEqual([["unknown", 0, 24]]);
    expect(stateTimeline({ fromMs: NOW, toMs: NOW, firstSeenMs: 0, events: [], silences: [] }).segments).toEqual([]);
  });

  it("maps layer statuses to states as a report's verdict does: fail is failing, warn or error degraded, else healthy", () => {
    expect(reportingState(new Map([["gateway", "fail"], ["tunnel", "warn"]]))).toBe("failing");
    expect(reportingState(new Map([["gateway", "error"]]))).toBe("degraded");
    expect(reportingState(new Map([["gateway", "ok"], ["power", "skip"]]))).toBe("healthy");
    expect(reportingState(new Map())).toBe("healthy");
  });
});
