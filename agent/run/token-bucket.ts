// A token bucket: `burst` actions at once, then one per `refillMs`. Bounds what
// a peer can make this process do, however fast it asks.
export class TokenBucket {
  private tokens: number;
  private refilledAtMs: number;
  private readonly burst: number;
  private readonly refillMs: number;
  private readonly now: () => number;

  constructor(burst: number, refillMs: number, now: () => number = Date.now) {
    this.burst = burst;
    this.refillMs = refillMs;
    this.now = now;
    this.tokens = burst;
    this.refilledAtMs = now();
  }

  /** Takes one token if there is one. */
  take(): boolean {
    const now = this.now();
    const earned = Math.floor((now - this.refilledAtMs) / this.refillMs);
    if (earned > 0) {
      this.tokens = Math.min(this.burst, this.tokens + earned);
      this.refilledAtMs = this.tokens === this.burst ? now : this.refilledAtMs + earned * this.refillMs;
    }
    if (this.tokens === 0) return false;
    this.tokens -= 1;
    return true;
  }
}
