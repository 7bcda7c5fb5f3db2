// Chaos (a): the collector is killed with SIGKILL under load while a real
// agent reports to it, then restarted on the same database. What it
// acknowledged before dying is on disk; what the agent made meanwhile
// arrives after the restart; nothing is stored twice.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startCollectorProcess } from "../helpers/collector.ts";
import { startLoad } from "../helpers/load-generator.ts";
import { stopAll } from "../helpers/processes.ts";
import { expectDeliveredOnce, madeSeqs, spawnAgent, spoolDir, spooledSeqs, storedReports, until } from "./agent-process.ts";

describe("chaos: collector killed under load", () => {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-chaos-collector-"));
  afterAll(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps every acknowledged report, and stores each report once after the restart", async () => {
    const db = join(dir, "collector.db");
    const state = join(dir, "agent");
    const first = await startCollectorProcess(db);
    const agent = await spawnAgent(first.grpcAddress, "survivor", state, dir);
    await agent.waitFor(/report seq=2 /);
    const load = startLoad({ collector: first.grpcAddress, nodes: 20, ratePerNode: 0, inflight: 4, nodePrefix: "chaos" });
    await load.welcomed;
    await new Promise((r) => setTimeout(r, 1500));

    first.process.child.kill("SIGKILL");
    await first.process.exited;
    const acked = new Map(load.acked);
    load.stop();
    // The agent's own view at the crash: what it made and what it still holds unacknowledged.
    const madeBefore = madeSeqs(agent.stderr);
    const unacked = new Set(readdirSync(spoolDir(state, "survivor")).map((name) => BigInt(name.slice(0, 20))));
    const agentAcked = madeBefore.filter((seq) => !unacked.has(seq));
    expect(agentAcked.length).toBeGreaterThanOrEqual(2);
    expect([...acked.values()].reduce((a, b) => a + b, 0n)).toBeGreaterThan(200n); // it really was under load

    // Straight from the dead collector's file: every acknowledgement was a promise kept.
    const storedAtCrash = new Set(storedReports(db, "survivor").map((r) => r.seq));
    expect(agentAcked.filter((seq) => !storedAtCrash.has(seq))).toEqual([]);
    for (const [node, seq] of acked) {
      // The generator numbers 1, 2, 3…: all of 1..acked must be there.
      expect(storedReports(db, node).filter((r) => r.seq <= seq), node).toHaveLength(Number(seq));
    }

    // The agent keeps making reports while nothing listens; the restarted collector gets them all, once.
    await agent.waitFor(new RegExp(`report seq=${madeBefore.at(-1)! + 2n} `));
    const second = await startCollectorProcess(db, [], first.grpcAddress);
    const made = () => madeSeqs(agent.stderr);
    await until("the agent's reports to arrive", () => {
      const stored = new Set(storedReports(db, "survivor").map((r) => r.seq));
      return made().every((seq) => stored.has(seq));
    }, 20_000);
    await agent.stop();
    await second.process.stop();
    expectDeliveredOnce(storedReports(db, "survivor"), made(), spooledSeqs(state, "survivor"));
    expect(made().length).toBeGreaterThan(madeBefore.length + 1);
  }, 30_000);
});
