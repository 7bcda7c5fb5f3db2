// A simulated fleet for benchmarks: N nodes, each with a realistic report
// (one finding per check, some failing), stored through the real Fleet.
import { problem, passed } from "../shared/finding.ts";
import { Fleet } from "../collector/state/fleet.ts";
import { SqliteStore } from "../collector/state/sqlite-store.ts";
import type { StoredReport } from "../collector/state/store.ts";

export function simulatedReport(nodeId: string, seq: bigint, i: number, nowMs: number): StoredReport {
  const failing = i % 10 === 0;
  const findings = [
    passed("gateway", "gateway", "ready", { port: "18789" }),
    failing ? problem("session", "token_mismatch", "rejected", { fingerprint: "hmac:0123456789abcdef" }) : passed("session", "session", "accepted"),
    i % 7 === 0 ? problem("provider", "api_key_missing", "no key", { agent: "main", provider: "anthropic" }) : passed("provider", "provider", "ok"),
    passed("tunnel", "tunnel", "ok"),
    i % 5 === 0 ? problem("drift", "multiple_binaries", "two") : passed("drift", "drift", "ok"),
    i % 3 === 0 ? problem("power", "sleep_enabled", "sleeps") : passed("power", "power", "ok"),
    passed("baseline", "baseline", "ok"),
  ];
  return {
    nodeId, seq, observedAtMs: nowMs, receivedAtMs: nowMs, verdict: failing ? "fail" : "warn", primaryIndex: failing ? 1 : -1, findings,
    durationMs: 120, maySleep: i % 3 === 0, lastWakeMs: nowMs - 3_600_000, lastSleepMs: nowMs - 3_700_000, openclawVersion: "2026.9.6",
    credentials: [{ kind: "gateway_token", source: "config gateway.auth.token", fingerprint: `hmac:${i.toString(16).padStart(16, "0")}`, subject: "gateway:18789" }],
  };
}

export function simulatedFleet(nodes: number, dbPath = ":memory:"): Fleet {
  const fleet = new Fleet(new SqliteStore(dbPath));
  const now = Date.now();
  for (let i = 0; i < nodes; i++) {
    const nodeId = `mini-${String(i).padStart(5, "0")}`;
    fleet.connect({ nodeId, hostname: nodeId, platform: "darwin", agentVersion: "0.1.0", openclawVersion: "2026.9.6" }, i + 1, "ipv4:127.0.0.1:1", now, now);
    fleet.record(simulatedReport(nodeId, 1n, i, now));
  }
  return fleet;
}
