// Token buckets, alone or keyed (per peer, per node) in a map of bounded size,
// so the limiter that protects the collector cannot itself grow without bound.

export class TokenBucket {
  private readonly burst: number;
  private readonly perSecond: number;
  private tokens: number;
  private updatedMs: number;

  constructor(burst: number, perSecond: number, nowMs: number) {
    this.burst = burst;
    this.perSecond = perSecond;
    this.tokens = burst;
    this.updatedMs = nowMs;
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.updatedMs) / 1000) * this.perSecond);
    this.updatedMs = nowMs;
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
