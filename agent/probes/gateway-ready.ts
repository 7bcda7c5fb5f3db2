// GET /readyz on loopback: 200 {"ready":true} once the gateway has started;
// it answers without auth on loopback.
//
// node:http, not fetch: fetch is Node's bundled undici, whose first use compiles
// and instantiates it (~100 ms CPU and several MB resident in a process that
// otherwise never loads it); one loopback GET needs none of it.
import { get } from "node:http";

export interface ReadyResult {
  httpStatus?: number;
  ready: boolean;
  failing: string[];
  error?: string;
}

/** /readyz answers a few hundred bytes; more than this is not the gateway's answer. */
const MAX_BODY_BYTES = 64 * 1024;

export function probeReady(port: number, signal: AbortSignal): Promise<ReadyResult> {
  return new Promise((resolve) => {
    // agent: false: no keep-alive socket left open to the gateway between cycles.
    const request = get({ host: "127.0.0.1", port, path: "/readyz", signal, agent: false, headers: { accept: "application/json" } }, (response) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      response.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > MAX_BODY_BYTES) return response.destroy(new Error(`/readyz answered more than ${MAX_BODY_BYTES} bytes`));
        chunks.push(chunk);
      });
      response.on("error", (error) => resolve({ httpStatus: response.statusCode, ready: false, failing: [], error: error.message }));
      response.on("end", () => {
        const status = response.statusCode ?? 0;
        let body: { ready?: unknown; failing?: unknown } = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8")) ?? {};
        } catch {
          // Not JSON: judged by the status alone, as before.
        }
        const failing = Array.isArray(body.failing) ? body.failing.map(String) : [];
        resolve({ httpStatus: status, ready: status >= 200 && status < 300 && body.ready === true, failing });
      });
    });
    request.on("error", (error) => resolve({ ready: false, failing: [], error: error.message }));
  });
}
