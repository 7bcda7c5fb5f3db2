// A day of history for the fleet-page world, written before its collector
// starts: the collector's own Fleet and SQLite store replay connects, reports
// and disconnects with past timestamps, so the event log and silence rows are
// the ones production writes. The simulated agents then carry on live.
import { primaryFinding, problem, verdictOf, type Finding } from "../../shared/finding.ts";
import { keyedFingerprint } from "../../shared/fingerprint.ts";
import { Fleet } from "../../collector/state/fleet.ts";
import { SqliteStore } from "../../collector/state/sqlite-store.ts";
import type { CredentialRow, StoredReport } from "../../collector/state/store.ts";
import { healthyFindings } from "../helpers/agent-simulator.ts";

const H = 3_600_000;
const M = 60_000;

/** Fails for 10 minutes at the top of each of the last 23 hours: "this one flaps every hour". */
export const FLAPPING_NODE = "mini-03";
export const FLAPS = 23;
/** The laptop slept from 20 h ago until 13 h ago (and sleeps again during the tests). */
export const SLEPT_HOURS_AGO = { from: 20, to: 13 } as const;
/** The tunnel node was degraded 9 h ago, unreachable from 8 h until 7 h ago, then failing. */
export const UNREACHABLE_HOURS_AGO = { from: 8, to: 7 } as const;
/** mini-03's gateway token: rotated 5 h ago; its simulator reports the new one. */
export const ROTATED_HOURS_AGO = 5;
export const FLAPPING_TOKEN = { old: "mini-03-token-old", current: "mini-03-token-new" } as const;
export const FLAPPING_CREDENTIAL = { kind: "gateway_token", source: "config gateway.auth.token", subject: "gateway:18789" } as const;

const identity = (nodeId: string) => ({ nodeId, hostname: `${nodeId}.local`, platform: "darwin", agentVersion: "0.1.0", openclawVersion: "" });

export function seedHistory(dbPath: string, nodes: { sleepy: string; tunnel: string; healthy: readonly string[] }, nowMs: number): void {
  const store = new SqliteStore(dbPath);
  const start = nowMs - 26 * H;
  const fleet = new Fleet(store, start);
  const seqs = new Map<string, bigint>();
  let stream = 0;
  const streams = new Map<string, number>();
  const connect = (nodeId: string, atMs: number) => {
    streams.set(nodeId, ++stream);
    fleet.connect(identity(nodeId), stream, "ipv4:127.0.0.1:40000", 0, atMs);
  };
  const disconnect = (nodeId: string, atMs: number) => fleet.disconnect(nodeId, streams.get(nodeId)!, atMs);
  const report = (nodeId: string, atMs: number, findings: Finding[], extra: Partial<StoredReport> = {}) => {
    const seq = (seqs.get(nodeId) ?? 0n) + 1n;
    seqs.set(nodeId, seq);
    const primary = primaryFinding(findings);
    fleet.record({
      nodeId, seq, observedAtMs: atMs, receivedAtMs: atMs, verdict: verdictOf(findings), primaryIndex: primary ? findings.indexOf(primary) : -1, findings,
      durationMs: 40, maySleep: false, lastWakeMs: 0, lastSleepMs: 0, openclawVersion: "2026.9.6", credentials: [], ...extra,
    });
  };

  for (const nodeId of nodes.healthy) {
    connect(nodeId, start);
    if (nodeId !== FLAPPING_NODE) report(nodeId, start, healthyFindings());
  }

  // The flapping Mac, with its gateway token rotated once.
  const key = store.fingerprintKey();
  const token = (secret: string): CredentialRow[] => [{ ...FLAPPING_CREDENTIAL, fingerprint: keyedFingerprint(secret, key) }];
  const rotatedAt = nowMs - ROTATED_HOURS_AGO * H;
  const credentials = (atMs: number) => ({ credentials: token(atMs < rotatedAt ? FLAPPING_TOKEN.old : FLAPPING_TOKEN.current) });
  const mismatch = [...healthyFindings().filter((f) => f.layer !== "session"), problem("session", "token_mismatch", "Gateway rejects the client's token.", { source: "env OPENCLAW_GATEWAY_TOKEN" })];
  const events: [number, Finding[]][] = [[start, healthyFindings()], [rotatedAt, healthyFindings()]];
  for (let h = FLAPS; h >= 1; h--) {
    const top = nowMs - h * H;
    events.push([top, mismatch], [top + 10 * M, healthyFindings()]);
  }
  for (const [atMs, findings] of events.sort((a, b) => a[0] - b[0])) report(FLAPPING_NODE, atMs, findings, credentials(atMs));

  // The laptop that may sleep: drops its stream for the night, comes back.
  connect(nodes.sleepy, start);
  report(nodes.sleepy, start, healthyFindings(), { maySleep: true });
  disconnect(nodes.sleepy, nowMs - SLEPT_HOURS_AGO.from * H);
  connect(nodes.sleepy, nowMs - SLEPT_HOURS_AGO.to * H);
  report(nodes.sleepy, nowMs - SLEPT_HOURS_AGO.to * H + M, healthyFindings(), { maySleep: true });

  // The Mac mini whose tunnel went bad: degraded, then off the network for an hour, then failing.
  connect(nodes.tunnel, start);
  report(nodes.tunnel, start, healthyFindings());
  report(nodes.tunnel, nowMs - 9 * H, [...healthyFindings(), problem("tunnel", "tailscale_needs_login", "Tailscale key expires soon.", {}, "warn")]);
  disconnect(nodes.tunnel, nowMs - UNREACHABLE_HOURS_AGO.from * H);
  connect(nodes.tunnel, nowMs - UNREACHABLE_HOURS_AGO.to * H);
  report(nodes.tunnel, nowMs - UNREACHABLE_HOURS_AGO.to * H + M, [...healthyFindings(), problem("tunnel", "tailscale_needs_login", "Tailscale is logged out (NeedsLogin).", {})]);
  store.close();
}
