// The collector's live view of the fleet: the store's rows plus which agents
// are connected right now. Ingest writes through it; metrics and queries read it.
import type { NodeIdentityRow, NodeRow, Store, StoredReport } from "./store.ts";

export interface NodeView {
  identity: NodeIdentityRow;
  firstSeenMs: number;
  lastSeq: bigint;
  current?: StoredReport;
  /** Open agent streams for this node id (more than one is an identity conflict). */
  streams: number;
}

export class Fleet {
  private readonly nodes = new Map<string, NodeView>();
  private readonly store: Store;

  constructor(store: Store) {
    this.store = store;
    for (const row of store.listNodes()) this.nodes.set(row.nodeId, viewFromRow(row));
  }

  /** An agent said hello: returns the highest seq already stored for it. */
  connect(identity: NodeIdentityRow, nowMs: number): bigint {
    const lastSeq = this.store.upsertNode(identity, nowMs);
    const view = this.nodes.get(identity.nodeId);
    if (view) {
      view.identity = identity;
      view.streams += 1;
    } else {
      this.nodes.set(identity.nodeId, { identity, firstSeenMs: nowMs, lastSeq, streams: 1 });
    }
    return lastSeq;
  }

  disconnect(nodeId: string): void {
    const view = this.nodes.get(nodeId);
    if (view && view.streams > 0) view.streams -= 1;
  }

  record(report: StoredReport): "stored" | "duplicate" {
    const outcome = this.store.recordReport(report);
    const view = this.nodes.get(report.nodeId);
    if (outcome === "stored" && view && report.seq > view.lastSeq) {
      view.lastSeq = report.seq;
      view.current = report;
    }
    return outcome;
  }

  list(): NodeView[] {
    return [...this.nodes.values()];
  }

  get size(): number {
    return this.nodes.size;
  }
}

function viewFromRow(row: NodeRow): NodeView {
  const { firstSeenMs, lastSeq, current, lastSeenMs: _seen, ...identity } = row;
  return { identity, firstSeenMs, lastSeq, current, streams: 0 };
}
