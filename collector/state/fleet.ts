// The collector's live view of the fleet: the store's rows plus which agents
// are connected right now. Ingest writes through it (store first, then memory);
// metrics and queries read it. Fleet-wide findings are derived here, cached
// until something changes.
//
// Two stores: the SQLite store answers at once, and every write is made and
// remembered in the same turn (the fast path, as it always was). A shared
// PostgreSQL store (several collectors, pg-leases.ts) answers with Promises:
// memory follows a write only once it resolved, each node's writes wait for
// the one before (a report's events derive from the state before it), a node
// whose write failed is read back, and the nodes other collectors hold are
// read from the store every refresh.
import type { Finding } from "../../shared/finding.ts";
import { fleetFindings, ROTATION_LOOKBACK_MS } from "../classify/fleet-findings.ts";
import { relabelFromReport, silenceLabel } from "../classify/silent-nodes.ts";
import { reportTransitions } from "../classify/transitions.ts";
import type { PeerProbe } from "../classify/tailnet-prober.ts";
import { allEvents, allEventsAsync, type AsyncStore, type CredentialUse, type EventRow, type NodeIdentityRow, type NodeRow, type RetentionPolicy, type SilenceRow, type Store, type StoredReport } from "./store.ts";
import { isLeaseLost } from "./lease-errors.ts";
import type { PgCoordinator } from "./pg-leases.ts";
import { replayReads } from "./replayed-reads.ts";

export interface NodeView {
  identity: NodeIdentityRow;
  firstSeenMs: number;
  lastSeq: bigint;
  clockSkewMs: number;
  current?: StoredReport;
  /**
   * Open agent streams for this node id, by stream id, with when each opened. A node another
   * collector holds has one entry, REMOTE_STREAM, naming that collector: it counts as connected.
   */
  streams: Map<number, { peer: string; openedMs: number; onLeaseLost?: () => void }>;
  /** The open silence, while the node is not connected. */
  silence?: SilenceRow["label"];
  /** When the node's last silence ended: only reports soon after it may relabel it. */
  wokeAtMs?: number;
  /** The collector's own probe of the node's tailnet URL (--probe-tailnet). */
  peerProbe?: PeerProbe;
}

/** The `streams` key of a node held by another collector on the shared store. */
export const REMOTE_STREAM = -1;

export interface SharedFleetOptions {
  coordinator: PgCoordinator;
  /** How often the nodes other collectors hold, the leases and the fleet-wide inputs are read back. */
  refreshMs: number;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

interface Shared extends SharedFleetOptions {
  store: AsyncStore;
  /** Each node's writes in order: the tail of its chain, while one runs. */
  turns: Map<string, Promise<void>>;
  /** What fleetFindings reads, fetched at each refresh. */
  credentials: CredentialUse[];
  rotations: EventRow[];
  /** Nodes the leader has seen with an open silence (no need to look again). */
  silenced: Set<string>;
  timers: NodeJS.Timeout[];
}

/** How long after a node returns its reports may still relabel the silence before. */
const RELABEL_WINDOW_MS = 10 * 60_000;

export const DEFAULT_RETENTION: RetentionPolicy = {
  reportsMaxAgeMs: 48 * 3_600_000,
  eventsMaxAgeMs: 30 * 86_400_000,
  eventsMaxRows: 1_000_000,
};

export class Fleet {
  private readonly syncStore?: Store;
  private readonly shared?: Shared;
  /** Set only while a body runs inside reading(): the shared store's reads, replayed. */
  private replayed?: Store;
  private readonly nodes = new Map<string, NodeView>();
  private derived?: { atMs: number; findings: Map<string, Finding[]> };
  /** Bumped on every change; metrics use it to reuse their last rendering. */
  version = 0;
  /** Credential rotations per node and kind: starts from the event log, counts up while running. */
  readonly rotations = new Map<string, Map<string, number>>();
  /** A callback waits for the open group commit (see reloadIfRolledBack). */
  private awaitingCommit = false;

  constructor(store: Store, nowMs?: number);
  constructor(store: AsyncStore, nowMs: number, shared: SharedFleetOptions);
  constructor(anyStore: Store | AsyncStore, nowMs = Date.now(), shared?: SharedFleetOptions) {
    if (shared) {
      // Loaded by the first refresh (openShared); silences of nodes nobody holds are the leader's.
      this.shared = { ...shared, store: anyStore as AsyncStore, turns: new Map(), credentials: [], rotations: [], silenced: new Set(), timers: [] };
      return;
    }
    const store = anyStore as Store;
    this.syncStore = store;
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

  /** A fleet on a store several collectors share: loaded, then kept fresh and its leases renewed until stop(). */
  static async openShared(store: AsyncStore, options: SharedFleetOptions): Promise<Fleet> {
    const fleet = new Fleet(store, Date.now(), options);
    await fleet.refresh();
    const shared = fleet.shared!;
    const every = (ms: number, failure: string, work: () => Promise<void>) => {
      let running = false;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        work().catch((error: Error) => shared.log?.(failure, { error: error.message })).finally(() => (running = false));
      }, ms);
      timer.unref();
      shared.timers.push(timer);
    };
    every(options.refreshMs, "reading the other collectors' nodes from the shared store failed", () => fleet.refresh());
    // A third of the lease's life: two renewals may fail (a slow round trip) before a lease lapses.
    every(Math.max(100, Math.floor(options.coordinator.leaseTtlMs / 3)), "renewing this collector's node leases failed: another collector may take its nodes when they lapse", () => fleet.renewLeases());
    return fleet;
  }

  /**
   * The store to read, synchronously: the SQLite store, or inside reading() the shared store's
   * reads replayed (replayed-reads.ts). Writes go through the Fleet.
   */
  get store(): Store {
    const store = this.replayed ?? this.syncStore;
    if (!store) throw new Error("the shared store is read inside Fleet.reading()");
    return store;
  }

  /** Runs a body that reads `fleet.store`: at once on SQLite, in replayed passes on the shared store. */
  reading<T>(body: () => T): T | Promise<T> {
    if (!this.shared) return body();
    return replayReads(this.shared.store, (reads) => {
      this.replayed = reads;
      try {
        return body();
      } finally {
        this.replayed = undefined;
      }
    });
  }

  /** Calls back once every write made so far has settled (its ack may go out), with the first error. */
  whenDurable(callback: (error?: Error) => void): void {
    if (!this.shared) return this.syncStore!.whenDurable(callback);
    const { store, turns } = this.shared;
    void Promise.all([...turns.values()]).then(() => store.whenDurable(callback));
  }

  /** Whether this collector's /metrics speaks for the node: one it holds, or (the leader) one nobody holds. */
  exposes(view: NodeView): boolean {
    if (!this.shared) return true;
    if (view.streams.has(REMOTE_STREAM)) return false;
    return view.streams.size > 0 || this.shared.coordinator.isLeader;
  }

  get isLeader(): boolean {
    return !this.shared || this.shared.coordinator.isLeader;
  }

  stop(): void {
    for (const timer of this.shared?.timers ?? []) clearInterval(timer);
  }

  private countRotation(nodeId: string, kind: string, count = 1): void {
    const byKind = this.rotations.get(nodeId) ?? new Map<string, number>();
    byKind.set(kind, (byKind.get(kind) ?? 0) + count);
    this.rotations.set(nodeId, byKind);
  }

  /**
   * An agent said hello: returns the highest seq already stored for it. On the shared store, first
   * takes the node's lease (rejecting with LeaseHeld when another live collector has it); the
   * stream is told through onLeaseLost should the lease go while it lives.
   */
  connect(identity: NodeIdentityRow, streamId: number, peer: string, sentAtMs: number, nowMs: number, onLeaseLost?: () => void): bigint | Promise<bigint> {
    const clockSkewMs = sentAtMs > 0 ? sentAtMs - nowMs : 0;
    if (this.shared) return this.connectShared(this.shared, identity, streamId, peer, clockSkewMs, nowMs, onLeaseLost);
    const lastSeq = this.store.upsertNode(identity, nowMs, clockSkewMs);
    const view = this.attach(identity, streamId, peer, clockSkewMs, lastSeq, nowMs);
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

  private attach(identity: NodeIdentityRow, streamId: number, peer: string, clockSkewMs: number, lastSeq: bigint, nowMs: number, onLeaseLost?: () => void): NodeView {
    let view = this.nodes.get(identity.nodeId);
    if (!view) {
      view = { identity, firstSeenMs: nowMs, lastSeq, clockSkewMs, streams: new Map() };
      this.nodes.set(identity.nodeId, view);
    }
    view.identity = { ...identity, openclawVersion: identity.openclawVersion || view.identity.openclawVersion };
    view.clockSkewMs = clockSkewMs;
    view.streams.delete(REMOTE_STREAM);
    view.streams.set(streamId, onLeaseLost ? { peer, openedMs: nowMs, onLeaseLost } : { peer, openedMs: nowMs });
    return view;
  }

  private connectShared(shared: Shared, identity: NodeIdentityRow, streamId: number, peer: string, clockSkewMs: number, nowMs: number, onLeaseLost?: () => void): Promise<bigint> {
    const nodeId = identity.nodeId;
    return this.inTurn(shared, nodeId, async () => {
      await shared.coordinator.take(nodeId);
      let lastSeq: bigint;
      let closed: SilenceRow | undefined;
      try {
        // Whoever opened the silence (this collector, another, the leader): the first to hold the node closes it.
        [lastSeq, closed] = await Promise.all([shared.store.upsertNode(identity, nowMs, clockSkewMs), shared.store.closeSilence(nodeId, nowMs)]);
      } catch (error) {
        if (!this.heldHere(nodeId)) await shared.coordinator.release(nodeId).catch(() => undefined);
        throw error;
      }
      const view = this.attach(identity, streamId, peer, clockSkewMs, lastSeq, nowMs, onLeaseLost);
      shared.silenced.delete(nodeId);
      const events: EventRow[] = [{ nodeId, atMs: nowMs, kind: "connect", detail: { peer, agentVersion: identity.agentVersion } }];
      if (closed) {
        events.push({ nodeId, atMs: nowMs, kind: "woke", detail: { label: closed.label, silentMs: nowMs - closed.startedMs } });
        view.wokeAtMs = nowMs;
      }
      view.silence = undefined;
      if (view.streams.size > 1) events.push({ nodeId, atMs: nowMs, kind: "identity_conflict", detail: { peers: [...view.streams.values()].map((s) => s.peer).join(",") } });
      // The history only: the node's state and its acks do not wait on these.
      void shared.store.appendEvents(events).catch((error: Error) => shared.log?.("recording a node's connect in the event log failed", { node: nodeId, error: error.message }));
      this.changed();
      return lastSeq;
    });
  }

  /** A node with a stream on this collector (not one another collector holds). */
  private heldHere(nodeId: string): boolean {
    const view = this.nodes.get(nodeId);
    return view !== undefined && view.streams.size > 0 && !view.streams.has(REMOTE_STREAM);
  }

  /**
   * Runs a node's write after the ones before it (each sees the state they left); the
   * chain's tail is kept while it runs, so whenDurable and refresh know what is in flight.
   */
  private inTurn<T>(shared: Shared, nodeId: string, work: () => Promise<T>): Promise<T> {
    const before = shared.turns.get(nodeId) ?? Promise.resolve();
    const result = before.then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    shared.turns.set(nodeId, tail);
    void tail.then(() => {
      if (shared.turns.get(nodeId) === tail) shared.turns.delete(nodeId);
    });
    return result;
  }

  disconnect(nodeId: string, streamId: number, nowMs: number): void {
    if (this.shared) return this.disconnectShared(this.shared, nodeId, streamId, nowMs);
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

  /** The stream's end on the shared store: in the node's turn, then the lease goes once nothing here holds the node. */
  private disconnectShared(shared: Shared, nodeId: string, streamId: number, nowMs: number): void {
    void this.inTurn(shared, nodeId, async () => {
      const view = this.nodes.get(nodeId);
      if (!view || !view.streams.delete(streamId)) return;
      const writes: Promise<void>[] = [];
      const events: EventRow[] = [{ nodeId, atMs: nowMs, kind: "disconnect", detail: {} }];
      if (view.streams.size === 0) {
        view.silence = silenceLabel(view.current);
        writes.push(shared.store.openSilence(nodeId, nowMs, view.silence));
        events.push({ nodeId, atMs: nowMs, kind: "silent", detail: { label: view.silence } });
        shared.silenced.add(nodeId);
      }
      writes.push(shared.store.appendEvents(events));
      this.changed();
      // The silence is written before the lease goes: the next holder's hello closes it.
      await Promise.allSettled(writes);
      if (view.streams.size === 0) await shared.coordinator.release(nodeId);
    }).catch((error: Error) => shared.log?.("releasing a node's lease failed (it lapses by itself)", { node: nodeId, error: error.message }));
  }

  record(report: StoredReport): "stored" | "stored_old" | "duplicate" | Promise<"stored" | "stored_old" | "duplicate"> {
    if (this.shared) return this.recordShared(this.shared, report);
    const view = this.nodes.get(report.nodeId);
    const newest = !view?.current || report.seq > view.current.seq;
    const events = newest ? reportTransitions(view?.current, report) : [];
    const outcome = this.store.applyReport(report, events);
    this.reloadIfRolledBack();
    // Ingest's hot path: the silence table is read only for the first reports after a wake.
    if (this.remember(view, report, events, outcome)) this.relabelLastSilence(report);
    return outcome;
  }

  /** Memory after a stored report; true when the report may relabel the silence before it. */
  private remember(view: NodeView | undefined, report: StoredReport, events: readonly EventRow[], outcome: "stored" | "stored_old" | "duplicate"): boolean {
    if (outcome === "stored") for (const event of events) if (event.kind === "credential_rotated") this.countRotation(event.nodeId, String(event.detail.kind ?? "unknown"));
    if (outcome !== "stored" || !view) return false;
    if (report.seq > view.lastSeq) view.lastSeq = report.seq;
    view.current = report;
    if (report.openclawVersion) view.identity = { ...view.identity, openclawVersion: report.openclawVersion };
    this.changed();
    return view.wokeAtMs !== undefined && report.receivedAtMs - view.wokeAtMs <= RELABEL_WINDOW_MS;
  }

  private recordShared(shared: Shared, report: StoredReport): Promise<"stored" | "stored_old" | "duplicate"> {
    return this.inTurn(shared, report.nodeId, async () => {
      const view = this.nodes.get(report.nodeId);
      const newest = !view?.current || report.seq > view.current.seq;
      const events = newest ? reportTransitions(view?.current, report) : [];
      let outcome: "stored" | "stored_old" | "duplicate";
      try {
        outcome = await shared.store.applyReport(report, events);
      } catch (error) {
        // Nothing of it is stored: this node's memory is read back (another write of the batch may have moved it).
        if (isLeaseLost(error)) this.leaseLost(report.nodeId);
        else await this.reloadNode(shared, report.nodeId).catch(() => undefined);
        throw error;
      }
      if (this.remember(view, report, events, outcome)) {
        const last = (await shared.store.silences(report.nodeId, 1))[0];
        const relabel = last && this.relabelling(last, report);
        if (relabel) await Promise.all([shared.store.relabelSilence(relabel.id, relabel.label), shared.store.appendEvents([relabel.event])]);
      }
      return outcome;
    });
  }

  private async reloadNode(shared: Shared, nodeId: string): Promise<void> {
    const row = (await shared.store.listNodes()).find((r) => r.nodeId === nodeId);
    const view = this.nodes.get(nodeId);
    if (!row || !view) return;
    const stored = viewFromRow(row);
    Object.assign(view, { identity: stored.identity, lastSeq: stored.lastSeq, current: stored.current });
    this.changed();
  }

  /** This collector no longer holds the node: its streams here are told to end (the agent goes to the holder). */
  private leaseLost(nodeId: string): void {
    for (const stream of this.nodes.get(nodeId)?.streams.values() ?? []) stream.onLeaseLost?.();
  }

  private async renewLeases(): Promise<void> {
    const shared = this.shared!;
    const held = [...this.nodes.values()].filter((v) => this.heldHere(v.identity.nodeId)).map((v) => v.identity.nodeId);
    for (const nodeId of await shared.coordinator.renew(held)) {
      // Taken since (a connect in flight, a new stream): not lost.
      if (shared.turns.has(nodeId)) continue;
      shared.log?.("lost a node's lease", { node: nodeId });
      this.leaseLost(nodeId);
    }
  }

  /**
   * Reads back what other collectors changed: the nodes they hold (connected, as they last
   * stored them), the ones nobody holds (silent), the fleet-wide findings' inputs. The leader
   * also opens the silence of a node nobody holds that has none (its collector died).
   */
  private async refresh(nowMs = Date.now()): Promise<void> {
    const shared = this.shared!;
    const leader = await shared.coordinator.tryLead();
    const [rows, holders, rotationCounts, credentials] = await Promise.all([
      shared.store.listNodes(), shared.coordinator.holders(), shared.store.rotationCounts(), shared.store.credentialUses({ activeOnly: true }),
    ]);
    const rotations: EventRow[] = [];
    for await (const event of allEventsAsync(shared.store, { sinceMs: nowMs - ROTATION_LOOKBACK_MS, kind: "credential_rotated" })) rotations.push(event);
    const unheld: NodeView[] = [];
    for (const row of rows) {
      // Memory is ahead for the nodes held here and the ones with a write in flight.
      if (this.heldHere(row.nodeId) || shared.turns.has(row.nodeId)) continue;
      const stored = viewFromRow(row);
      let view = this.nodes.get(row.nodeId);
      if (!view) this.nodes.set(row.nodeId, (view = stored));
      else Object.assign(view, { identity: stored.identity, firstSeenMs: stored.firstSeenMs, lastSeq: stored.lastSeq, clockSkewMs: stored.clockSkewMs, current: stored.current });
      const holder = holders.get(row.nodeId);
      const since = view.streams.get(REMOTE_STREAM);
      view.streams.clear();
      if (holder && holder !== shared.coordinator.collectorId) {
        view.streams.set(REMOTE_STREAM, { peer: `collector ${holder}`, openedMs: since?.peer === `collector ${holder}` ? since.openedMs : nowMs });
        view.silence = undefined;
        shared.silenced.delete(row.nodeId);
      } else {
        view.silence ??= silenceLabel(view.current);
        unheld.push(view);
      }
    }
    this.rotations.clear();
    for (const { nodeId, kind, count } of rotationCounts) this.countRotation(nodeId, kind, count);
    shared.credentials = credentials;
    shared.rotations = rotations;
    if (leader) await this.openMissingSilences(shared, unheld, nowMs);
    this.changed();
  }

  /** The leader's: a node nobody holds has an open silence (its collector may have died without writing one). */
  private async openMissingSilences(shared: Shared, unheld: NodeView[], nowMs: number): Promise<void> {
    const unknown = unheld.filter((v) => !shared.silenced.has(v.identity.nodeId));
    if (unknown.length === 0) return;
    const { silences } = await shared.store.history({ nodeIds: unknown.map((v) => v.identity.nodeId), kinds: ["silent"], sinceMs: 0, perNodeLimit: 1 });
    const open = new Map(silences.filter((s) => s.endedMs === undefined).map((s) => [s.nodeId, s]));
    const opening: Pick<SilenceRow, "nodeId" | "startedMs" | "label">[] = [];
    for (const view of unknown) {
      const nodeId = view.identity.nodeId;
      const silence = open.get(nodeId);
      if (silence) view.silence = silence.label;
      else opening.push({ nodeId, startedMs: nowMs, label: (view.silence = silenceLabel(view.current)) });
    }
    if (opening.length > 0) {
      await Promise.all([
        shared.store.openSilences(opening),
        shared.store.appendEvents(opening.map((s) => ({ nodeId: s.nodeId, atMs: nowMs, kind: "silent" as const, detail: { label: s.label, collector: "gone" } }))),
      ]);
    }
    for (const view of unknown) shared.silenced.add(view.identity.nodeId);
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
    const relabel = last && this.relabelling(last, report);
    if (!relabel) return;
    this.store.relabelSilence(relabel.id, relabel.label);
    this.store.appendEvents([relabel.event]);
  }

  private relabelling(last: SilenceRow, report: StoredReport): { id: number; label: SilenceRow["label"]; event: EventRow } | undefined {
    if (last.endedMs === undefined || report.receivedAtMs - last.endedMs > RELABEL_WINDOW_MS) return undefined;
    const label = relabelFromReport(last, report);
    if (!label) return undefined;
    return { id: last.id, label, event: { nodeId: report.nodeId, atMs: report.receivedAtMs, kind: "relabelled", detail: { from: last.label, to: label, silenceStartedMs: last.startedMs, silenceEndedMs: last.endedMs } } };
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
      credentials: this.shared ? this.shared.credentials : this.store.credentialUses({ activeOnly: true }),
      rotations: this.shared ? this.shared.rotations.filter((e) => e.atMs >= nowMs - ROTATION_LOOKBACK_MS) : [...allEvents(this.store, { sinceMs: nowMs - ROTATION_LOOKBACK_MS, kind: "credential_rotated" })],
      nowMs,
    });
    this.derived = { atMs: nowMs, findings };
    return findings;
  }

  prune(policy: RetentionPolicy, nowMs = Date.now()) {
    return this.store.prune(policy, nowMs);
  }

  /** What the collector's timer calls: prune(), or on a shared store the leader's prune (nothing elsewhere). */
  pruneIfLeading(policy: RetentionPolicy, nowMs = Date.now()): { reports: number; events: number } | Promise<{ reports: number; events: number } | undefined> {
    if (!this.shared) return this.prune(policy, nowMs);
    return this.shared.coordinator.isLeader ? this.shared.store.prune(policy, nowMs) : Promise.resolve(undefined);
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
