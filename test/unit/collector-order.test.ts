// Which collector each node tries first: stable per node, spread over the
// fleet's collectors by weight, lowest SRV priority first, and a collector
// removed moves only the nodes that preferred it.
import { describe, expect, it } from "vitest";
import { orderCollectors, type CollectorTarget } from "../../shared/collector-order.ts";

const plain = (...addresses: string[]): CollectorTarget[] => addresses.map((address) => ({ address, priority: 0, weight: 1 }));
const nodes = Array.from({ length: 3000 }, (_, i) => `mini-${String(i).padStart(4, "0")}`);
const firstChoices = (targets: CollectorTarget[]) => {
  const counts = new Map<string, number>();
  for (const node of nodes) {
    const first = orderCollectors(targets, node)[0]!;
    counts.set(first, (counts.get(first) ?? 0) + 1);
  }
  return counts;
};

describe("collector order", () => {
  const three = plain("a:4317", "b:4317", "c:4317");

  it("is the same for a node every time and whatever order the list was given in, and names every collector once", () => {
    for (const node of nodes.slice(0, 50)) {
      const order = orderCollectors(three, node);
      expect(orderCollectors([...three].reverse(), node)).toEqual(order);
      expect([...order].sort()).toEqual(["a:4317", "b:4317", "c:4317"]);
    }
  });

  it("spreads a fleet evenly over equal collectors", () => {
    for (const count of firstChoices(three).values()) {
      expect(count / nodes.length).toBeGreaterThan(0.29);
      expect(count / nodes.length).toBeLessThan(0.38);
    }
  });

  it("moves only the nodes of a collector that is removed", () => {
    const moved = nodes.filter((node) => {
      const before = orderCollectors(three, node);
      const after = orderCollectors(plain("a:4317", "c:4317"), node);
      return before[0] !== "b:4317" && before[0] !== after[0];
    });
    expect(moved).toEqual([]);
    // And their second choice is where they go: the order without b is the order with b, less b.
    for (const node of nodes.slice(0, 100)) expect(orderCollectors(plain("a:4317", "c:4317"), node)).toEqual(orderCollectors(three, node).filter((a) => a !== "b:4317"));
  });

  it("follows SRV: lower priority first, and weight as the share within a priority (RFC 2782)", () => {
    const srv: CollectorTarget[] = [
      { address: "backup:4317", priority: 20, weight: 100 },
      { address: "big:4317", priority: 10, weight: 30 },
      { address: "small:4317", priority: 10, weight: 10 },
      { address: "none:4317", priority: 10, weight: 0 },
    ];
    const counts = firstChoices(srv);
    expect(counts.get("backup:4317")).toBeUndefined();
    expect(counts.get("big:4317")! / nodes.length).toBeGreaterThan(0.7);
    expect(counts.get("big:4317")! / nodes.length).toBeLessThan(0.8);
    expect(counts.get("none:4317") ?? 0).toBeLessThan(nodes.length * 0.01);
    for (const node of nodes.slice(0, 100)) expect(orderCollectors(srv, node).at(-1)).toBe("backup:4317");
  });
});
