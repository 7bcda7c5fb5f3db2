// Queries that filter by kind read the store's index, never "the newest N rows,
// then filter": a fleet with more rotations than any fixed window sees them all
// in `collector query tokens`, and `query events --kind` pages by the index.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventRow } from "../../collector/state/store.ts";
import { startCollectorOnSeededStore } from "../helpers/collector.ts";
import { runClawfleet } from "../helpers/processes.ts";

const ROTATIONS = 12_000;
const NEWER_OTHER_EVENTS = 20_000;

describe("queries by kind at fleet scale (real collector process)", () => {
  let collector: Awaited<ReturnType<typeof startCollectorOnSeededStore>>;

  beforeAll(async () => {
    collector = await startCollectorOnSeededStore("clawfleet-growth-", (store, now) => {
      const rotations: EventRow[] = Array.from({ length: ROTATIONS }, (_, i) => ({
        nodeId: `node-${i % 50}`,
        atMs: now - 86_400_000 + i,
        kind: "credential_rotated",
        detail: { kind: "gateway_token", source: "config gateway.auth.token", from: `hmac:${String(i).padStart(16, "0")}`, to: `hmac:${String(i + 1).padStart(16, "0")}` },
      }));
      store.appendEvents(rotations);
      // Newer events of other kinds bury every rotation below the newest 5,000 (and 10,000) rows.
      store.appendEvents(Array.from({ length: NEWER_OTHER_EVENTS }, (_, i) => ({ nodeId: "chatty", atMs: now - 3_600_000 + i, kind: "layer_change", detail: { layer: "session", from: "ok", to: "fail" } })));
    });
  }, 60_000);

  afterAll(() => collector?.stop());

  it("`query tokens` lists every rotation, paging past the first 5,000", async () => {
    const run = await runClawfleet(["collector", "query", "tokens", "--insecure", "--collector", collector.grpcAddress, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const rotations = (JSON.parse(run.stdout) as { rotations: { node: string; detail: { from: string } }[] }).rotations;
    expect(rotations).toHaveLength(ROTATIONS);
    expect(new Set(rotations.map((r) => r.detail.from)).size).toBe(ROTATIONS);
    expect(rotations.at(-1)!.detail.from).toBe(`hmac:${"0".repeat(16)}`); // the oldest, last
  });

  it("`query events --kind` filters in the store: a full page of rotations under 20,000 newer events", async () => {
    const run = await runClawfleet(["collector", "query", "events", "--insecure", "--collector", collector.grpcAddress, "--since", "7d", "--kind", "credential_rotated", "--limit", "5000", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const events = (JSON.parse(run.stdout) as { events: { kind: string }[] }).events;
    expect(events).toHaveLength(5000);
    expect(new Set(events.map((e) => e.kind))).toEqual(new Set(["credential_rotated"]));
  });

  it("refuses an unknown kind, naming the ones there are", async () => {
    const run = await runClawfleet(["collector", "query", "events", "--insecure", "--collector", collector.grpcAddress, "--kind", "rotated"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--kind must be one of connect, disconnect');
  });
});
