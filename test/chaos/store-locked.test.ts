// Chaos: the collector's store refuses writes (another process holds SQLite's
// write lock past the busy timeout, as a backup tool or a stuck sqlite3 shell
// would). The collector counts the failed write in
// clawfleet_collector_store_errors_total (the ClawfleetCollectorStoreErrors
// alert), acknowledges nothing it did not store, and once the lock is gone
// the agent's reports arrive, each once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { startCollectorProcess } from "../helpers/collector.ts";
import { series, waitForMetrics } from "../helpers/metrics.ts";
import { stopAll } from "../helpers/processes.ts";
import { expectDeliveredOnce, madeSeqs, spawnAgent, spooledSeqs, storedReports, until } from "./agent-process.ts";

describe("chaos: the collector's store refuses writes", () => {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-chaos-store-"));
  afterAll(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts a failed write, acknowledges nothing it did not store, and stores every report once when writes work again", async () => {
    const db = join(dir, "collector.db");
    const state = join(dir, "agent");
    const collector = await startCollectorProcess(db);
    const agent = await spawnAgent(collector.grpcAddress, "locked-out", state, dir);
    await agent.waitFor(/report seq=2 /);

    const holder = new DatabaseSync(db);
    holder.exec("PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE");
    try {
      // The collector waits out its busy timeout (5 s), then the write fails. (SQLite's busy wait is
      // synchronous: the collector answers nothing meanwhile, so the failure is read once the lock is gone.)
      await collector.process.waitFor(/ingest failed .*database is locked/, 30_000);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    const { samples } = await waitForMetrics(collector.httpAddress, (s) => (s.get(series("clawfleet_collector_store_errors_total", {})) ?? 0) >= 1, 30_000);
    expect(samples.get(series("clawfleet_collector_store_errors_total", {}))).toBeGreaterThanOrEqual(1);

    const made = () => madeSeqs(agent.stderr);
    const lastBefore = made().at(-1)!;
    await agent.waitFor(new RegExp(`report seq=${lastBefore + 2n} `), 20_000);
    await until("every report made to be stored", () => {
      const stored = new Set(storedReports(db, "locked-out").map((r) => r.seq));
      return made().every((seq) => stored.has(seq));
    }, 30_000);
    await agent.stop();
    await collector.process.stop();
    expectDeliveredOnce(storedReports(db, "locked-out"), made(), spooledSeqs(state, "locked-out"));
  }, 90_000);
});
