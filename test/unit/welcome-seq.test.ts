import { describe, expect, it } from "vitest";
import { judgeWelcome } from "../../agent/run/welcome-seq.ts";
import { TokenBucket } from "../../shared/token-bucket.ts";
import { MAX_SEQ, SEQ_WINDOW } from "../../shared/report-codec.ts";

describe("what the agent makes of Welcome.last_acked_seq", () => {
  it("refuses numbers in the last window before MAX_SEQ, and anything above it", () => {
    for (const acked of [2n ** 64n - 1n, MAX_SEQ, MAX_SEQ - SEQ_WINDOW]) expect(judgeWelcome(acked, 5n)).toEqual({ kind: "absurd" });
    expect(judgeWelcome(MAX_SEQ - SEQ_WINDOW - 1n, MAX_SEQ - SEQ_WINDOW - 1n)).toEqual({ kind: "continue", at: MAX_SEQ - SEQ_WINDOW - 1n });
  });

  it("adopts a welcome above the agent's own count (a reinstalled agent)", () => {
    expect(judgeWelcome(480n, 0n)).toEqual({ kind: "continue", at: 480n });
    expect(judgeWelcome(480n, 500n)).toEqual({ kind: "continue", at: 500n });
  });

  it("renumbers from last_acked + 1 only when the agent's next seq is beyond the collector's window", () => {
    expect(judgeWelcome(7n, 7n + SEQ_WINDOW - 1n)).toEqual({ kind: "continue", at: 7n + SEQ_WINDOW - 1n }); // next = 7 + W: accepted
    expect(judgeWelcome(7n, 7n + SEQ_WINDOW)).toEqual({ kind: "renumber", from: 8n }); // next = 8 + W: refused
    expect(judgeWelcome(0n, 50_000n)).toEqual({ kind: "renumber", from: 1n });
  });
});

describe("token bucket", () => {
  it("allows a burst, then one per refill interval, never more than the burst after a pause", () => {
    let now = 0;
    const bucket = new TokenBucket(3, 1000 / 10_000, now);
    expect([1, 2, 3, 4].map(() => bucket.take(now))).toEqual([true, true, true, false]);
    now += 9_999;
    expect(bucket.take(now)).toBe(false);
    now += 1;
    expect([bucket.take(now), bucket.take(now)]).toEqual([true, false]);
    now += 1_000_000;
    expect([1, 2, 3, 4].map(() => bucket.take(now))).toEqual([true, true, true, false]);
  });
});
