// Small pieces both pages share: state badges (symbol and word, never colour
// alone), times (relative first, absolute UTC on hover and for machines), and
// what a node's row says it needs.
import { formatAge } from "../../shared/duration.ts";
import type { NodeState } from "../classify/node-state.ts";
import { escapeHtml, html, SafeHtml } from "./html.ts";
import { isFingerprint } from "../../shared/fingerprint.ts";

/** A symbol per state so it reads without colour (and in a grayscale screenshot). */
export const STATE_SYMBOL: Record<NodeState, string> = { failing: "✖", unreachable: "⚠", degraded: "▲", asleep: "☾", healthy: "✔" };

export function stateBadge(state: NodeState): SafeHtml {
  return html`<span class="badge st-${state}"><span aria-hidden="true">${STATE_SYMBOL[state]}</span> ${state}</span>`;
}

export function statusBadge(status: string): SafeHtml {
  const known = ["ok", "warn", "fail", "skip", "error"].includes(status) ? status : "error";
  const symbol = { ok: "✔", warn: "▲", fail: "✖", skip: "–", error: "?" }[known];
  return html`<span class="badge ss-${known}"><span aria-hidden="true">${symbol}</span> ${status}</span>`;
}

/**
 * Action texts quote commands in backticks (`tailscale up`): shown as code.
 * The text is escaped first, so the only markup is the <code> added here.
 */
export function withCode(text: string): SafeHtml {
  return SafeHtml.trusted(escapeHtml(text).replace(/&#96;(.+?)&#96;/g, "<code>$1</code>"));
}

/**
 * Stored times come from agents: an old store may hold any value (a Date
 * throws past ±8.64e15 ms). Whatever it is, the page shows it rather than
 * answering 500.
 */
export function isoUtc(ms: number): string {
  const date = new Date(ms);
  if (!Number.isFinite(date.getTime())) return `invalid time (${String(ms).slice(0, 24)})`;
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** formatAge for any difference, NaN included. */
function age(ms: number): string {
  return Number.isFinite(ms) ? formatAge(ms) : "unknown";
}

/** "3m ago" with the exact UTC time on hover; the page script rewrites it to local time. */
export function ago(ms: number | undefined, nowMs: number): SafeHtml {
  if (!ms) return html`<span class="muted">never</span>`;
  return html`<time datetime="${isoUtc(ms)}" title="${isoUtc(ms)}">${age(nowMs - ms)} ago</time>`;
}

export function at(ms: number, nowMs: number): SafeHtml {
  return html`<time datetime="${isoUtc(ms)}" data-local="1">${isoUtc(ms).replace("T", " ")}</time> <span class="muted">(${age(nowMs - ms)} ago)</span>`;
}


/** Fingerprints only: anything else in a fingerprint slot is withheld, whatever an agent sent. */
export function fingerprintText(value: string): string {
  return isFingerprint(value) ? value : "(withheld: not a fingerprint)";
}

/**
 * Evidence is free text from the agent. Agents send fingerprints, never
 * secrets; should one misbehave, a value under a secret-sounding key that is
 * not a fingerprint is withheld rather than shown.
 */
export function evidenceText(key: string, value: string): string {
  return /(token|secret|passw(or)?d|api_?key|credential)$/i.test(key) && !isFingerprint(value) ? "(withheld: not a fingerprint)" : value;
}

function detailText(key: string, value: string | number | boolean): string {
  if (typeof value === "number" && key.endsWith("Ms")) return value > 1e12 ? isoUtc(value) : age(value);
  return String(value);
}

export interface EventLike {
  nodeId: string;
  atMs: number;
  kind: string;
  layer?: string;
  code?: string;
  detail: Record<string, string | number | boolean>;
}

/** The event log as a table (cards on a phone); `nodeHref` adds a node column. */
export function eventsTable(events: readonly EventLike[], nowMs: number, nodeHref?: (nodeId: string) => string): SafeHtml {
  if (events.length === 0) return html`<p class="muted">No events.</p>`;
  return html`<div class="table-wrap"><table class="list events">
<thead><tr><th>When</th>${nodeHref ? html`<th>Node</th>` : ""}<th>Event</th><th>Layer / code</th><th>Detail</th></tr></thead>
<tbody>${events.map(
    (e) => html`<tr>
<td data-label="when">${ago(e.atMs, nowMs)}</td>
${nodeHref ? html`<td data-label="node"><a href="${nodeHref(e.nodeId)}">${e.nodeId}</a></td>` : ""}
<td data-label="event">${e.kind.replaceAll("_", " ")}</td>
<td data-label="layer">${[e.layer, e.code].filter(Boolean).join(" / ") || "–"}</td>
<td data-label="detail">${Object.entries(e.detail).map(([k, v]) => html`<span class="kv"><span class="muted">${k}</span> ${evidenceText(k, detailText(k, v))}</span> `)}</td>
</tr>`,
  )}</tbody>
</table></div>`;
}
