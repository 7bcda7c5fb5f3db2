// The peer's view of the tunnel: a host cannot test its own tailnet path
// (packets to its own Tailscale address never leave it), the collector can.
// For each connected node whose last report names a tailnet URL, GET
// <url>/healthz over TLS — no token, ever — and remember the outcome.
import { request } from "node:https";
import type { Fleet } from "../state/fleet.ts";

export interface PeerProbe {
  url: string;
  atMs: number;
  durationMs: number;
  ok: boolean;
  /** "tls" when the handshake or certificate failed, "unreachable" otherwise. */
  failure?: "tls" | "unreachable";
  detail?: string;
}

export interface ProberOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Hosts the collector may probe: agents report URLs, so a hostile agent must not aim the collector anywhere. */
  allowedHosts: RegExp;
}

/** Tailscale MagicDNS names and the tailnet's CGNAT range. */
export const DEFAULT_PROBE_HOSTS = /(\.ts\.net|^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d+\.\d+)$/;

const TLS_ERRORS = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|altnames|certificate/i;

export function probeHealthz(url: string, timeoutMs: number): Promise<Omit<PeerProbe, "atMs">> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (result: Omit<PeerProbe, "atMs" | "durationMs" | "url">) => resolve({ url, durationMs: Math.round(performance.now() - started), ...result });
    let target: URL;
    try {
      target = new URL("/healthz", url);
    } catch {
      return done({ ok: false, failure: "unreachable", detail: "not a URL" });
    }
    const req = request(target, { method: "GET", timeout: timeoutMs }, (res) => {
      res.resume();
      done(res.statusCode === 200 ? { ok: true } : { ok: false, failure: "unreachable", detail: `HTTP ${res.statusCode}` });
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (error: NodeJS.ErrnoException) => {
      const text = `${error.code ?? ""} ${error.message}`;
      done({ ok: false, failure: TLS_ERRORS.test(text) ? "tls" : "unreachable", detail: (error.code ?? error.message).slice(0, 200) });
    });
    req.end();
  });
}

export function startTailnetProber(fleet: Fleet, options: ProberOptions): { stop(): void; runOnce(): Promise<void> } {
  let running = false;
  const runOnce = async () => {
    if (running) return;
    running = true;
    try {
      const targets = fleet.list().flatMap((view) => {
        // On a shared store each collector probes the nodes it holds: one probe per node across the collectors.
        if (!fleet.exposes(view) || view.streams.size === 0 || !view.current) return [];
        const url = view.current.findings.find((f) => f.layer === "tunnel" && f.evidence.tailnetUrl)?.evidence.tailnetUrl;
        if (!url || !url.startsWith("https://")) return [];
        let host: string;
        try {
          host = new URL(url).hostname;
        } catch {
          return [];
        }
        return options.allowedHosts.test(host) ? [{ nodeId: view.identity.nodeId, url }] : [];
      });
      const results = await Promise.all(targets.map(async (t) => ({ ...t, probe: await probeHealthz(t.url, options.timeoutMs) })));
      const now = Date.now();
      for (const { nodeId, probe } of results) fleet.setPeerProbe(nodeId, { ...probe, atMs: now });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(runOnce, options.intervalMs);
  timer.unref();
  void runOnce();
  return { stop: () => clearInterval(timer), runOnce };
}
