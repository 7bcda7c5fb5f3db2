import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, IngestLimiter, peerAddress } from "../../collector/ingest/limits.ts";
import { KeyedBuckets, TokenBucket } from "../../shared/token-bucket.ts";
import { checkTimestamp } from "../../collector/ingest/timestamps.ts";
import { throttledWarn } from "../../collector/ingest/throttled-log.ts";
import type { Logger } from "../../shared/log.ts";

describe("ingest limits", () => {
  it("a token bucket gives its burst at once, then refills at its rate", () => {
    const bucket = new TokenBucket(3, 1, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false]);
    expect(bucket.take(500)).toBe(false);
    expect(bucket.take(1000)).toBe(true);
    expect(bucket.take(1000)).toBe(false);
    expect([bucket.take(100_000), bucket.take(100_000), bucket.take(100_000), bucket.take(100_000)]).toEqual([true, true, true, false]);
  });

  it("keyed buckets never hold more keys than their capacity", () => {
    const buckets = new KeyedBuckets(1, 0, 100);
    for (let i = 0; i < 10_000; i++) buckets.take(`10.0.${i >> 8}.${i & 255}`, 0);
    expect(buckets.size).toBe(100);
  });

  it("limits hellos per peer address, whatever the port", () => {
    const limiter = new IngestLimiter({ hellosPerPeerBurst: 2, hellosPerPeerPerSecond: 0 }, 0);
    const known = { exists: true, openStreams: 0 };
    expect(limiter.admitHello(peerAddress("127.0.0.1:5000"), "a", known, 0)).toBeUndefined();
    expect(limiter.admitHello(peerAddress("127.0.0.1:5001"), "a", known, 0)).toBeUndefined();
    expect(limiter.admitHello(peerAddress("127.0.0.1:5002"), "a", known, 0)?.reason).toBe("hello_rate");
    expect(limiter.admitHello(peerAddress("[::1]:5002"), "a", known, 0)).toBeUndefined();
  });

  it("charges only node ids never seen before against the new-node budget", () => {
    const limiter = new IngestLimiter({ newNodesBurst: 1, newNodesPerMinute: 0 }, 0);
    expect(limiter.admitHello("a", "n1", { exists: false, openStreams: 0 }, 0)).toBeUndefined();
    expect(limiter.admitHello("b", "n2", { exists: false, openStreams: 0 }, 0)?.reason).toBe("new_node_rate");
    expect(limiter.admitHello("c", "n1", { exists: true, openStreams: 0 }, 0)).toBeUndefined();
  });

  it("refuses a third stream for one node and frees a peer's stream slots when they close", () => {
    const limiter = new IngestLimiter({ streamsPerPeer: 2 }, 0);
    expect(limiter.admitHello("a", "n1", { exists: true, openStreams: DEFAULT_LIMITS.streamsPerNode }, 0)?.reason).toBe("streams_per_node");
    expect(limiter.openStream("a")).toBeUndefined();
    expect(limiter.openStream("a")).toBeUndefined();
    expect(limiter.openStream("a")?.reason).toBe("streams_per_peer");
    limiter.closeStream("a");
    expect(limiter.openStream("a")).toBeUndefined();
  });

  it("lets a node replay a full spool of 1,000 reports at once", () => {
    const limiter = new IngestLimiter({}, 0);
    for (let i = 0; i < 1000; i++) expect(limiter.admitReport("n1", 0)).toBeUndefined();
    for (let i = 0; i < DEFAULT_LIMITS.reportsBurst - 1000; i++) limiter.admitReport("n1", 0);
    expect(limiter.admitReport("n1", 0)?.reason).toBe("report_rate");
  });

  it("takes 0 or a time between 2000 and 2200, and names what is wrong otherwise", () => {
    expect(checkTimestamp(0n)).toBeUndefined();
    expect(checkTimestamp(BigInt(Date.UTC(2026, 0, 1)))).toBeUndefined();
    expect(checkTimestamp(8_640_000_000_000_001n)).toMatch(/not a time between 2000 and 2200/);
    expect(checkTimestamp(-(2n ** 63n))).toMatch(/not a time/);
    expect(checkTimestamp(1n)).toMatch(/not a time/);
  });

  it("logs at most N lines per reason per minute, then says how many it left out", () => {
    const lines: string[] = [];
    const log = { warn: (m: string, f: Record<string, unknown> = {}) => lines.push(`${m} ${JSON.stringify(f)}`) } as unknown as Logger;
    let now = 0;
    const warn = throttledWarn(log, 3, () => now);
    for (let i = 0; i < 1000; i++) warn("hello_rate", "rejected", { i });
    warn("seq_out_of_window", "rejected", {});
    expect(lines.length).toBe(4);
    now = 60_000;
    warn("hello_rate", "rejected", {});
    expect(lines.at(-1)).toMatch(/"suppressed_last_minute":997/);
  });
});
