// `/node/ID`: one node. What to do first, every active finding with its
// action (or what it is a consequence of), every check of the last report,
// recent events, sleep and silence history, and credential fingerprints.
import { formatAge } from "../../shared/duration.ts";
import { isProblem, type Finding } from "../../shared/finding.ts";
import { CODES, isCode } from "../../shared/taxonomy.ts";
import type { Fleet } from "../state/fleet.ts";
import { headline, nodeDetail, type NodeDetailView } from "../query/fleet-view.ts";
import { nodeHistory } from "../query/node-history.ts";
import { nodeTimeline } from "./history-svg.ts";
import { html, type SafeHtml } from "./html.ts";
import { filterQuery, parseFilter } from "./page-filters.ts";
import { ago, at, eventsTable, evidenceText, fingerprintText, stateBadge, statusBadge, withCode } from "./page-format.ts";
import { renderPage } from "./page-layout.ts";

const NODE_EVENTS = 50;
const NODE_SILENCES = 20;

/** The page, or undefined when no node with this id ever reported. */
export function renderNodePage(fleet: Fleet, nodeId: string, query: URLSearchParams, refreshSeconds: number, nowMs = Date.now()): string | undefined {
  const detail = nodeDetail(fleet, nodeId, NODE_EVENTS);
  if (!detail) return undefined;
  const { filter } = parseFilter(query);
  const refresh = query.get("refresh");
  const back = `/${filterQuery(filter)}${refresh ? `${filterQuery(filter) ? "&" : "?"}refresh=${encodeURIComponent(refresh)}` : ""}`;
  const s = detail.summary;
  const main = html`
<h1>${s.identity.nodeId} ${stateBadge(s.state)}</h1>
${facts(detail, nowMs)}
${nextStep(detail)}
<section id="findings"><h2>Active findings <span class="muted">(${s.findings.length})</span></h2>
${findingsList(s.findings)}
<details id="all-checks"><summary>Every check in the last report (${detail.allFindings.length})</summary>${checksTable(detail.allFindings)}</details></section>
<section id="history"><h2>Last 24 hours</h2>
${history(fleet, s.identity.nodeId, nowMs)}</section>
<section id="events"><h2>Recent events</h2>
${eventsTable(detail.events, nowMs)}</section>
<section id="sleep"><h2>Sleep and wake</h2>
${sleepHistory(detail, nowMs)}</section>
<section id="credentials"><h2>Credentials <span class="muted">(fingerprints only)</span></h2>
${credentialsTable(detail, nowMs)}</section>
`;
  return renderPage({
    title: `${s.identity.nodeId}: ${s.state} · clawfleet`,
    beforeMain: html`<p><a href="${back}">← Fleet</a></p>`,
    main,
    refreshSeconds,
    nowMs,
  });
}

function history(fleet: Fleet, nodeId: string, nowMs: number): SafeHtml {
  const h = nodeHistory(fleet, nodeId, nowMs);
  return h ? nodeTimeline(nodeId, h.state, h.lanes, h.credentials, nowMs) : html`<p class="muted">No history.</p>`;
}

function facts(detail: NodeDetailView, nowMs: number): SafeHtml {
  const { summary: s, current } = detail;
  const id = s.identity;
  return html`<dl class="facts">
<dt>Host</dt><dd>${id.hostname || "unknown"}${id.platform ? ` (${id.platform})` : ""}</dd>
<dt>Versions</dt><dd>agent ${id.agentVersion || "?"}${id.openclawVersion ? `, OpenClaw ${id.openclawVersion}` : ""}</dd>
<dt>Agent</dt><dd>${s.connected ? "connected" : html`<strong>not connected</strong>`}</dd>
<dt>Last report</dt><dd>${ago(s.lastReportMs, nowMs)}${current ? html` <span class="muted">(seq ${current.seq}, checks took ${current.durationMs} ms)</span>` : ""}</dd>
${Math.abs(s.clockSkewMs) >= 1000 ? html`<dt>Clock</dt><dd>${formatAge(Math.abs(s.clockSkewMs))} ${s.clockSkewMs > 0 ? "ahead of" : "behind"} the collector</dd>` : ""}
</dl>`;
}

function nextStep(detail: NodeDetailView): SafeHtml {
  const h = headline(detail.summary);
  if (!h.action) return detail.summary.state === "healthy" ? html`<p>${stateBadge("healthy")} Nothing to do: every check passed.</p>` : html``;
  const s = detail.summary;
  const silent = s.state === "asleep" || s.state === "unreachable";
  const tone = s.state === "unreachable" ? "error" : s.state === "asleep" ? "warn" : (s.primary?.status ?? "warn");
  // A reporting node's summary is its first finding, right below; a silent node's is the silence.
  return html`<ul class="findings next" aria-label="Next step"><li class="ss-${tone}">
<span class="title">Do this first:</span> <code>${h.layer}</code> / <code>${h.code}</code>
${silent ? html`<div>${h.summary}</div>` : ""}
<div class="action"><span class="do">${withCode(h.action)}</span></div>
</li></ul>`;
}

function findingsList(findings: readonly Finding[]): SafeHtml {
  if (findings.length === 0) return html`<p class="muted">None.</p>`;
  return html`<ul class="findings">${findings.map(
    (f) => html`<li class="ss-${f.status}">
${statusBadge(f.status)} <code>${f.layer}</code> / <code>${f.code}</code> <span class="title">${isCode(f.code) ? CODES[f.code].title : ""}</span>
<div>${f.summary}</div>
${f.dependsOn ? html`<div class="dep">A consequence of <code>${f.dependsOn}</code>: fix that first.</div>` : f.action ? html`<div class="action"><span class="do">${withCode(f.action)}</span></div>` : ""}
${evidence(f.evidence)}
</li>`,
  )}</ul>`;
}

function evidence(values: Record<string, string>): SafeHtml {
  const entries = Object.entries(values);
  if (entries.length === 0) return html``;
  return html`<dl class="evidence">${entries.map(([k, v]) => html`<dt>${k}</dt> <dd><code>${evidenceText(k, v)}</code></dd> `)}</dl>`;
}

function checksTable(findings: readonly Finding[]): SafeHtml {
  if (findings.length === 0) return html`<p class="muted">No report yet.</p>`;
  return html`<div class="table-wrap"><table class="list">
<thead><tr><th>Check</th><th>Layer</th><th>Status</th><th>Code</th><th>Summary</th></tr></thead>
<tbody>${findings.map(
    (f) => html`<tr><td data-label="check">${f.check}</td><td data-label="layer">${f.layer}</td><td data-label="status">${statusBadge(f.status)}</td><td data-label="code">${f.code || "–"}${isProblem(f) && f.dependsOn ? html` <span class="muted">(after ${f.dependsOn})</span>` : ""}</td><td data-label="summary">${f.summary}</td></tr>`,
  )}</tbody>
</table></div>`;
}

function sleepHistory(detail: NodeDetailView, nowMs: number): SafeHtml {
  const c = detail.current;
  const host = c
    ? html`<dl class="facts">
<dt>May sleep</dt><dd>${c.maySleep ? html`<strong>yes</strong>: the host is allowed to sleep (fleet hosts should not)` : "no"}</dd>
<dt>Last sleep</dt><dd>${c.lastSleepMs ? at(c.lastSleepMs, nowMs) : html`<span class="muted">none reported</span>`}</dd>
<dt>Last wake</dt><dd>${c.lastWakeMs ? at(c.lastWakeMs, nowMs) : html`<span class="muted">none reported</span>`}</dd>
</dl>`
    : html``;
  const silences = detail.silences.slice(0, NODE_SILENCES);
  const table = silences.length
    ? html`<div class="table-wrap"><table class="list">
<thead><tr><th>Silent from</th><th>Until</th><th>For</th><th>Label</th></tr></thead>
<tbody>${silences.map(
        (x) => html`<tr><td data-label="from">${at(x.startedMs, nowMs)}</td><td data-label="until">${x.endedMs ? at(x.endedMs, nowMs) : html`<strong>still silent</strong>`}</td><td data-label="for">${formatAge((x.endedMs ?? nowMs) - x.startedMs)}</td><td data-label="label">${x.label}${x.relabelled ? html` <span class="muted">(relabelled from evidence)</span>` : ""}</td></tr>`,
      )}</tbody>
</table></div>`
    : html`<p class="muted">Never silent since it first reported.</p>`;
  return html`${host}${table}`;
}

function credentialsTable(detail: NodeDetailView, nowMs: number): SafeHtml {
  if (detail.credentials.length === 0) return html`<p class="muted">None reported.</p>`;
  return html`<div class="table-wrap"><table class="list">
<thead><tr><th>Fingerprint</th><th>Kind</th><th>Source</th><th>Subject</th><th>First seen</th><th>Status</th></tr></thead>
<tbody>${detail.credentials.map(
    (c) => html`<tr><td data-label="fingerprint"><code>${fingerprintText(c.fingerprint)}</code></td><td data-label="kind">${c.kind.replaceAll("_", " ")}</td><td data-label="source">${c.source}</td><td data-label="subject">${c.subject}</td><td data-label="first seen">${at(c.firstSeenMs, nowMs)}</td><td data-label="status">${c.retiredMs ? html`retired ${ago(c.retiredMs, nowMs)}` : "in use"}</td></tr>`,
  )}</tbody>
</table></div>`;
}
