// The document shell both pages share: head (viewport, stylesheet, script),
// top bar with the live/stale indicator, and the <main id="main"> the page
// script swaps on refresh. Everything outside <main> survives a refresh
// untouched (the filter form a user is editing, for one).
import { createHash } from "node:crypto";
import { html, type SafeHtml } from "./html.ts";
import { PAGE_SCRIPT } from "./page-script.ts";
import { PAGE_CSS } from "./page-styles.ts";

/** Content hashes in the asset URLs: a browser never runs an old script against a new page. */
const version = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 12);
export const ASSETS = {
  "/app.css": { body: PAGE_CSS, type: "text/css; charset=utf-8", version: version(PAGE_CSS) },
  "/app.js": { body: PAGE_SCRIPT, type: "text/javascript; charset=utf-8", version: version(PAGE_SCRIPT) },
} as const;

export const DEFAULT_REFRESH_SECONDS = 15;

export interface PageShell {
  title: string;
  /** Between the top bar and <main>: kept across refreshes. */
  beforeMain?: SafeHtml;
  main: SafeHtml;
  refreshSeconds: number;
  nowMs: number;
}

export function renderPage(page: PageShell): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${page.title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css?v=${ASSETS["/app.css"].version}">
<script src="/app.js?v=${ASSETS["/app.js"].version}" defer></script>
</head>
<body>
<header class="top"><div class="wrap">
<a class="brand" href="/">clawfleet</a>
<span class="muted tagline">fleet triage</span>
<span id="refresh-status" role="status" aria-live="polite">${page.refreshSeconds > 0 ? "static page: reload to update (JavaScript off)" : "auto-refresh off"}</span>
</div></header>
<div class="wrap">
${page.beforeMain}
<main id="main" data-refresh-seconds="${page.refreshSeconds}" data-generated-ms="${page.nowMs}">
${page.main}
</main>
<footer>Read-only view of this collector. Also: <a href="/metrics">/metrics</a> (Prometheus), <a href="/healthz">/healthz</a>, and <code>clawfleet collector query nodes</code>.</footer>
</div>
</body>
</html>
`.toString();
}
