// A real `clawfleet collector serve` child process on free loopback ports.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../collector/state/sqlite-store.ts";
import { freePort } from "./ports.ts";
import { spawnClawfleet, stopAll, type Spawned } from "./processes.ts";

export interface TestCollector {
  grpcAddress: string;
  httpAddress: string;
  process: Spawned;
}

/** `grpcAddress` given: a restart where the agents already point. */
export async function startCollectorProcess(dbPath: string, extraArgs: string[] = [], grpcAddress?: string): Promise<TestCollector> {
  grpcAddress ??= `127.0.0.1:${await freePort()}`;
  const httpAddress = `127.0.0.1:${await freePort()}`;
  const process = spawnClawfleet(["collector", "serve", "--insecure", "--grpc-listen", grpcAddress, "--http-listen", httpAddress, "--db", dbPath, ...extraArgs]);
  await process.waitFor(/collector ready/);
  return { grpcAddress, httpAddress, process };
}

/**
 * A collector process on a store written first through the collector's own
 * SqliteStore (a fleet or an event log at a size no test could report its way
 * to); `stop` ends every process and removes the directory.
 */
export async function startCollectorOnSeededStore(prefix: string, seed: (store: SqliteStore, nowMs: number) => void): Promise<TestCollector & { stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, "collector.db");
  const store = new SqliteStore(path);
  seed(store, Date.now());
  store.close();
  const collector = await startCollectorProcess(path);
  return {
    ...collector,
    async stop() {
      await stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
