// Timelines as inline SVG, drawn on the server: no script, no external asset,
// colours from the stylesheet's classes (the CSP allows no inline style), every
// text through the `html` template's escaping. Each strip stretches to its
// container (width 100%, times as percentages of it, heights and marks in
// pixels so a ▼ stays a ▼), so it fits a 375 px phone. Worse states are
// drawn taller, so the strip reads without colour too; every segment and mark
// carries a <title> with its state and times, each strip an aria-label summary.
import { formatAge } from "../../shared/duration.ts";
import type { CredentialMark, FindingLane, FindingSpan } from "../classify/finding-timeline.ts";
import { timeInStates, type StateSegment, type StateTimeline, type TimelineMark, type TimelineState } from "../classify/state-timeline.ts";
import { html, type SafeHtml } from "./html.ts";
import { fingerprintText, isoUtc } from "./page-format.ts";

/** Height of each state's bar (of 16 under the marks' row): worse is taller; a fleet host should not sleep, so asleep is above healthy. */
const BAR: Record<TimelineState, number> = { failing: 16, unreachable: 14, degraded: 11, asleep: 8, healthy: 6, unknown: 2 };
const MARK_ROW = 5;
const HEIGHT = MARK_ROW + 16;
/** A blip of a few seconds still shows: at least this share of the width, in percent. */
const MIN_SHARE = 0.6;
const CALM = new Set<TimelineState>(["healthy", "unknown"]);
const WORDS: Record<TimelineState, string> = { failing: "failing", unreachable: "unreachable", degraded: "degraded", asleep: "asleep", healthy: "healthy", unknown: "no data" };
const GRID_HOURS = [6, 12, 18];

/** "2026-12-05 02:00 UTC": minutes are what a day-long strip resolves. */
function utcMinute(ms: number): string {
  return `${isoUtc(ms).slice(0, 16).replace("T", " ")} UTC`;
}

const round = (n: number) => Math.round(n * 1000) / 1000;
const pct = (n: number) => `${round(n)}%`;

/** Time to a share of the strip's width, in percent. */
function scale(fromMs: number, toMs: number) {
  return (t: number) => ((Math.min(Math.max(t, fromMs), toMs) - fromMs) / (toMs - fromMs)) * 100;
}

function segmentTitle(s: StateSegment, nowMs: number): string {
  const until = s.toMs >= nowMs ? "now" : utcMinute(s.toMs);
  const also = s.also?.length ? `, also ${s.also.join(", ")} within this span` : "";
  const relabelled = s.relabelled ? " (relabelled from the node's own sleep record)" : "";
  return `${WORDS[s.state]}${relabelled} from ${utcMinute(s.fromMs)} until ${until} (${formatAge(s.toMs - s.fromMs)})${also}`;
}

function markTitle(m: TimelineMark): string {
  return `${m.kind === "sleep" ? "went to sleep" : "woke"} at ${utcMinute(m.atMs)}`;
}

/** "mini-03, last 24 h: failing 4h, healthy 20h; slept 1, woke 1". */
export function timelineSummary(label: string, timeline: StateTimeline): string {
  const times = timeInStates(timeline).map(([state, ms]) => `${WORDS[state]} ${formatAge(ms)}`);
  const slept = timeline.marks.filter((m) => m.kind === "sleep").length;
  const woke = timeline.marks.length - slept;
  return `${label}, last ${formatAge(timeline.toMs - timeline.fromMs)}: ${times.join(", ") || "no data"}${slept + woke ? `; went to sleep ${slept}×, woke ${woke}×` : ""}`;
}

function gridLines(spanMs: number, top: number, bottom: number): SafeHtml[] {
  const hours = spanMs / 3_600_000;
  return GRID_HOURS.filter((h) => h < hours).map((h) => {
    const x = pct(100 - (h / hours) * 100);
    return html`<line class="tl-grid" x1="${x}" x2="${x}" y1="${top}" y2="${bottom}"></line>`;
  });
}

/** A node's state strip: bars per segment, ▼ where it went to sleep, ▲ where it woke. */
export function stateStrip(timeline: StateTimeline, label: string, nowMs: number): SafeHtml {
  const x = scale(timeline.fromMs, timeline.toMs);
  const bar = (s: StateSegment) => {
    const h = BAR[s.state];
    const w = Math.max(x(s.toMs) - x(s.fromMs), CALM.has(s.state) ? 0 : MIN_SHARE);
    // A stretched blip must not run past the strip's end.
    const left = Math.min(x(s.fromMs), 100 - w);
    return html`<rect class="tl tl-${s.state}" data-state="${s.state}" data-from="${s.fromMs}" data-to="${s.toMs}" x="${pct(left)}" y="${HEIGHT - h}" width="${pct(w)}" height="${h}"><title>${segmentTitle(s, nowMs)}</title></rect>`;
  };
  // A marker is a nested viewport at its time, so the triangle keeps its shape at any width.
  const mark = (m: TimelineMark) => {
    const points = m.kind === "sleep" ? `-4,0 4,0 0,${MARK_ROW}` : `-4,${MARK_ROW} 4,${MARK_ROW} 0,0`;
    return html`<svg x="${pct(x(m.atMs))}" y="0" width="1" height="${MARK_ROW}" overflow="visible"><polygon class="tl-mark tl-${m.kind}" data-mark="${m.kind}" data-at="${m.atMs}" points="${points}"><title>${markTitle(m)}</title></polygon></svg>`;
  };
  // Calm states first, so the minimum width of a short failure draws over them rather than under.
  const ordered = [...timeline.segments.filter((s) => CALM.has(s.state)), ...timeline.segments.filter((s) => !CALM.has(s.state))];
  return html`<svg class="strip" width="100%" height="${HEIGHT}" role="img" aria-label="${timelineSummary(label, timeline)}" focusable="false">${gridLines(timeline.toMs - timeline.fromMs, MARK_ROW, HEIGHT)}${ordered.map(bar)}${timeline.marks.map(mark)}</svg>`;
}

/** What the strips' bars and marks mean, once above the list. */
export function stripLegend(): SafeHtml {
  const swatch = (state: TimelineState) =>
    html`<span class="tl-key"><svg class="swatch" viewBox="0 0 8 16" aria-hidden="true" focusable="false"><rect class="tl tl-${state}" x="0" y="${16 - BAR[state]}" width="8" height="${BAR[state]}"></rect></svg> ${WORDS[state]}</span>`;
  return html`<p class="tl-legend"><span class="muted">Last 24 h, oldest on the left:</span> ${(["failing", "unreachable", "degraded", "healthy", "asleep", "unknown"] as const).map(swatch)} <span class="tl-key"><span aria-hidden="true">▼</span> went to sleep</span> <span class="tl-key"><span aria-hidden="true">▲</span> woke</span></p>`;
}

/** Labels under a wide timeline: 24 h ago on the left, now on the right. */
function axis(spanMs: number): SafeHtml {
  const hours = Math.round(spanMs / 3_600_000);
  const ticks = [hours, ...GRID_HOURS.filter((h) => h < hours).reverse()].map((h) => `${h} h ago`);
  return html`<div class="lane axis" aria-hidden="true"><span></span><div class="ticks">${ticks.map((t) => html`<span>${t}</span>`)}<span>now</span></div></div>`;
}

const LANE_HEIGHT = 12;

function spanTitle(lane: FindingLane, s: FindingSpan, nowMs: number): string {
  const raised = s.raisedBefore ? `active since before ${utcMinute(s.fromMs)}` : `raised ${utcMinute(s.fromMs)}`;
  const cleared = s.open ? (s.toMs >= nowMs ? "still active" : `active until ${utcMinute(s.toMs)}`) : `cleared ${utcMinute(s.toMs)}`;
  return `${lane.layer}/${lane.code} (${s.status}): ${raised}, ${cleared} (${formatAge(s.toMs - s.fromMs)})`;
}

function statusClass(status: string): string {
  return status === "fail" ? "tl-failing" : status === "warn" || status === "error" ? "tl-degraded" : "tl-raised";
}

function markTitleOf(c: CredentialMark): string {
  const prints = (list?: string) => (list ?? "").split(",").filter(Boolean).map(fingerprintText).join(", ") || "none";
  const what = c.kind.replaceAll("_", " ");
  const change = c.change === "rotated" ? `changed from ${prints(c.from)} to ${prints(c.to)}` : c.change === "added" ? `added: ${prints(c.to)}` : `removed: ${prints(c.from)}`;
  return `${what} ${c.change} at ${utcMinute(c.atMs)} (${c.source}): ${change}`;
}

/**
 * The node page's history: its state strip, a lane per finding code from
 * raise to clear, and a lane of credential changes.
 */
export function nodeTimeline(nodeId: string, state: StateTimeline, lanes: readonly FindingLane[], credentials: readonly CredentialMark[], nowMs: number): SafeHtml {
  const x = scale(state.fromMs, state.toMs);
  const laneSvg = (label: string, body: SafeHtml[]) =>
    html`<svg class="strip lane-bar" width="100%" height="${LANE_HEIGHT}" role="img" aria-label="${label}" focusable="false">${gridLines(state.toMs - state.fromMs, 0, LANE_HEIGHT)}<rect class="lane-track" x="0" y="${LANE_HEIGHT / 2 - 0.5}" width="100%" height="1"></rect>${body}</svg>`;
  const findingLane = (lane: FindingLane) => {
    const name = `${lane.layer}/${lane.code}`;
    const label = `${name}: ${lane.spans.length} span${lane.spans.length === 1 ? "" : "s"} active in the last 24 h${lane.spans.some((s) => s.open && s.toMs >= nowMs) ? ", active now" : ""}`;
    const spans = lane.spans.map((s) => {
      const w = Math.max(x(s.toMs) - x(s.fromMs), MIN_SHARE);
      return html`<rect class="tl ${statusClass(s.status)}" data-code="${lane.code}" x="${pct(Math.min(x(s.fromMs), 100 - w))}" y="1" width="${pct(w)}" height="${LANE_HEIGHT - 2}"><title>${spanTitle(lane, s, nowMs)}</title></rect>`;
    });
    return html`<div class="lane" data-lane="${name}"><span class="lane-label"><code>${lane.layer}</code> / <code>${lane.code}</code></span>${laneSvg(label, spans)}</div>`;
  };
  const credentialLane = () => {
    // 4 px wide, centred on its time.
    const marks = credentials.map((c) => html`<rect class="tl-cred tl-${c.change}" data-change="${c.change}" x="${pct(x(c.atMs))}" transform="translate(-2 0)" y="0" width="4" height="${LANE_HEIGHT}"><title>${markTitleOf(c)}</title></rect>`);
    const rotated = credentials.filter((c) => c.change === "rotated").length;
    return html`<div class="lane" data-lane="credentials"><span class="lane-label">credential changes</span>${laneSvg(`credentials: ${rotated} rotation${rotated === 1 ? "" : "s"}, ${credentials.length - rotated} other change${credentials.length - rotated === 1 ? "" : "s"} in the last 24 h`, marks)}</div>`;
  };
  return html`<div class="timeline">
<div class="lane" data-lane="state"><span class="lane-label">state <span class="muted">(▼ sleep, ▲ wake)</span></span>${stateStrip(state, nodeId, nowMs)}</div>
${lanes.map(findingLane)}
${credentials.length ? credentialLane() : ""}
${axis(state.toMs - state.fromMs)}
</div>
${lanes.length === 0 ? html`<p class="muted">No finding was raised or cleared in the last 24 hours.</p>` : ""}`;
}
