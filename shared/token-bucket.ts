// Token buckets, alone or keyed (per peer, per node) in a map of bounded size:
// what bounds how much a peer can make this process do, however fast it asks
// (the collector's ingest limits, the agent's CheckNow and flood limits), and
// the keyed map cannot itself grow without bound.

/**
 * `burst` actions at once, then `perSecond` more each second. Tokens are whole
 * and earned by elapsed milliseconds, so a bucket refilling one per 10 s has
 * none after 9,999 ms and exactly one after 10,000 (no float drift).
 */
export class TokenBucket {
  private readonly burst: number;
  private readonly msPerToken: number;
  private tokens: number;
  private updatedMs: number;

  constructor(burst: number, perSecond: number, nowMs: number) {
    this.burst = burst;
    this.msPerToken = perSecond > 0 ? 1000 / perSecond : Infinity;
    this.tokens = burst;
    this.updatedMs = nowMs;
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    const earned = Math.floor((nowMs - this.updatedMs) / this.msPerToken);
    if (earned > 0) {
      this.tokens = Math.min(this.burst, this.tokens + earned);
      // A full bucket earns nothing while it waits; a partial one keeps its progress toward the next token.
      this.updatedMs = this.tokens === this.burst ? nowMs : this.updatedMs + earned * this.msPerToken;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * One bucket per key, at most `capacity` keys: the least recently used is
 * evicted (a returning key starts with a full bucket, which is the generous
 * side of the trade: the map's size is what must be bounded).
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly burst: number;
  private readonly perSecond: number;
  private readonly capacity: number;

  constructor(burst: number, perSecond: number, capacity: number) {
    this.burst = burst;
    this.perSecond = perSecond;
    this.capacity = capacity;
  }

  take(key: string, nowMs: number): boolean {
    let bucket = this.buckets.get(key);
    if (bucket) this.buckets.delete(key);
    else bucket = new TokenBucket(this.burst, this.perSecond, nowMs);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.capacity) this.buckets.delete(this.buckets.keys().next().value!);
    return bucket.take(nowMs);
  }

  get size(): number {
    return this.buckets.size;
  }
}
