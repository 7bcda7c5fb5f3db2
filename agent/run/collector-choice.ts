// Which collector a node's link tries next, and when. The fleet's collectors
// come from --collector (a list, or a DNS SRV name resolved here); each node
// orders them itself (shared/collector-order.ts) and keeps a backoff per
// collector. A failure (unreachable, sent elsewhere, stream died) puts that
// collector in backoff and the link tries the first collector in the node's
// order that is not in backoff, at once; only when all are in backoff does it
// wait, for the one ready first. A node returns to its preferred collector
// only when it must reconnect anyway: a live stream is never dropped for a
// better-ranked collector, so nothing flaps.
import type { CollectorSpec } from "../../shared/collector-list.ts";
import { orderCollectors, type CollectorTarget } from "../../shared/collector-order.ts";
import { lookupSrv, type SrvLookupOptions } from "../../shared/srv-lookup.ts";

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000 };
/**
 * A collector that sent the node elsewhere is alive, and takes the node once
 * the collector holding it lets go (within the keepalive window, ~15 s): it is
 * asked again within this, however often it refused.
 */
export const TRY_ELSEWHERE_MAX_BACKOFF_MS = 5000;
/** An SRV answer is asked again after this long, at the next reconnect (node's resolver gives no TTL). */
const SRV_REFRESH_MS = 5 * 60_000;
/** At most one re-resolution this often when every answer has failed. */
const SRV_RERESOLVE_MIN_MS = 5000;

/**
 * The fleet's collectors as one process knows them: a fixed list, or the
 * latest SRV answer. One per process: a simulated fleet of thousands of nodes
 * resolves once, not once per node.
 */
export class CollectorDirectory {
  readonly spec: CollectorSpec;
  private readonly lookup: (name: string) => Promise<CollectorTarget[]>;
  private answer?: CollectorTarget[];
  private resolvedAtMs = 0;
  private nextResolveMs = 0;
  private resolveFailures = 0;
  private inflight?: Promise<void>;
  private lastError?: string;
  private readonly backoff: Backoff;
  private readonly reresolveMinMs: number;

  /** `reresolveMinMs`: the spacing of lookups caused by failing collectors (tests shorten it). */
  constructor(spec: CollectorSpec, options: { lookup?: SrvLookupOptions; backoff?: Backoff; reresolveMinMs?: number } = {}) {
    this.spec = spec;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.reresolveMinMs = options.reresolveMinMs ?? SRV_RERESOLVE_MIN_MS;
    this.lookup = (name) => lookupSrv(name, options.lookup);
    if (spec.kind === "list") this.answer = spec.addresses.map((address) => ({ address, priority: 0, weight: 1 }));
  }

  static single(address: string): CollectorDirectory {
    return new CollectorDirectory({ kind: "list", text: address, addresses: [address] });
  }

  /** More than one place to go: a stream that stalls is left for another. */
  get several(): boolean {
    return this.spec.kind === "srv" || this.spec.addresses.length > 1;
  }

  /**
   * The collectors now. For SRV: resolves the first time, when the answer is
   * old, and when `stale` (every collector of the answer failed) at most every
   * few seconds. A failed lookup keeps the previous answer; with none, it
   * throws, and `retryInMs` says when a lookup is worth trying again.
   */
  async targets(stale = false): Promise<CollectorTarget[]> {
    if (this.spec.kind === "list") return this.answer!;
    const now = Date.now();
    const due = !this.answer || now - this.resolvedAtMs > SRV_REFRESH_MS || stale;
    if (due && now >= this.nextResolveMs) await (this.inflight ??= this.resolve(this.spec.name).finally(() => (this.inflight = undefined)));
    if (!this.answer) throw new Error(this.lastError ?? "no SRV answer yet");
    return this.answer;
  }

  get retryInMs(): number {
    return Math.max(0, this.nextResolveMs - Date.now());
  }

  private async resolve(name: string): Promise<void> {
    try {
      this.answer = await this.lookup(name);
      this.resolvedAtMs = Date.now();
      this.resolveFailures = 0;
      this.lastError = undefined;
      this.nextResolveMs = Date.now() + this.reresolveMinMs;
    } catch (error) {
      this.lastError = (error as Error).message;
      this.nextResolveMs = Date.now() + Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.resolveFailures++);
    }
  }
}

interface CollectorState {
  failures: number;
  retryAtMs: number;
}

export type Pick = { address: string; inMs: number } | { problem: string; inMs: number };

/** One node's view: its order over the directory's collectors and a backoff for each. */
export class CollectorChoice {
  readonly directory: CollectorDirectory;
  private readonly nodeId: string;
  private readonly backoff: Backoff;
  private readonly states = new Map<string, CollectorState>();
  private order: string[] = [];
  private orderedFrom?: readonly CollectorTarget[];

  constructor(directory: CollectorDirectory, nodeId: string, backoff: Backoff = DEFAULT_BACKOFF) {
    this.directory = directory;
    this.nodeId = nodeId;
    this.backoff = backoff;
  }

  /** The collector to try and how long to wait first; or, with no collector known (SRV unresolved), why and when to ask again. */
  async next(): Promise<Pick> {
    let targets;
    try {
      targets = await this.directory.targets(this.order.length > 0 && this.order.every((address) => (this.states.get(address)?.failures ?? 0) > 0));
    } catch (error) {
      return { problem: (error as Error).message, inMs: Math.max(this.directory.retryInMs, 100) };
    }
    if (targets !== this.orderedFrom) {
      this.order = orderCollectors(targets, this.nodeId);
      this.orderedFrom = targets;
      // A collector gone from the answer takes its backoff with it: a changing SRV answer cannot grow the map.
      for (const address of this.states.keys()) if (!this.order.includes(address)) this.states.delete(address);
    }
    const now = Date.now();
    let soonest: { address: string; atMs: number } | undefined;
    for (const address of this.order) {
      const atMs = this.states.get(address)?.retryAtMs ?? 0;
      if (atMs <= now) return { address, inMs: 0 };
      if (!soonest || atMs < soonest.atMs) soonest = { address, atMs };
    }
    return { address: soonest!.address, inMs: soonest!.atMs - now };
  }

  /** This node's order now (for logs and tests). */
  get preference(): readonly string[] {
    return this.order;
  }

  /**
   * The collector failed this node: unreachable, sent it elsewhere, or the
   * stream died. Full jitter, doubling per failure in a row, so a collector
   * restart is not met by its whole share of the fleet at once. `atLeastMs`
   * for a collector that must be left alone longer (one that floods);
   * `sentElsewhere` for one that refused with the try-elsewhere status.
   */
  failed(address: string, how: { atLeastMs?: number; sentElsewhere?: boolean } = {}): void {
    const { atLeastMs, sentElsewhere } = how;
    const state = this.states.get(address) ?? { failures: 0, retryAtMs: 0 };
    const maxMs = sentElsewhere ? Math.min(this.backoff.maxMs, TRY_ELSEWHERE_MAX_BACKOFF_MS) : this.backoff.maxMs;
    const ceiling = Math.min(maxMs, this.backoff.initialMs * 2 ** Math.min(state.failures, 30));
    state.failures++;
    state.retryAtMs = Date.now() + (atLeastMs ?? Math.random() * ceiling);
    this.states.set(address, state);
  }

  /** A welcome: this collector works again, its backoff starts over. */
  connected(address: string): void {
    this.states.delete(address);
  }
}
