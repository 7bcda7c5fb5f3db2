// The gateway's WebSocket handshake with a token and no device identity: it
// proves the token without creating a pairing record (facts/openclaw.md).
// Rejections arrive as an error response and a 1008 close carrying a reason.

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
}

const PROTOCOL = 4;

export function gatewayHandshake(url: string, token: string | undefined, signal: AbortSignal, clientVersion: string): Promise<HandshakeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const ws = new WebSocket(url);
    const finish = (result: Omit<HandshakeResult, "elapsedMs">) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      resolve({ ...result, elapsedMs: Math.round(performance.now() - started) });
      try {
        ws.close(1000);
      } catch {
        // Already closing.
      }
    };
    const onAbort = () => finish({ outcome: "timeout" });
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
            client: { id: "openclaw-probe", version: clientVersion, platform: process.platform, mode: "probe" },
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
          finish({
            outcome: "accepted",
            serverVersion: payload.server?.version,
            bootId: payload.server?.bootId,
            appliedConfigHash: payload.snapshot?.appliedConfigHash,
          });
        } else {
          finish({ outcome: "rejected", detailCode: frame.error?.details?.code ?? frame.error?.code, message: frame.error?.message });
        }
      }
    };
    ws.onclose = (event) => {
      // A close before any response: rejected at upgrade or by protocol mismatch.
      finish(event.code === 1006 ? { outcome: "unreachable", closeCode: event.code } : { outcome: "rejected", closeCode: event.code, message: event.reason });
    };
    ws.onerror = () => finish({ outcome: "unreachable" });
  });
}
