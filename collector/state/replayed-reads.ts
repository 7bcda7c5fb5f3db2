// The pages and queries read the store synchronously (the SQLite store answers at once). On a
// store a round trip away (PostgreSQL) they run as they are, against a stand-in that records
// every read and answers the ones it has already fetched: after a pass, the reads it could not
// answer are fetched together, and the body runs again, until a pass asks for nothing new.
// A body's reads depend only on what earlier reads returned, so the last pass is exactly the
// run a synchronous store would have made. Bodies are cheap (they render text); passes are few
// (one more per page of a paged read). Each pass runs synchronously, so nothing else runs
// while the stand-in (and the pinned clock, below) is in place.
import type { AsyncStore, Store } from "./store.ts";

type ReadMethod = "events" | "history" | "silences" | "credentialUses" | "listNodes" | "rotationCounts" | "eventCount" | "fingerprintKey";

/** What a read answers before it is fetched: an empty result of its shape. */
const PLACEHOLDER: Record<ReadMethod, () => unknown> = {
  events: () => [],
  history: () => ({ events: [], silences: [] }),
  silences: () => [],
  credentialUses: () => [],
  listNodes: () => [],
  rotationCounts: () => [],
  eventCount: () => 0,
  fingerprintKey: () => new Uint8Array(0),
};

/** Passes after which a body that keeps asking for new reads is answered with an error instead. */
const MAX_PASSES = 20;

export async function replayReads<T>(store: AsyncStore, body: (reads: Store) => T): Promise<T> {
  const answers = new Map<string, unknown>();
  const startedMs = Date.now();
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const missing = new Map<string, { method: ReadMethod; args: unknown[] }>();
    const reads = new Proxy({} as Store, {
      get(_target, method: string) {
        if (!(method in PLACEHOLDER)) {
          return () => {
            throw new Error(`store.${method} is not a read: only reads run inside Fleet.reading()`);
          };
        }
        return (...args: unknown[]) => {
          const key = `${method}\0${JSON.stringify(args)}`;
          if (answers.has(key)) return answers.get(key);
          missing.set(key, { method: method as ReadMethod, args });
          return PLACEHOLDER[method as ReadMethod]();
        };
      },
    });
    // Every pass sees the first pass's clock: reads that name a time ("the last 24 h") must be the same reads.
    const realNow = Date.now;
    Date.now = () => startedMs;
    let result: T;
    try {
      result = body(reads);
    } finally {
      Date.now = realNow;
    }
    if (missing.size === 0) return result;
    await Promise.all(
      [...missing].map(async ([key, { method, args }]) => {
        answers.set(key, await (store[method] as (...a: unknown[]) => Promise<unknown>)(...args));
      }),
    );
  }
  throw new Error(`a read of the shared store did not settle after ${MAX_PASSES} passes`);
}
