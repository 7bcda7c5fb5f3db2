// The collector's HTTP side: /metrics for Prometheus, /healthz for probes, and
// a read-only fleet page at / (node pages at /node/ID) for people. The pages
// are server-rendered, need no build step or CDN, and carry a CSP that allows
// only this server's own stylesheet and script, so even a markup-escaping bug
// could not run an agent's script.
import { createServer, type IncomingMessage, type ServerResponse, type Server } from "node:http";
import type { Registry } from "prom-client";
import { NODE_ID_PATTERN } from "../../shared/node-id.ts";
import type { Fleet } from "../state/fleet.ts";
import { renderFleetPage } from "./fleet-page.ts";
import { renderNodePage } from "./node-page.ts";
import { ASSETS, DEFAULT_REFRESH_SECONDS } from "./page-layout.ts";

/**
 * `connect-src 'self'` is what lets the page script re-fetch the page; nothing
 * else may load, no inline script or style, no framing, forms only to here.
 */
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const PAGE_HEADERS = {
  "content-security-policy": PAGE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
} as const;

/** `?refresh=N` seconds (0 turns it off; 2 to 3600), else the default. */
export function refreshSeconds(query: URLSearchParams): number {
  const raw = query.get("refresh");
  if (raw === null || !/^\d{1,4}$/.test(raw)) return DEFAULT_REFRESH_SECONDS;
  const n = Number(raw);
  return n === 0 ? 0 : Math.min(Math.max(n, 2), 3600);
}

export function createHttpServer(registry: Registry, fleetMetrics: () => string, fleet?: Fleet): Server {
  return createServer(async (request, response) => {
    let url: URL;
    try {
      url = new URL(request.url ?? "/", "http://collector.invalid");
    } catch {
      response.writeHead(400, { "content-type": "text/plain" }).end("bad request\n");
      return;
    }
    const path = url.pathname;
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/metrics") {
      try {
        const body = fleetMetrics() + (await registry.metrics());
        response.writeHead(200, { "content-type": registry.contentType }).end(body);
      } catch (error) {
        response.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${(error as Error).message}\n`);
      }
      return;
    }
    if (path === "/healthz") {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (path === "/app.css" || path === "/app.js") {
      const asset = ASSETS[path];
      // Page URLs carry the asset's content hash, so a cached copy is never stale.
      const cache = url.searchParams.get("v") === asset.version ? "public, max-age=31536000, immutable" : "no-cache";
      send(request, response, 200, asset.type, asset.body, { ...PAGE_HEADERS, "cache-control": cache });
      return;
    }
    if (fleet && (path === "/" || path.startsWith("/node/"))) {
      await servePage(request, response, fleet, url);
      return;
    }
    if (path === "/") {
      response.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end("clawfleet collector\n/metrics  Prometheus metrics\n/healthz  liveness\n");
      return;
    }
    response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });
}

async function servePage(request: IncomingMessage, response: ServerResponse, fleet: Fleet, url: URL): Promise<void> {
  const refresh = refreshSeconds(url.searchParams);
  try {
    if (url.pathname === "/") {
      // fleet.reading: at once on SQLite; on a shared store, its reads fetched first (replayed-reads.ts).
      send(request, response, 200, "text/html; charset=utf-8", await fleet.reading(() => renderFleetPage(fleet, url.searchParams, refresh)), PAGE_HEADERS);
      return;
    }
    let nodeId: string;
    try {
      nodeId = decodeURIComponent(url.pathname.slice("/node/".length));
    } catch {
      nodeId = "";
    }
    const page = NODE_ID_PATTERN.test(nodeId) ? await fleet.reading(() => renderNodePage(fleet, nodeId, url.searchParams, refresh)) : undefined;
    if (page) send(request, response, 200, "text/html; charset=utf-8", page, PAGE_HEADERS);
    // Plain text: the id may be anything the requester typed, and text cannot carry markup.
    else send(request, response, 404, "text/plain; charset=utf-8", `No node with that id has reported to this collector. The fleet: /\n`, PAGE_HEADERS);
  } catch (error) {
    send(request, response, 500, "text/plain; charset=utf-8", `page failed: ${(error as Error).message}\n`, PAGE_HEADERS);
  }
}

function send(request: IncomingMessage, response: ServerResponse, status: number, type: string, body: string, headers: Record<string, string>): void {
  const buffer = Buffer.from(body, "utf8");
  response.writeHead(status, { ...headers, "content-type": type, "content-length": buffer.length, ...(headers["cache-control"] ? {} : { "cache-control": "no-store" }) });
  response.end(request.method === "HEAD" ? undefined : buffer);
}
