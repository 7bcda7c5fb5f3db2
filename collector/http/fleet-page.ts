// `/`: the fleet at a glance. Counts by state and by layer (each a link that
// filters), then every matching node, failing first, each with its layer, code,
// report age and the action to take; then what changed recently.
import { LAYERS, CODES, STATUS_RANK, type Status } from "../../shared/taxonomy.ts";
import { NODE_STATES } from "../classify/node-state.ts";
import type { Fleet } from "../state/fleet.ts";
import { allEvents, EVENT_KINDS, type EventRow } from "../state/store.ts";
import { failingFirst, fleetSummaries, headline, matchesFilter, STATE_ORDER, type NodeSummaryView } from "../query/fleet-view.ts";
import { stateTimelines } from "../query/node-history.ts";
import type { StateTimeline } from "../classify/state-timeline.ts";
import { stateStrip, stripLegend } from "./history-svg.ts";
import { html, type SafeHtml } from "./html.ts";
import { filterQuery, isFiltered, parseFilter, toNodeFilter, type PageFilter } from "./page-filters.ts";
import { ago, eventsTable, STATE_SYMBOL, stateBadge, withCode } from "./page-format.ts";
import { renderPage } from "./page-layout.ts";

/** Rows rendered at most: the page stays fast at 10,000 nodes; failing nodes come first, so they are the ones shown. */
export const MAX_ROWS = 500;
const RECENT_EVENTS = 15;
/** Rows with a 24 h strip: the first (failing first) ones, read from the store in one query. */
export const STRIP_ROWS = 100;

export function nodeHref(nodeId: string, filter: PageFilter = {}, refresh?: string): string {
  const query = filterQuery(filter);
  const extra = refresh ? `${query ? "&" : "?"}refresh=${encodeURIComponent(refresh)}` : "";
  return `/node/${encodeURIComponent(nodeId)}${query}${extra}`;
}

export function renderFleetPage(fleet: Fleet, query: URLSearchParams, refreshSeconds: number, nowMs = Date.now()): string {
  const { filter, ignored } = parseFilter(query);
  const all = fleetSummaries(fleet);
  const nodeFilter = toNodeFilter(filter);
  const shown = all.filter((s) => matchesFilter(nodeFilter, s)).sort(failingFirst);
  const refresh = query.get("refresh") ?? undefined;

  const counts = new Map<string, number>(NODE_STATES.map((s) => [s, 0]));
  for (const s of all) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
  const failing = (counts.get("failing") ?? 0) + (counts.get("unreachable") ?? 0);
  const title = all.length === 0 ? "no nodes yet · clawfleet" : failing > 0 ? `${failing} failing · clawfleet` : "all nodes up · clawfleet";

  const main = html`
<h1>Fleet <span class="muted">· ${all.length} node${all.length === 1 ? "" : "s"}</span></h1>
${stateTiles(counts, filter)}
${layerTiles(all, filter)}
<h2 id="nodes">Nodes, failing first</h2>
${isFiltered(filter) ? html`<p class="showing">Showing ${shown.length} of ${all.length}: <strong>${filterWords(filter)}</strong>. <a href="/${refresh ? `?refresh=${encodeURIComponent(refresh)}` : ""}">Show all</a></p>` : ""}
${nodeTable(fleet, shown, all.length, filter, refresh, nowMs)}
<h2>Recent changes</h2>
${recentEvents(fleet, shown, isFiltered(filter), filter, refresh, nowMs)}
`;
  return renderPage({ title, beforeMain: filterForm(filter, ignored, refresh), main, refreshSeconds, nowMs });
}

function stateTiles(counts: Map<string, number>, filter: PageFilter): SafeHtml {
  return html`<ul class="tiles states" aria-label="Nodes by state">${STATE_ORDER.map((state) => {
    const n = counts.get(state) ?? 0;
    const active = filter.state === state;
    return html`<li><a class="st-${state}${n === 0 ? " zero" : ""}" href="/${filterQuery(filter, { state: active ? undefined : state })}"${current(active)}><span class="n">${n}</span> <span aria-hidden="true">${STATE_SYMBOL[state]}</span> ${state}</a></li>`;
  })}</ul>`;
}

/** Per layer: how many nodes have an active problem there, coloured by the worst status. */
function layerTiles(all: readonly NodeSummaryView[], filter: PageFilter): SafeHtml {
  let quiet = 0;
  const tiles = LAYERS.map((layer) => {
    let n = 0;
    let worst: Status = "ok";
    for (const s of all) {
      const here = s.findings.filter((f) => f.layer === layer);
      if (here.length === 0) continue;
      n++;
      for (const f of here) if (STATUS_RANK[f.status] > STATUS_RANK[worst]) worst = f.status;
    }
    const active = filter.layer === layer;
    if (n === 0 && !active) quiet++;
    const tone = n === 0 ? "zero" : STATUS_RANK[worst] >= 2 ? "st-failing" : "st-degraded";
    const word = n === 0 ? "ok" : STATUS_RANK[worst] >= 2 ? "fail" : "warn";
    return html`<li class="${n === 0 && !active ? "zero" : ""}"><a class="${tone}" href="/${filterQuery(filter, { layer: active ? undefined : layer })}"${current(active)}><span class="n">${n}</span> ${layer} <span class="muted">${word}</span></a></li>`;
  });
  // On a phone only the layers with problems show; this line stands for the rest.
  const rest = quiet === LAYERS.length ? "no problem in any layer" : quiet > 0 ? `${quiet} other layers ok` : "";
  return html`<ul class="tiles layers" aria-label="Nodes with a problem, by layer">${tiles}${rest ? html`<li class="rest muted" aria-hidden="true">${rest}</li>` : ""}</ul>`;
}

const current = (active: boolean) => (active ? html` aria-current="true"` : "");

/** "layer tunnel, state failing": the filters in words, for the collapsed form and the list heading. */
function filterWords(filter: PageFilter): string {
  return (["state", "layer", "code", "node"] as const).flatMap((k) => (filter[k] ? [`${k} ${filter[k]}`] : [])).join(", ");
}

function filterForm(filter: PageFilter, ignored: readonly string[], refresh: string | undefined): SafeHtml {
  const option = (value: string, selected: string | undefined, label = value) => html`<option value="${value}"${value === selected ? html` selected` : ""}>${label}</option>`;
  const byLayer = LAYERS.map((layer) => ({ layer, codes: Object.entries(CODES).filter(([, spec]) => spec.layer === layer).map(([code]) => code) })).filter((g) => g.codes.length > 0);
  const words = filterWords(filter);
  // Collapsed unless a filter is on, so a phone shows the failing nodes on its first screen; the page script opens it on wide screens.
  return html`<details class="filter-box" id="filters"${isFiltered(filter) ? html` open` : ""}><summary>Filter${words ? html`: <strong>${words}</strong>` : html` <span class="muted">by state, layer, code or node</span>`}</summary>
<form class="filters" method="get" action="/" role="search">
<label>State<select name="state">${option("", filter.state, "any state")}${NODE_STATES.map((s) => option(s, filter.state))}</select></label>
<label>Layer<select name="layer">${option("", filter.layer, "any layer")}${LAYERS.map((l) => option(l, filter.layer))}</select></label>
<label>Code<select name="code">${option("", filter.code, "any code")}${byLayer.map((g) => html`<optgroup label="${g.layer}">${g.codes.map((c) => option(c, filter.code))}</optgroup>`)}</select></label>
<label>Node (glob)<input name="node" value="${filter.node ?? ""}" placeholder="mini-*" autocomplete="off" spellcheck="false" pattern="[a-z0-9._*?\\-]{1,64}"></label>
${refresh ? html`<input type="hidden" name="refresh" value="${refresh}">` : ""}
<div class="actions"><button type="submit">Apply</button>${isFiltered(filter) ? html`<a href="/${refresh ? `?refresh=${encodeURIComponent(refresh)}` : ""}">Clear</a>` : ""}</div>
</form></details>
${ignored.length ? html`<p class="notice" role="alert">Ignored unknown filter ${ignored.join(", ")}: showing results without it.</p>` : ""}`;
}

function nodeTable(fleet: Fleet, shown: readonly NodeSummaryView[], total: number, filter: PageFilter, refresh: string | undefined, nowMs: number): SafeHtml {
  if (total === 0) return html`<p>No agent has reported to this collector yet. Start one on each host: <code>clawfleet agent run --collector HOST:PORT</code></p>`;
  if (shown.length === 0) return html`<p>No nodes match these filters. <a href="/">Show all nodes</a></p>`;
  const rows = shown.slice(0, MAX_ROWS);
  const timelines = stateTimelines(fleet, rows.slice(0, STRIP_ROWS).map((s) => s.identity.nodeId), nowMs);
  return html`${stripLegend()}<table class="nodes">
<thead><tr><th scope="col">Node</th><th scope="col">State</th><th scope="col">Layer</th><th scope="col">Code</th><th scope="col">Last report</th><th scope="col">Last 24 h</th><th scope="col">What to do</th></tr></thead>
<tbody>${rows.map((s) => nodeRow(s, timelines.get(s.identity.nodeId), filter, refresh, nowMs))}</tbody>
</table>
${shown.length > rows.length ? html`<p class="more">Showing the first ${rows.length} of ${shown.length} nodes (failing first): narrow the list with the filters above.</p>` : ""}`;
}

function nodeRow(s: NodeSummaryView, timeline: StateTimeline | undefined, filter: PageFilter, refresh: string | undefined, nowMs: number): SafeHtml {
  const h = headline(s);
  const id = s.identity;
  return html`<tr class="row st-${s.state}" data-node="${id.nodeId}" data-state="${s.state}">
<td class="node"><a href="${nodeHref(id.nodeId, filter, refresh)}">${id.nodeId}</a><span class="host">${id.hostname || "unknown host"}${id.platform ? ` · ${id.platform}` : ""}</span></td>
<td class="state">${stateBadge(s.state)}</td>
<td class="layer">${h.layer ? html`<code>${h.layer}</code>` : html`<span class="muted">–</span>`}</td>
<td class="code">${h.code ? html`<code>${h.code}</code>` : html`<span class="muted">–</span>`}</td>
<td class="age">${ago(s.lastReportMs, nowMs)}</td>
<td class="history">${timeline ? stateStrip(timeline, id.nodeId, nowMs) : html`<span class="muted">–</span>`}</td>
<td class="action">${
    h.action || h.summary
      ? html`${h.summary ? html`<span class="what">${h.summary}</span>` : ""}${h.action ? html`<span class="do">${withCode(h.action)}</span>` : ""}${
          h.lastKnown ? html`<span class="last">Last report said: ${h.lastKnown.layer} / ${h.lastKnown.code || h.lastKnown.status}: ${h.lastKnown.summary}</span>` : ""
        }`
      : html`<span class="muted">${s.state === "healthy" ? "Nothing to do: every check passed." : "No report yet."}</span>`
  }</td>
</tr>`;
}

/** Connects and disconnects are noise here; the node page lists them. */
const RECENT_KINDS = EVENT_KINDS.filter((kind) => kind !== "connect" && kind !== "disconnect");

/**
 * The newest changes, of the shown nodes when filtered: read for those nodes
 * and kinds, never "the newest 500 rows, then filter", which showed nothing
 * for a filtered page (or after a fleet-wide reconnect) while changes existed.
 */
function newestChanges(fleet: Fleet, shown: readonly NodeSummaryView[], filtered: boolean, sinceMs: number): EventRow[] {
  if (filtered) {
    const { events } = fleet.store.history({ nodeIds: shown.map((s) => s.identity.nodeId), kinds: RECENT_KINDS, sinceMs, perNodeLimit: RECENT_EVENTS });
    return events.sort((a, b) => b.atMs - a.atMs || (b.id ?? 0) - (a.id ?? 0)).slice(0, RECENT_EVENTS);
  }
  const recent: EventRow[] = [];
  // Paged newest first until enough: as many pages as connects bury the changes, never a fixed window.
  for (const e of allEvents(fleet.store, { sinceMs }, 200)) {
    if (!(RECENT_KINDS as readonly string[]).includes(e.kind)) continue;
    if (recent.push(e) === RECENT_EVENTS) break;
  }
  return recent;
}

function recentEvents(fleet: Fleet, shown: readonly NodeSummaryView[], filtered: boolean, filter: PageFilter, refresh: string | undefined, nowMs: number): SafeHtml {
  const events = newestChanges(fleet, shown, filtered, nowMs - 24 * 3_600_000);
  if (events.length === 0) return html`<p class="muted">Nothing changed in the last 24 hours${filtered ? " on these nodes" : ""}.</p>`;
  return eventsTable(events, nowMs, (nodeId) => nodeHref(nodeId, filter, refresh));
}
