// HTTP(S) to the gateway, on loopback or through its tailnet URL, with the
// failure named the way the tunnel layer needs it: TLS (certificate, name),
// connect (refused, unreachable, unresolved) or timeout. Uses node:https so
// the default CA store, including NODE_EXTRA_CA_CERTS, decides trust.
import type { ClientRequest } from "node:http";
import type { RequestOptions } from "node:https";

/** node:https (and TLS behind it) loads on the first tailnet probe: a host that has none pays nothing for it. */
type Send = (url: string, options: RequestOptions) => ClientRequest;
const loadSend = (https: boolean): Promise<Send> => (https ? import("node:https").then((m) => m.request) : import("node:http").then((m) => m.request));

export interface ProbeError {
  kind: "tls" | "connect" | "timeout" | "other";
  code: string;
  message: string;
}

export interface HttpProbeResult {
  status?: number;
  body?: string;
  error?: ProbeError;
  elapsedMs: number;
}

export interface HttpProbeOptions {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal: AbortSignal;
}

const MAX_BODY = 16 * 1024;

export function httpProbe(url: string, options: HttpProbeOptions): Promise<HttpProbeResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, timeout]);
  return loadSend(url.startsWith("https:")).then((send) => new Promise<HttpProbeResult>((resolve) => {
    let settled = false;
    const finish = (result: Omit<HttpProbeResult, "elapsedMs">) => {
      if (settled) return;
      settled = true;
      resolve({ ...result, elapsedMs: elapsed() });
    };
    let req: ClientRequest;
    try {
      // agent: false: a fresh connection each time, so a probe never rides a
      // socket another probe warmed up (and proves the TLS handshake itself).
      req = send(url, { method: options.method ?? "GET", headers: options.headers, agent: false, signal });
    } catch (error) {
      return finish({ error: classify(error, timeout.aborted) });
    }
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        if (size < MAX_BODY) chunks.push(chunk);
        size += chunk.length;
      });
      res.on("end", () => finish({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8").slice(0, MAX_BODY) }));
      res.on("error", () => finish({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", (error) => finish({ error: classify(error, timeout.aborted) }));
    req.end(options.body);
  }));
}

/** Node's names for certificate and handshake failures (OpenSSL verify codes, ERR_TLS_*, ERR_SSL_*). */
const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED", "CERT_REJECTED", "CERT_SIGNATURE_FAILURE", "HOSTNAME_MISMATCH", "EPROTO",
]);
const CONNECT_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EADDRNOTAVAIL", "EPIPE", "ETIMEDOUT"]);

export function classify(error: unknown, timedOut: boolean): ProbeError {
  const e = error as NodeJS.ErrnoException;
  const code = e.code ?? e.name ?? "ERROR";
  // Node appends advice to certificate errors ("; if the root CA is installed
  // locally, try …") that would read as ours in a finding.
  const message = (e.message ?? String(error)).split("\n")[0]!.split("; if the root CA")[0]!.slice(0, 200);
  if (timedOut || e.name === "AbortError" || e.name === "TimeoutError") return { kind: "timeout", code: "TIMEOUT", message: "no answer before the probe's timeout" };
  if (TLS_CODES.has(code) || code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_")) return { kind: "tls", code, message };
  if (CONNECT_CODES.has(code)) return { kind: "connect", code, message };
  return { kind: "other", code, message };
}

export type TokenVerdict = "accepted" | "rejected" | "proxy_attribution_required" | "rate_limited" | "unexpected" | "failed";

export interface TokenProbeResult {
  verdict: TokenVerdict;
  status?: number;
  /** The gateway's error.type from the JSON body, when it sent one. */
  errorType?: string;
  error?: ProbeError;
}

/**
 * The gateway's cheapest authenticated route: `POST /tools/invoke` with `{}`
 * answers 400 (no tool name) once the bearer token passed, 401 when it did
 * not, and 403 `proxy_attribution_required` when forwarding headers arrive
 * from an untrusted proxy, before the token is looked at.
 */
export async function tokenProbe(baseUrl: string, token: string, options: Omit<HttpProbeOptions, "method" | "headers" | "body">): Promise<TokenProbeResult> {
  const result = await httpProbe(`${baseUrl}/tools/invoke`, {
    ...options,
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: "{}",
  });
  if (result.error) return { verdict: "failed", error: result.error };
  const errorType = errorTypeOf(result.body);
  const base = { status: result.status, ...(errorType ? { errorType } : {}) };
  if (result.status === 400) return { verdict: "accepted", ...base };
  if (result.status === 401) return { verdict: "rejected", ...base };
  if (result.status === 403 && errorType === "proxy_attribution_required") return { verdict: "proxy_attribution_required", ...base };
  if (result.status === 429) return { verdict: "rate_limited", ...base };
  return { verdict: "unexpected", ...base };
}

export function errorTypeOf(body: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(body ?? "") as { error?: { type?: unknown } };
    return typeof parsed.error?.type === "string" ? parsed.error.type : undefined;
  } catch {
    return undefined;
  }
}
