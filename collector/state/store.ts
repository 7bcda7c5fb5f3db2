// What the collector remembers. The SQLite store is the default; the interface
// is what a PostgreSQL store for HA deployments would implement.
import type { Finding, Verdict } from "../../shared/finding.ts";

export interface NodeIdentityRow {
  nodeId: string;
  hostname: string;
  platform: string;
  agentVersion: string;
  openclawVersion: string;
}

export interface StoredReport {
  nodeId: string;
  seq: bigint;
  observedAtMs: number;
  receivedAtMs: number;
  verdict: Verdict;
  primaryIndex: number;
  findings: Finding[];
  durationMs: number;
  maySleep: boolean;
  lastWakeMs: number;
}

export interface NodeRow extends NodeIdentityRow {
  firstSeenMs: number;
  lastSeenMs: number;
  /** Highest sequence number stored for the node. */
  lastSeq: bigint;
  /** The newest report (by seq), the node's current state. */
  current?: StoredReport;
}

export interface Store {
  /** Records who the node says it is (hello); returns its highest stored seq. */
  upsertNode(identity: NodeIdentityRow, seenAtMs: number): bigint;
  /**
   * Stores a report. Duplicates (same node and seq) are ignored; an older
   * report goes to history without replacing the newer current state.
   */
  recordReport(report: StoredReport): "stored" | "duplicate";
  listNodes(): NodeRow[];
  /** The fleet's fingerprint key, created on first use and kept forever. */
  fingerprintKey(): Uint8Array;
  close(): void;
}
