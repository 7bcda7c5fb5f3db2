// The gateway's WebSocket handshake with a token and no device identity: it
// proves the token without creating a pairing record.
// Rejections arrive as an error response and a 1008 close carrying a reason.
// On success it asks `config.get`, the exact "edited but not applied" signal.
//
// Client identity matters (verified on openclaw 2026.9.6): `openclaw-probe` /
// mode `probe` connects but is granted no scopes, so config.get fails with
// MISSING_SCOPE; `gateway-client` / mode `backend` with a token and no device
// gets operator.read and still creates no pairing or device-token rows.
//
// The client is `ws` (what OpenClaw's own gateway and CLI use), not Node's global
// WebSocket: that one is the bundled undici, whose first use compiles and
// instantiates all of it (~100 ms CPU and several MB resident) for one handshake.
import type WebSocketClass from "ws";

/** What `config.get` says about the file on disk vs what the gateway runs. */
export interface GatewayConfigState {
  path?: string;
  exists?: boolean;
  valid?: boolean;
  issues: { path: string; message: string }[];
  /** Revision of the config on disk (null when it does not validate). */
  configRevisionHash?: string | null;
  /** Revision the running gateway accepted. */
  appliedConfigHash?: string;
}

export interface HandshakeResult {
  outcome: "accepted" | "rejected" | "unreachable" | "timeout";
  /** Gateway's machine-readable reason, e.g. AUTH_TOKEN_MISMATCH. */
  detailCode?: string;
  /** Human text the gateway sent (never contains the token). */
  message?: string;
  closeCode?: number;
  serverVersion?: string;
  bootId?: string;
  appliedConfigHash?: string;
  elapsedMs: number;
  /** A rejection remembered from an earlier run against the same gateway process, not re-sent. */
  remembered?: boolean;
  /** From `config.get` after an accepted handshake. */
  config?: GatewayConfigState;
}

const PROTOCOL = 4;
/** How long an accepted handshake waits for `config.get` before reporting without it. */
const CONFIG_GET_WAIT_MS = 1000;
/** A frame larger than this is not a handshake answer or a config (the socket is failed instead of buffering it). */
const MAX_FRAME_BYTES = 8 * 1024 * 1024;

let wsModule: Promise<typeof WebSocketClass> | undefined;
/** Loaded on first use: `agent check` on a host with no gateway never needs it. */
const loadWebSocket = () => (wsModule ??= import("ws").then((m) => m.default));

export async function gatewayHandshake(url: string, token: string | undefined, signal: AbortSignal, clientVersion: string): Promise<HandshakeResult> {
  const started = performance.now();
  const WebSocket = await loadWebSocket();
  if (signal.aborted) return { outcome: "timeout", elapsedMs: Math.round(performance.now() - started) };
  return new Promise((resolve) => {
    let settled = false;
    let hello: Omit<HandshakeResult, "elapsedMs"> | undefined;
    // No compression offered: frames are small, and a zlib context per probe costs more than it saves.
    const ws = new WebSocket(url, { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    const finish = (result: Omit<HandshakeResult, "elapsedMs">) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      resolve({ ...result, elapsedMs: Math.round(performance.now() - started) });
      try {
        // A peer that did not answer in time gets no closing handshake to wait on (ws waits up to 30 s for one).
        if (result.outcome === "timeout" || result.outcome === "unreachable") ws.terminate();
        else ws.close(1000);
      } catch {
        // Already closing.
      }
    };
    const onAbort = () => finish(hello ?? { outcome: "timeout" });
    signal.addEventListener("abort", onAbort, { once: true });

    ws.onmessage = (event) => {
      let frame: Record<string, any>;
      try {
        frame = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (frame.type === "event" && frame.event === "connect.challenge") {
        ws.send(JSON.stringify({
          type: "req",
          id: "clawfleet-connect",
          method: "connect",
          params: {
            minProtocol: PROTOCOL,
            maxProtocol: PROTOCOL,
            client: { id: "gateway-client", version: clientVersion, platform: process.platform, mode: "backend" },
            role: "operator",
            scopes: ["operator.read"],
            caps: [],
            ...(token === undefined ? {} : { auth: { token } }),
          },
        }));
        return;
      }
      if (frame.type === "res" && frame.id === "clawfleet-connect") {
        if (frame.ok) {
          const payload = frame.payload ?? {};
          hello = {
            outcome: "accepted",
            serverVersion: payload.server?.version,
            bootId: payload.server?.bootId,
            appliedConfigHash: payload.snapshot?.appliedConfigHash,
          };
          ws.send(JSON.stringify({ type: "req", id: "clawfleet-config", method: "config.get", params: {} }));
          // The token verdict must not wait on a slow config read (a gateway still warming up).
          setTimeout(() => finish(hello!), CONFIG_GET_WAIT_MS).unref();
        } else {
          // "gateway starting; retry shortly" (UNAVAILABLE, retryable) says nothing
          // about the token: calling it a rejection would report a mismatch, and the
          // daemon would remember it, for a gateway that is merely restarting.
          if (frame.error?.retryable === true) finish({ outcome: "unreachable", detailCode: frame.error?.code, message: frame.error?.message });
          else finish({ outcome: "rejected", detailCode: frame.error?.details?.code ?? frame.error?.code, message: frame.error?.message });
        }
        return;
      }
      if (frame.type === "res" && frame.id === "clawfleet-config" && hello) {
        const p = frame.ok ? (frame.payload ?? {}) : undefined;
        finish({
          ...hello,
          config: p && {
            path: p.path,
            exists: p.exists,
            valid: p.valid,
            issues: Array.isArray(p.issues) ? p.issues.map((i: any) => ({ path: String(i?.path ?? ""), message: String(i?.message ?? "") })) : [],
            configRevisionHash: p.configRevisionHash,
            appliedConfigHash: p.appliedConfigHash ?? hello.appliedConfigHash,
          },
        });
      }
    };
    ws.onclose = (event) => {
      // A close before any response: rejected at upgrade or by protocol mismatch.
      if (hello) return finish(hello);
      // 1006: no close frame (connection lost); 1013: "try again later", the gateway is starting.
      finish(event.code === 1006 || event.code === 1013 ? { outcome: "unreachable", closeCode: event.code, message: event.reason } : { outcome: "rejected", closeCode: event.code, message: event.reason });
    };
    ws.onerror = () => finish(hello ?? { outcome: "unreachable" });
  });
}
