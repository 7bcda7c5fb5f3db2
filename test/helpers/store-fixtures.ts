// What the store tests write: a node's hello, its credentials and a report, as
// the collector would hand them to a store (the SQLite tests and the contract
// suite for both engines build them the same way).
import type { CredentialRow, StoredReport } from "../../collector/state/store.ts";
import { problem } from "../../shared/finding.ts";

export const identity = (nodeId = "mini-01") => ({ nodeId, hostname: `${nodeId}.local`, platform: "darwin", agentVersion: "0.1.0", openclawVersion: "2026.9.6" });
export const gatewayToken = (fingerprint: string): CredentialRow => ({ kind: "gateway_token", source: "config gateway.auth.token", fingerprint, subject: "gateway:18789" });
export const providerKey = (fingerprint: string): CredentialRow => ({ kind: "provider_key", source: "auth store main/anthropic", fingerprint, subject: "main/anthropic" });

/** Report `seq` of mini-01, observed at seq seconds (seqs beyond a million wrap, so huge ones stay valid times). */
export function report(seq: bigint, options: Partial<StoredReport> = {}): StoredReport {
  const failing = options.verdict === "fail";
  const atMs = 1000 * Number(seq % 1_000_000n);
  return {
    nodeId: "mini-01", seq, observedAtMs: atMs, receivedAtMs: atMs, verdict: "ok", primaryIndex: failing ? 0 : -1,
    findings: failing ? [problem("session", "token_mismatch", "rejected", { fingerprint: "hmac:abcd" })] : [],
    durationMs: 12, maySleep: false, lastWakeMs: 0, lastSleepMs: 0, openclawVersion: "2026.9.6", credentials: [], ...options,
  };
}
