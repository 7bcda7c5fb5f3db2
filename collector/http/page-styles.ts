// The pages' one stylesheet, served as /app.css (CSP allows styles from 'self'
// only). Mobile first: a phone gets stacked cards, a laptop a table. Dark by
// default at night (prefers-color-scheme), readable in daylight. State is
// always colour plus a symbol plus a word.
export const PAGE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --fg: #15181c; --muted: #555e69; --card: #ffffff; --line: #d5d9df; --link: #0b57d0;
  --failing: #b3261e; --unreachable: #9a4a00; --degraded: #7a5900; --asleep: #1b5fa8; --healthy: #1d6b33;
  --failing-bg: #fde8e7; --unreachable-bg: #fdebd8; --degraded-bg: #fff4cc; --asleep-bg: #e3eefb; --healthy-bg: #e3f4e7;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1216; --fg: #e7eaee; --muted: #a3acb7; --card: #181c22; --line: #2e3540; --link: #8ab4f8;
    --failing: #ff8a80; --unreachable: #ffb36b; --degraded: #ffd866; --asleep: #8cc4ff; --healthy: #7ee08f;
    --failing-bg: #3a1714; --unreachable-bg: #3a2410; --degraded-bg: #352c0c; --asleep-bg: #13263d; --healthy-bg: #14301b;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; overflow-wrap: anywhere; }
a { color: var(--link); }
a:focus-visible, button:focus-visible, select:focus-visible, input:focus-visible { outline: 3px solid var(--link); outline-offset: 2px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.92em; }
h1 { font-size: 1.25rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 0.5rem; }
.muted { color: var(--muted); }
.wrap { max-width: 1400px; margin: 0 auto; padding: 0 0.75rem; }

.top { background: var(--card); border-bottom: 1px solid var(--line); }
.top .wrap { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.25rem 1rem; padding-top: 0.6rem; padding-bottom: 0.6rem; }
.brand { font-weight: 700; color: var(--fg); text-decoration: none; }
/* One line whatever it says, so a refresh never changes the header's height (and the scroll position with it). */
.top .wrap { flex-wrap: nowrap; }
.top .tagline { white-space: nowrap; }
#refresh-status { font-size: 0.85rem; color: var(--muted); margin-left: auto; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; min-width: 0; }
@media (max-width: 30rem) { .top .tagline { display: none; } }
#refresh-status.stale { color: var(--failing); font-weight: 600; }

.filter-box { margin: 0.6rem 0; }
.filter-box > summary { margin: 0; padding: 0.3rem 0; }
.filters { display: grid; grid-template-columns: 1fr 1fr; gap: 0.5rem; margin: 0.25rem 0 0.5rem; }
.filters label { display: flex; flex-direction: column; font-size: 0.8rem; color: var(--muted); gap: 0.15rem; min-width: 0; }
.filters select, .filters input { font: inherit; font-size: 1rem; color: var(--fg); background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 0.35rem 0.4rem; min-width: 0; width: 100%; }
.filters .actions { display: flex; gap: 0.75rem; align-items: center; }
.filters button { font: inherit; padding: 0.35rem 0.9rem; border-radius: 6px; border: 1px solid var(--line); background: var(--link); color: var(--bg); font-weight: 600; cursor: pointer; }
.notice { border: 1px solid var(--degraded); background: var(--degraded-bg); padding: 0.4rem 0.6rem; border-radius: 6px; }
.showing { margin: 0.25rem 0 0.5rem; }

/* Counts: two per line on a phone, one row on a laptop. Each is a filter link. */
.tiles { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0.4rem; margin: 0.5rem 0; padding: 0; list-style: none; }
.tiles a { display: flex; align-items: baseline; gap: 0.4rem; padding: 0.3rem 0.55rem; border: 1px solid var(--line); border-radius: 8px; background: var(--card); color: var(--fg); text-decoration: none; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tiles a[aria-current="true"] { outline: 3px solid var(--link); outline-offset: 1px; }
.tiles .n { font-size: 1.25rem; font-weight: 700; line-height: 1.2; }
.tiles .zero .n { font-weight: 400; }
.layers { display: flex; flex-wrap: wrap; }
.layers li.zero { display: none; }
.layers li.rest { align-self: center; font-size: 0.9rem; }
.layers a { padding: 0.2rem 0.55rem; }
.layers .n { font-size: 1.05rem; }
@media (min-width: 40rem) {
  .tiles.states { grid-template-columns: repeat(5, minmax(0, 1fr)); }
  .tiles.states a { display: block; }
  .tiles.states .n { display: block; font-size: 1.6rem; }
  .layers { display: grid; grid-template-columns: repeat(auto-fill, minmax(7.5rem, 1fr)); }
  .layers li.zero { display: block; }
  .layers li.rest { display: none; }
}
@media (min-width: 70rem) {
  .layers { grid-template-columns: repeat(9, minmax(0, 1fr)); }
}

.badge { display: inline-block; white-space: nowrap; font-weight: 700; font-size: 0.85rem; text-transform: uppercase; letter-spacing: 0.02em; padding: 0.05rem 0.45rem; border-radius: 999px; border: 1px solid currentColor; }
.st-failing, .ss-fail { color: var(--failing); background: var(--failing-bg); }
.st-unreachable, .ss-error { color: var(--unreachable); background: var(--unreachable-bg); }
.st-degraded, .ss-warn { color: var(--degraded); background: var(--degraded-bg); }
.st-asleep { color: var(--asleep); background: var(--asleep-bg); }
.st-healthy, .ss-ok { color: var(--healthy); background: var(--healthy-bg); }
.ss-skip { color: var(--muted); }
.tiles a.st-failing, .tiles a.st-unreachable, .tiles a.st-degraded, .tiles a.st-asleep, .tiles a.st-healthy { border-color: currentColor; }
.tiles a.zero { color: var(--muted); background: var(--card); border-color: var(--line); }

/* Node list: cards on a phone, a table from 60rem up. */
table { border-collapse: collapse; width: 100%; }
.nodes thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
.nodes tr { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.2rem 0.75rem; background: var(--card); border: 1px solid var(--line); border-left: 6px solid var(--line); border-radius: 8px; padding: 0.55rem 0.7rem; margin-bottom: 0.5rem; }
.nodes tr.st-failing { border-left-color: var(--failing); }
.nodes tr.st-unreachable { border-left-color: var(--unreachable); }
.nodes tr.st-degraded { border-left-color: var(--degraded); }
.nodes tr.st-asleep { border-left-color: var(--asleep); }
.nodes tr.row { background: var(--card); color: var(--fg); }
.nodes td { display: block; padding: 0; min-width: 0; }
.nodes td.node { flex: 1 1 12rem; font-weight: 700; font-size: 1.05rem; }
.nodes td.node .host { display: block; font-weight: 400; font-size: 0.85rem; color: var(--muted); }
.nodes td.state { flex: 0 0 auto; }
.nodes td.layer::before { content: "layer "; color: var(--muted); }
.nodes td.code::before { content: "code "; color: var(--muted); }
.nodes td.age::before { content: "report "; color: var(--muted); }
.nodes td.action { flex: 1 1 100%; }
.action .what { display: block; color: var(--muted); font-size: 0.9rem; }
/* In the list, a long summary must not push the action off a phone screen: 3 lines, the node page has the rest. */
.nodes .action .what { display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 3; line-clamp: 3; overflow: hidden; }
.action .do { display: block; }
.action .do::before { content: "→ "; font-weight: 700; }
.action .last { display: block; font-size: 0.85rem; color: var(--muted); }
.more { margin: 0.5rem 0; }

@media (min-width: 60rem) {
  .wrap { padding: 0 1.25rem; }
  .filters { grid-template-columns: repeat(4, minmax(0, 1fr)) auto; align-items: end; }
  .filters .actions { align-self: end; padding-bottom: 0.2rem; }
  .nodes th { white-space: nowrap; }
  .nodes td.layer, .nodes td.code { white-space: nowrap; overflow-wrap: normal; }
  .nodes thead { position: static; width: auto; height: auto; overflow: visible; clip-path: none; }
  .nodes th { text-align: left; font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); padding: 0.3rem 0.6rem; border-bottom: 2px solid var(--line); }
  .nodes tr { display: table-row; border: 0; padding: 0; margin: 0; border-radius: 0; }
  .nodes tbody tr { border-bottom: 1px solid var(--line); }
  .nodes td { display: table-cell; padding: 0.5rem 0.6rem; vertical-align: top; }
  .nodes td:first-child { border-left: 6px solid var(--line); }
  .nodes tr.st-failing td:first-child { border-left-color: var(--failing); }
  .nodes tr.st-unreachable td:first-child { border-left-color: var(--unreachable); }
  .nodes tr.st-degraded td:first-child { border-left-color: var(--degraded); }
  .nodes tr.st-asleep td:first-child { border-left-color: var(--asleep); }
  .nodes tr.st-healthy td:first-child { border-left-color: var(--healthy); }
  .nodes td.layer::before, .nodes td.code::before, .nodes td.age::before { content: none; }
  .nodes td.node { width: 14rem; }
  .nodes td.node a { white-space: nowrap; }
  .nodes td.age { white-space: nowrap; }
  .nodes td.action { width: 34%; }
}

/* Node page */
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 0.75rem; margin: 0.5rem 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; min-width: 0; }
.findings { list-style: none; padding: 0; margin: 0; }
.findings li { background: var(--card); border: 1px solid var(--line); border-left: 6px solid var(--line); border-radius: 8px; padding: 0.55rem 0.7rem; margin-bottom: 0.5rem; }
.findings li.ss-fail { border-left-color: var(--failing); background: var(--card); color: var(--fg); }
.findings li.ss-warn { border-left-color: var(--degraded); background: var(--card); color: var(--fg); }
.findings li.ss-error { border-left-color: var(--unreachable); background: var(--card); color: var(--fg); }
.findings .title { font-weight: 700; }
.findings .dep { color: var(--muted); font-size: 0.9rem; }
.evidence { font-size: 0.88rem; margin: 0.3rem 0 0; }
.evidence dt { display: inline; color: var(--muted); }
.evidence dd { display: inline; margin: 0 0.75rem 0 0.25rem; }
time { white-space: nowrap; }
.table-wrap { overflow-x: auto; }
.list { width: 100%; font-size: 0.92rem; }
.list th { text-align: left; color: var(--muted); font-weight: 600; font-size: 0.8rem; text-transform: uppercase; padding: 0.3rem 0.5rem; border-bottom: 2px solid var(--line); }
.list td { padding: 0.35rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
@media (min-width: 60rem) {
  .list th { white-space: nowrap; }
  .list td { overflow-wrap: break-word; }
}
@media (max-width: 59.99rem) {
  .list thead { display: none; }
  .list tr { display: block; border-bottom: 1px solid var(--line); padding: 0.35rem 0; }
  .list td { display: block; border: 0; padding: 0.05rem 0; }
  .list td[data-label]::before { content: attr(data-label) " "; color: var(--muted); font-size: 0.8rem; text-transform: uppercase; }
}
/* History strips (inline SVG): colour by class, since the CSP allows no inline style; worse states are drawn taller. */
.strip { display: block; width: 100%; }
.tl-failing { fill: var(--failing); }
.tl-unreachable { fill: var(--unreachable); }
.tl-degraded { fill: var(--degraded); }
.tl-asleep { fill: var(--asleep); }
.tl-healthy { fill: var(--healthy); }
.tl-unknown { fill: var(--line); }
.tl-raised { fill: var(--muted); }
.tl-mark, .tl-cred { fill: var(--fg); }
.tl-grid { stroke: var(--muted); stroke-width: 1px; stroke-dasharray: 2 2; vector-effect: non-scaling-stroke; opacity: 0.5; }
.lane-track { fill: var(--line); }
.tl-legend { display: flex; flex-wrap: wrap; gap: 0.15rem 0.8rem; align-items: center; font-size: 0.85rem; margin: 0.25rem 0 0.5rem; }
.tl-key { white-space: nowrap; }
.swatch { width: 0.5rem; height: 1rem; vertical-align: -0.15rem; }
.nodes td.history { flex: 1 1 100%; }
.timeline { margin: 0.25rem 0 0.5rem; }
.timeline .lane { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0.1rem 0.75rem; align-items: center; margin-bottom: 0.45rem; }
.timeline .lane-label { font-size: 0.85rem; min-width: 0; }
.timeline .axis { font-size: 0.75rem; color: var(--muted); margin-bottom: 0; }
.timeline .ticks { display: flex; justify-content: space-between; }
@media (max-width: 59.99rem) {
  .timeline .axis > span:first-child { display: none; }
}
@media (min-width: 60rem) {
  .nodes td.history { width: 16rem; }
  .nodes td.history .strip { min-width: 14rem; }
  .timeline .lane { grid-template-columns: 16rem minmax(0, 1fr); }
}
details > summary { cursor: pointer; color: var(--link); margin: 0.5rem 0; }
footer { margin: 2rem 0 1.5rem; font-size: 0.85rem; color: var(--muted); }
`;
