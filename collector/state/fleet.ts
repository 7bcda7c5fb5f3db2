// The collector's live view of the fleet: the store's rows plus which agents
// are connected right now. Ingest writes through it (store first, then memory);
// metrics and queries read it. Fleet-wide findings are derived here, cached
// until something changes.
import type { Finding } from "../../shared/finding.ts";
import { fleetFindings, ROTATION_LOOKBACK_MS } from "../classify/fleet-findings.ts";
import { relabelFromReport, silenceLabel } from "../classify/silent-nodes.ts";
import { reportTransitions } from "../classify/transitions.ts";
import type { PeerProbe } from "../classify/tailnet-prober.ts";
import { allEvents, type EventRow, type NodeIdentityRow, type NodeRow, type RetentionPolicy, type SilenceRow, type Store, type StoredReport } from "./store.ts";

export interface NodeView {
  identity: NodeIdentityRow;
  firstSeenMs: number;
  lastSeq: bigint;
  clockSkewMs: number;
  current?: StoredReport;
  /** Open agent streams for this node id, by stream id, with when each opened. */
  streams: Map<number, { peer: string; openedMs: number }>;
  /** The open silence, while the node is not connected. */
  silence?: SilenceRow["label"];
  /** When the node's last silence ended: only reports soon after it may relabel it. */
  wokeAtMs?: number;
  /** The collector's own probe of the node's tailnet URL (--probe-tailnet). */
  peerProbe?: PeerProbe;
}

/** How long after a node returns its reports may still relabel the silence before. */
const RELABEL_WINDOW_MS = 10 * 60_000;

export const DEFAULT_RETENTION: RetentionPolicy = {
  reportsMaxAgeMs: 48 * 3_600_000,
  eventsMaxAgeMs: 30 * 86_400_000,
  eventsMaxRows: 1_000_000,
};

export class Fleet {
  readonly store: Store;
  private readonly nodes = new Map<string, NodeView>();
  private derived?: { atMs: number; findings: Map<string, Finding[]> };
  /** Bumped on every change; metrics use it to reuse their last rendering. */
  version = 0;
  /** Credential rotations per node and kind: starts from the event log, counts up while running. */
  readonly rotations = new Map<string, Map<string, number>>();
  /** A callback waits for the open group commit (see reloadIfRolledBack). */
  private awaitingCommit = false;

  constructor(store: Store, nowMs = Date.now()) {
    this.store = store;
    const opening: Pick<SilenceRow, "nodeId" | "startedMs" | "label">[] = [];
    for (const row of store.listNodes()) {
      const view = viewFromRow(row);
      this.nodes.set(row.nodeId, view);
      // Whatever was connected before a restart is silent until it reconnects.
      view.silence = silenceLabel(view.current);
      const open = store.silences(row.nodeId, 1)[0];
      if (!open || open.endedMs !== undefined) opening.push({ nodeId: row.nodeId, startedMs: nowMs, label: view.silence });
      else view.silence = open.label;
    }
    // One commit for all: one each made the start take 5 s at 10,000 nodes (with an fsync apiece).
    store.openSilences(opening);
    // Counted by the store: loading a million-event log to count it took 11.6 s and 1.3 GB at start.
    for (const { nodeId, kind, count } of store.rotationCounts()) this.countRotation(nodeId, kind, count);
  }

  private countRotation(nodeId: string, kind: string, count = 1): void {
    const byKind = this.rotations.get(nodeId) ?? new Map<string, number>();
    byKind.set(kind, (byKind.get(kind) ?? 0) + count);
    this.rotations.set(nodeId, byKind);
  }

  /** An agent said hello: returns the highest seq already stored for it. */
  connect(identity: NodeIdentityRow, streamId: number, peer: string, sentAtMs: number, nowMs: number): bigint {
    const clockSkewMs = sentAtMs > 0 ? sentAtMs - nowMs : 0;
    const lastSeq = this.store.upsertNode(identity, nowMs, clockSkewMs);
    let view = this.nodes.get(identity.nodeId);
    if (!view) {
      view = { identity, firstSeenMs: nowMs, lastSeq, clockSkewMs, streams: new Map() };
      this.nodes.set(identity.nodeId, view);
    }
    view.identity = { ...identity, openclawVersion: identity.openclawVersion || view.identity.openclawVersion };
    view.clockSkewMs = clockSkewMs;
    view.streams.set(streamId, { peer, openedMs: nowMs });
    const events: EventRow[] = [{ nodeId: identity.nodeId, atMs: nowMs, kind: "connect", detail: { peer, agentVersion: identity.agentVersion } }];
    if (view.silence) {
      const closed = this.store.closeSilence(identity.nodeId, nowMs);
      if (closed) events.push({ nodeId: identity.nodeId, atMs: nowMs, kind: "woke", detail: { label: closed.label, silentMs: nowMs - closed.startedMs } });
      view.silence = undefined;
      view.wokeAtMs = nowMs;
    }
    if (view.streams.size > 1) events.push({ nodeId: identity.nodeId, atMs: nowMs, kind: "identity_conflict", detail: { peers: [...view.streams.values()].map((s) => s.peer).join(",") } });
    this.store.appendEvents(events);
    this.changed();
    return lastSeq;
  }

  disconnect(nodeId: string, streamId: number, nowMs: number): void {
    const view = this.nodes.get(nodeId);
    if (!view || !view.streams.delete(streamId)) return;
    const events: EventRow[] = [{ nodeId, atMs: nowMs, kind: "disconnect", detail: {} }];
    if (view.streams.size === 0) {
      view.silence = silenceLabel(view.current);
      this.store.openSilence(nodeId, nowMs, view.silence);
      events.push({ nodeId, atMs: nowMs, kind: "silent", detail: { label: view.silence } });
    }
    this.store.appendEvents(events);
    this.changed();
  }

  record(report: StoredReport): "stored" | "stored_old" | "duplicate" {
    const view = this.nodes.get(report.nodeId);
    const newest = !view?.current || report.seq > view.current.seq;
    const events = newest ? reportTransitions(view?.current, report) : [];
    const outcome = this.store.applyReport(report, events);
    this.reloadIfRolledBack();
    if (outcome === "stored") for (const event of events) if (event.kind === "credential_rotated") this.countRotation(event.nodeId, String(event.detail.kind ?? "unknown"));
    if (outcome === "stored" && view) {
      if (report.seq > view.lastSeq) view.lastSeq = report.seq;
      view.current = report;
      if (report.openclawVersion) view.identity = { ...view.identity, openclawVersion: report.openclawVersion };
      // Ingest's hot path: the silence table is read only for the first reports after a wake.
      if (view.wokeAtMs !== undefined && report.receivedAtMs - view.wokeAtMs <= RELABEL_WINDOW_MS) this.relabelLastSilence(report);
      this.changed();
    }
    return outcome;
  }

  /**
   * Memory runs ahead of a group commit; should the commit fail, what it held
   * never happened: the stored state (reports, sequence numbers, rotation
   * counts) is read back, once per failed commit. Agents resend what was not
   * acknowledged.
   */
  private reloadIfRolledBack(): void {
    if (this.awaitingCommit) return;
    this.awaitingCommit = true;
    this.store.whenDurable((error) => {
      this.awaitingCommit = false;
      if (error) this.reloadFromStore();
    });
  }

  private reloadFromStore(): void {
    for (const row of this.store.listNodes()) {
      const view = this.nodes.get(row.nodeId);
      if (!view) continue;
      const stored = viewFromRow(row);
      Object.assign(view, { identity: stored.identity, lastSeq: stored.lastSeq, current: stored.current });
    }
    this.rotations.clear();
    for (const { nodeId, kind, count } of this.store.rotationCounts()) this.countRotation(nodeId, kind, count);
    this.changed();
  }

  /** The first report after a silence may prove the node slept through it. */
  private relabelLastSilence(report: StoredReport): void {
    const last = this.store.silences(report.nodeId, 1)[0];
    if (!last || last.endedMs === undefined || report.receivedAtMs - last.endedMs > RELABEL_WINDOW_MS) return;
    const label = relabelFromReport(last, report);
    if (!label) return;
    this.store.relabelSilence(last.id, label);
    this.store.appendEvents([{ nodeId: report.nodeId, atMs: report.receivedAtMs, kind: "relabelled", detail: { from: last.label, to: label, silenceStartedMs: last.startedMs, silenceEndedMs: last.endedMs } }]);
  }

  setPeerProbe(nodeId: string, probe: PeerProbe): void {
    const view = this.nodes.get(nodeId);
    if (!view) return;
    const changed = view.peerProbe?.ok !== probe.ok || view.peerProbe?.failure !== probe.failure;
    view.peerProbe = probe;
    if (changed) this.changed();
  }

  list(): NodeView[] {
    return [...this.nodes.values()];
  }

  get(nodeId: string): NodeView | undefined {
    return this.nodes.get(nodeId);
  }

  get size(): number {
    return this.nodes.size;
  }

  /** Fleet-wide findings per node, recomputed at most once a second. */
  fleetFindings(nowMs = Date.now()): Map<string, Finding[]> {
    if (this.derived && nowMs - this.derived.atMs < 1000) return this.derived.findings;
    const findings = fleetFindings({
      nodes: this.list().map((v) => ({
        nodeId: v.identity.nodeId,
        clockSkewMs: v.streams.size > 0 ? v.clockSkewMs : 0,
        concurrentStreamsSinceMs: v.streams.size > 1 ? Math.max(...[...v.streams.values()].map((s) => s.openedMs)) : undefined,
        peerProbe: v.streams.size > 0 ? v.peerProbe : undefined,
        loopbackHealthy: v.current?.findings.some((f) => f.layer === "gateway" && f.status === "ok") ?? false,
      })),
      // Only the ones in use count (token_shared); retired rows grow with every rotation.
      credentials: this.store.credentialUses({ activeOnly: true }),
      rotations: [...allEvents(this.store, { sinceMs: nowMs - ROTATION_LOOKBACK_MS, kind: "credential_rotated" })],
      nowMs,
    });
    this.derived = { atMs: nowMs, findings };
    return findings;
  }

  prune(policy: RetentionPolicy, nowMs = Date.now()) {
    return this.store.prune(policy, nowMs);
  }

  private changed(): void {
    this.version++;
    this.derived = undefined;
  }
}

function viewFromRow(row: NodeRow): NodeView {
  const { firstSeenMs, lastSeq, current, clockSkewMs, lastSeenMs: _seen, ...identity } = row;
  return { identity, firstSeenMs, lastSeq, clockSkewMs, current, streams: new Map() };
}
