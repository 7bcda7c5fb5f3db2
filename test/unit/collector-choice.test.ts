// A node's choice among a fixed list: its first collector while it works, the
// next one at once when it fails, a wait only when every one is in backoff,
// and the first again once its backoff is over (at the next reconnect).
import { describe, expect, it } from "vitest";
import { CollectorChoice, CollectorDirectory } from "../../agent/run/collector-choice.ts";
import { parseCollectorSpec } from "../../shared/collector-list.ts";
import { orderCollectors } from "../../shared/collector-order.ts";
import * as grpc from "@grpc/grpc-js";
import { TRY_ELSEWHERE_TRAILER, tryElsewhereReason, tryElsewhereStatus } from "../../shared/try-elsewhere.ts";

const spec = parseCollectorSpec("collector", "a:4317,b:4317,c:4317");
const targets = spec.kind === "list" ? spec.addresses.map((address) => ({ address, priority: 0, weight: 1 })) : [];

describe("collector choice", () => {
  it("goes down the node's order as collectors fail, waits only when all are in backoff, and comes back first to the preferred", async () => {
    const choice = new CollectorChoice(new CollectorDirectory(spec), "mini-07", { initialMs: 200, maxMs: 200 });
    const [first, second, third] = orderCollectors(targets, "mini-07");
    expect(await choice.next()).toEqual({ address: first, inMs: 0 });
    choice.failed(first!);
    expect(await choice.next()).toEqual({ address: second, inMs: 0 });
    choice.failed(second!);
    expect(await choice.next()).toEqual({ address: third, inMs: 0 });
    choice.failed(third!);
    const wait = await choice.next();
    expect((wait as { inMs: number }).inMs).toBeGreaterThanOrEqual(0);
    expect((wait as { inMs: number }).inMs).toBeLessThanOrEqual(200);
    await new Promise((r) => setTimeout(r, 220));
    expect(await choice.next()).toEqual({ address: first, inMs: 0 });
    expect(choice.preference).toEqual([first, second, third]);
  });

  it("doubles a collector's backoff with each failure in a row and forgets it at a welcome", async () => {
    const choice = new CollectorChoice(CollectorDirectory.single("a:4317"), "mini-07", { initialMs: 100, maxMs: 100_000 });
    const waits: number[] = [];
    for (let i = 0; i < 40; i++) {
      choice.failed("a:4317");
      waits.push((await choice.next() as { inMs: number }).inMs);
    }
    // Full jitter below a ceiling of 100 ms × 2^n: late waits go far beyond the first ceiling.
    expect(waits.slice(0, 1).every((ms) => ms <= 100)).toBe(true);
    expect(Math.max(...waits.slice(10))).toBeGreaterThan(1000);
    choice.connected("a:4317");
    expect(await choice.next()).toEqual({ address: "a:4317", inMs: 0 });
    choice.failed("a:4317");
    expect((await choice.next() as { inMs: number }).inMs).toBeLessThanOrEqual(100);
  });

  it("asks a collector that sent the node elsewhere again within 5 s, however often it refused", async () => {
    const choice = new CollectorChoice(CollectorDirectory.single("a:4317"), "mini-07");
    const waits: number[] = [];
    for (let i = 0; i < 40; i++) {
      choice.failed("a:4317", { sentElsewhere: true });
      waits.push((await choice.next() as { inMs: number }).inMs);
    }
    expect(Math.max(...waits)).toBeLessThanOrEqual(5000);
    expect(Math.max(...waits)).toBeGreaterThan(1000);
  });
});

describe("the try-elsewhere status", () => {
  it("is UNAVAILABLE with the trailer; UNAVAILABLE alone (a dead connection) or the trailer on another code is not it", () => {
    const status = tryElsewhereStatus("node-held", "node mini-07 is held by another collector");
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
    expect(status.metadata.get(TRY_ELSEWHERE_TRAILER)).toEqual(["node-held"]);
    expect(tryElsewhereReason(status)).toBe("node-held");
    expect(tryElsewhereReason({ code: grpc.status.UNAVAILABLE, metadata: new grpc.Metadata() })).toBeUndefined();
    expect(tryElsewhereReason({ ...status, code: grpc.status.PERMISSION_DENIED })).toBeUndefined();
  });
});
