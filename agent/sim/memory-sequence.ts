// A simulated node's report numbering, in memory: it starts where the
// collector's welcome says the node stands, so a restarted simulator continues
// its nodes' sequences instead of being refused as replays.
import type { ReportSequence } from "../run/collector-link.ts";

export class MemorySequence implements ReportSequence {
  private seq = 0n;
  readonly awaitingCollector = false;

  get current(): bigint {
    return this.seq;
  }

  restartAt(seq: bigint): void {
    this.seq = seq;
  }

  next(): bigint {
    return ++this.seq;
  }
}
