// The collector's HTTP side: /metrics for Prometheus, /healthz for probes.
import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

export function createHttpServer(registry: Registry, fleetMetrics: () => string): Server {
  return createServer(async (request, response) => {
    const path = (request.url ?? "/").split("?")[0];
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
    if (path === "/") {
      response.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end("clawfleet collector\n/metrics  Prometheus metrics\n/healthz  liveness\n");
      return;
    }
    response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  });
}
