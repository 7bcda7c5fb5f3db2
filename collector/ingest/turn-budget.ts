// Ingest yields to the event loop. grpc-js hands a stream's queued messages
// over in one chain of microtasks, and hundreds of streams can become readable
// in one socket read: handled at once, a flood would hold the loop for its
// whole processing time while /healthz, /metrics and every other agent wait.
// Past a few milliseconds of ingest work in one turn, a message is put off to
// a coming turn and its stream paused (grpc-js then stops reading it, and
// HTTP/2 flow control pushes back on the peer). Put-off work runs in arrival
// order, except that a stream sending at an agent's pace goes before streams
// that flood: a saturated collector still answers its ordinary agents first.

export class TurnBudget {
  private readonly budgetMs: number;
  private turnStartedMs = 0;
  /** A next turn is scheduled: the current turn's budget applies until it runs. */
  private scheduled = false;
  private readonly urgent: (() => void)[] = [];
  private readonly bulk: (() => void)[] = [];

  constructor(budgetMs: number) {
    this.budgetMs = budgetMs;
  }

  /**
   * True: do the work now. False: the turn's budget is spent (or others are
   * already waiting), and `later` runs on a coming turn; `urgent` work first.
   */
  proceed(later: () => void, urgent: boolean): boolean {
    if (!this.scheduled) {
      this.scheduled = true;
      this.turnStartedMs = performance.now();
      setImmediate(() => this.nextTurn());
    }
    if (this.waiting() === 0 && this.withinBudget()) return true;
    (urgent ? this.urgent : this.bulk).push(later);
    return false;
  }

  private waiting(): number {
    return this.urgent.length + this.bulk.length;
  }

  private withinBudget(): boolean {
    return performance.now() - this.turnStartedMs < this.budgetMs;
  }

  private nextTurn(): void {
    this.turnStartedMs = performance.now();
    while (this.waiting() > 0 && this.withinBudget()) (this.urgent.shift() ?? this.bulk.shift()!)();
    if (this.waiting() > 0) setImmediate(() => this.nextTurn());
    else this.scheduled = false;
  }
}
