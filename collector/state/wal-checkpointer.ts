// Copies the SQLite WAL back into the database file on a worker thread. With the
// default autocheckpoint, every ~1,000 pages one COMMIT on the event loop also
// copied those pages and fsynced the file: about 14 µs of the loop's time per
// report at 10,000 nodes (the micro measurement is in the commit that added this).
// Passive checkpoints never wait for and never block the writer. Under steady ingest
// the WAL restarts from its beginning only when a write transaction starts right
// after a complete checkpoint, which a busy writer rarely leaves room for: the
// writer's own autocheckpoint at WRITER_AUTOCHECKPOINT_PAGES is what restarts it,
// copying only the little this thread has not, and is the safety net should this
// thread die. The WAL file so stays at most about 40 MB.
import { Worker } from "node:worker_threads";

/** The write connection checkpoints itself only past this many WAL pages (40 MB at 4 KiB pages). */
export const WRITER_AUTOCHECKPOINT_PAGES = 10_000;
/** How often the worker copies what was committed since: a few commits' worth of pages at full ingest. */
const INTERVAL_MS = 50;

/** The worker's state, one Int32 shared with it. */
const BOOTING = 0, RUNNING = 1, STOPPING = 2, CLOSED = 3;

/** CommonJS source of the worker: inline, so the compiled package needs no second entry file. */
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { DatabaseSync } = require("node:sqlite");
const state = new Int32Array(workerData.state);
// Stopped before it began: it never opens the file.
if (Atomics.compareExchange(state, 0, ${BOOTING}, ${RUNNING}) === ${BOOTING}) {
  let db;
  try {
    db = new DatabaseSync(workerData.path);
    while (Atomics.load(state, 0) === ${RUNNING}) {
      try {
        db.exec("PRAGMA wal_checkpoint(PASSIVE)");
      } catch {
        // A failing checkpoint is retried on the next round; the writer's autocheckpoint backs this up.
      }
      Atomics.wait(state, 0, ${RUNNING}, workerData.intervalMs);
    }
  } finally {
    try { db?.close(); } catch {}
    Atomics.store(state, 0, ${CLOSED});
    Atomics.notify(state, 0);
  }
}
`;

export interface WalCheckpointer {
  /** Stops the worker and waits (briefly, synchronously) until its connection is closed, so the writer's close is the last one. */
  stop(): void;
}

export function startWalCheckpointer(path: string): WalCheckpointer {
  const state = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, state: state.buffer, intervalMs: INTERVAL_MS } });
  // Not a reason to keep the process alive, and a failure only leaves checkpoints to the writer.
  worker.unref();
  worker.on("error", () => {});
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      // Not started yet: it will not open the file at all. Running: it closes its connection after at most one checkpoint.
      if (Atomics.compareExchange(state, 0, BOOTING, STOPPING) === RUNNING && Atomics.compareExchange(state, 0, RUNNING, STOPPING) === RUNNING) {
        Atomics.notify(state, 0);
        Atomics.wait(state, 0, STOPPING, 2000);
      }
      void worker.terminate();
    },
  };
}
