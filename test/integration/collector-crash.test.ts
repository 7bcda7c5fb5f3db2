// kill -9 the collector under load, restart it on the same database: every
// report it acknowledged is still there.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startLoad } from "../helpers/load-generator.ts";
import { freePort } from "../helpers/ports.ts";
import { runClawfleet, spawnClawfleet, stopAll } from "../helpers/processes.ts";

// 50 simulated agents all say hello from 127.0.0.1 at once: more than one real peer address may.
const FLEET_FROM_ONE_ADDRESS = ["--ingest-limit", "hellos-per-peer-burst=100"];

describe("collector crash safety", () => {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-crash-"));
  afterAll(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it("loses no acknowledged report when killed with SIGKILL under load", async () => {
    const db = join(dir, "crash.db");
    const address = `127.0.0.1:${await freePort()}`;
    const serve = async () => spawnClawfleet(["collector", "serve", "--insecure", "--grpc-listen", address, "--http-listen", `127.0.0.1:${await freePort()}`, "--db", db, ...FLEET_FROM_ONE_ADDRESS]);
    const first = await serve();
    await first.waitFor(/collector ready/);
    const load = startLoad({ collector: address, nodes: 50, ratePerNode: 0, inflight: 8, nodePrefix: "crash" });
    await load.welcomed;
    // Let it ingest for a while, then pull the plug mid-stream.
    await new Promise((r) => setTimeout(r, 1500));
    first.child.kill("SIGKILL");
    await first.exited;
    const acked = new Map(load.acked);
    load.stop();
    const totalAcked = [...acked.values()].reduce((a, b) => a + b, 0n);
    expect(totalAcked).toBeGreaterThan(500n); // it really was under load

    const second = await serve();
    await second.waitFor(/collector ready/);
    const result = await runClawfleet(["collector", "query", "nodes", "--insecure", "--collector", address, "--node", "crash-*", "--json"]);
    const stored = new Map((JSON.parse(result.stdout).nodes as { id: string; last_seq: number }[]).map((n) => [n.id, BigInt(n.last_seq)]));
    const lost = [...acked].filter(([node, seq]) => (stored.get(node) ?? 0n) < seq);
    expect(lost).toEqual([]);
    expect(stored.size).toBe(50);
  }, 60_000);
});
