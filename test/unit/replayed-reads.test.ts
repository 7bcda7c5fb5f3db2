// replayed-reads.ts: a body written for a synchronous store, run against one that answers with
// Promises, gives what the synchronous store would have given, paged reads and clock included.
import { describe, expect, it } from "vitest";
import { replayReads } from "../../collector/state/replayed-reads.ts";
import { SqliteStore } from "../../collector/state/sqlite-store.ts";
import { allEvents, type AsyncStore, type EventRow, type Store } from "../../collector/state/store.ts";

/** The SQLite store answering a round trip later, counting the reads it is asked. */
function remote(store: SqliteStore): { store: AsyncStore; reads: string[] } {
  const reads: string[] = [];
  const proxy = new Proxy(store, {
    get(target, method: string) {
      const value = (target as unknown as Record<string, unknown>)[method];
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        reads.push(method);
        return new Promise((resolve) => setTimeout(() => resolve((value as (...a: unknown[]) => unknown).apply(target, args)), 1));
      };
    },
  });
  return { store: proxy as unknown as AsyncStore, reads };
}

function seeded(events: number): SqliteStore {
  const store = new SqliteStore(":memory:");
  const start = Date.now() - 60_000;
  const rows: EventRow[] = Array.from({ length: events }, (_, i) => ({ nodeId: `n-${i % 7}`, atMs: start + i, kind: i % 3 === 0 ? "layer_change" : "connect", detail: { i } }));
  store.appendEvents(rows);
  return store;
}

describe("replayed reads", () => {
  it("answers a paged read as the synchronous store does: one more pass per page, then the same result", async () => {
    const sqlite = seeded(450);
    const body = (reads: Store) => [...allEvents(reads, { sinceMs: 0 }, 200)].map((e) => e.id);
    const expected = body(sqlite);
    const { store, reads } = remote(sqlite);
    expect(await replayReads(store, body)).toEqual(expected);
    expect(expected).toHaveLength(450);
    // Pages of 200: three reads, each fetched once.
    expect(reads).toEqual(["events", "events", "events"]);
    sqlite.close();
  });

  it("pins the clock for every pass, so a read naming a time is the same read", async () => {
    const sqlite = seeded(30);
    const { store, reads } = remote(sqlite);
    const seen: number[] = [];
    const result = await replayReads(store, (r) => {
      const now = Date.now();
      seen.push(now);
      return r.events({ sinceMs: now - 600_000, limit: 5, kind: "layer_change" }).length;
    });
    expect(result).toBe(5);
    expect(new Set(seen).size).toBe(1);
    expect(reads).toEqual(["events"]);
    sqlite.close();
  });

  it("refuses a write inside a body: only reads are replayed", async () => {
    const sqlite = seeded(1);
    const { store } = remote(sqlite);
    await expect(replayReads(store, (r) => r.appendEvents([]))).rejects.toThrow(/not a read/);
    sqlite.close();
  });
});
