// What the collector remembers. The SQLite store is the default; the interface
// is what a PostgreSQL store for HA deployments implements (AsyncStore, below).
import type { Finding, Verdict } from "../../shared/finding.ts";

export interface NodeIdentityRow {
  nodeId: string;
  hostname: string;
  platform: string;
  agentVersion: string;
  openclawVersion: string;
  /** Played by `clawfleet sim`, not a real host (its hello said so). */
  simulated?: boolean;
}

export interface CredentialRow {
  kind: string;
  source: string;
  fingerprint: string;
  subject: string;
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
  lastSleepMs: number;
  openclawVersion: string;
  credentials: CredentialRow[];
}

export interface NodeRow extends NodeIdentityRow {
  firstSeenMs: number;
  lastSeenMs: number;
  /** Highest sequence number stored for the node. */
  lastSeq: bigint;
  /** Agent clock minus collector clock at the last hello, ms. */
  clockSkewMs: number;
  /** The newest report (by seq), the node's current state. */
  current?: StoredReport;
}

/** Kinds of entries in the event log: every transition an operator may ask about later. */
export const EVENT_KINDS = [
  "connect",
  "disconnect",
  "layer_change",
  "finding_raised",
  "finding_cleared",
  "credential_rotated",
  "credential_added",
  "credential_removed",
  "version_change",
  "silent",
  "relabelled",
  "woke",
  "identity_conflict",
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface EventRow {
  id?: number;
  nodeId: string;
  atMs: number;
  kind: EventKind;
  layer?: string;
  code?: string;
  /** Structured details: from/to states, fingerprints (never secrets), versions. */
  detail: Record<string, string | number | boolean>;
}

export interface EventFilter {
  sinceMs: number;
  nodeId?: string;
  kind?: EventKind;
  /** Only entries older than this one (in the log's newest-first order): the next page after the last entry seen. */
  before?: { atMs: number; id: number };
  limit: number;
}

export interface SilenceRow {
  id: number;
  nodeId: string;
  startedMs: number;
  endedMs?: number;
  label: "asleep" | "unreachable";
  /** The label was corrected from evidence the node sent after it came back. */
  relabelled: boolean;
}

export interface CredentialUse extends CredentialRow {
  nodeId: string;
  firstSeenMs: number;
  lastSeenMs: number;
  /** When this fingerprint stopped being used at this source (rotated or removed). */
  retiredMs?: number;
}

export interface RetentionPolicy {
  /** Report rows older than this are deleted (they only serve de-duplication and recent history). */
  reportsMaxAgeMs: number;
  eventsMaxAgeMs: number;
  /** The event log never grows beyond this many rows; the oldest go first. */
  eventsMaxRows: number;
}

/** What a timeline needs from the log: a few nodes, a few kinds, one time window. */
export interface HistoryQuery {
  nodeIds: readonly string[];
  kinds: readonly EventKind[];
  sinceMs: number;
  /** Per node, at most this many events and this many silences: the newest. */
  perNodeLimit: number;
}

export interface HistoryRows {
  /** Oldest first. */
  events: EventRow[];
  /** Every silence that overlaps the window (one may start before it), oldest first. */
  silences: SilenceRow[];
}

export interface Store {
  /** Records who the node says it is (hello); returns its highest stored seq. */
  upsertNode(identity: NodeIdentityRow, seenAtMs: number, clockSkewMs: number): bigint;
  /**
   * Stores a report with the events it causes and the node's credential set, in
   * one transaction. A duplicate (same node and seq) changes nothing; an older
   * report goes to history without replacing the newer current state (and its
   * events and credentials are not applied).
   */
  applyReport(report: StoredReport, events: readonly EventRow[]): "stored" | "stored_old" | "duplicate";
  /**
   * Calls back once everything written so far is committed: reports may be
   * committed in groups, and an acknowledgement must wait for this. With an
   * error when that commit failed and was rolled back (nothing of it is stored).
   */
  whenDurable(callback: (error?: Error) => void): void;
  appendEvents(events: readonly EventRow[]): void;
  openSilence(nodeId: string, startedMs: number, label: SilenceRow["label"]): void;
  /** Many at once, one commit: the collector opens one for every node it knows at start. */
  openSilences(silences: readonly Pick<SilenceRow, "nodeId" | "startedMs" | "label">[]): void;
  closeSilence(nodeId: string, endedMs: number): SilenceRow | undefined;
  relabelSilence(id: number, label: SilenceRow["label"]): void;
  silences(nodeId: string, limit: number): SilenceRow[];
  listNodes(): NodeRow[];
  /** Newest first (by time, then id), at most `limit`; page on with `before` set to the last entry returned. */
  events(filter: EventFilter): EventRow[];
  /** How many credential_rotated events each node has, by credential kind, counted by the store (not by reading them). */
  rotationCounts(): { nodeId: string; kind: string; count: number }[];
  /** The recent history of many nodes in one read, bounded per node: what the pages draw timelines from. */
  history(query: HistoryQuery): HistoryRows;
  /**
   * Credential uses, retired ones included unless `activeOnly`; one node's with `nodeId` (read by the
   * primary key, not by filtering the fleet's: every rotation leaves a retired row, so the table grows with the log).
   */
  credentialUses(filter?: { nodeId?: string; activeOnly?: boolean }): CredentialUse[];
  prune(policy: RetentionPolicy, nowMs: number): { reports: number; events: number };
  eventCount(): number;
  /** The fleet's fingerprint key, created on first use and kept forever. */
  fingerprintKey(): Uint8Array;
  close(): void;
}

/** Every event matching `filter`, newest first, read a page at a time so no single query holds the whole log. */
export function* allEvents(store: Pick<Store, "events">, filter: Omit<EventFilter, "before" | "limit">, pageSize = 5000): Generator<EventRow> {
  let before: EventFilter["before"];
  for (;;) {
    const page = store.events({ ...filter, before, limit: pageSize });
    yield* page;
    if (page.length < pageSize) return;
    const last = page.at(-1)!;
    before = { atMs: last.atMs, id: last.id! };
  }
}

/** `Store`'s methods answering with Promises. */
type Async<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : T[K] };

/**
 * The same contract for a store on a server (PostgreSQL), where every answer is a round trip away.
 * A write's Promise settles once its commit has: resolved, it is stored and every later read sees it;
 * rejected, nothing of it is stored (unless the connection was lost during COMMIT, when it may be: a
 * resent report then answers "duplicate"). Writes of one turn share a commit (each its own unit, so one
 * bad write fails alone) and commit in the order they were made. `whenDurable` is Store's: it calls back
 * once every write made before it has settled, with the first error among them.
 */
export interface AsyncStore extends Async<Omit<Store, "whenDurable">>, Pick<Store, "whenDurable"> {}

/** allEvents for either kind of store: a Store's answers are awaited as they are. */
export async function* allEventsAsync(store: Pick<Store, "events"> | Pick<AsyncStore, "events">, filter: Omit<EventFilter, "before" | "limit">, pageSize = 5000): AsyncGenerator<EventRow> {
  let before: EventFilter["before"];
  for (;;) {
    const page = await store.events({ ...filter, before, limit: pageSize });
    yield* page;
    if (page.length < pageSize) return;
    const last = page.at(-1)!;
    before = { atMs: last.atMs, id: last.id! };
  }
}
