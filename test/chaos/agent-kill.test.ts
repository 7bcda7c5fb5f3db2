// Chaos (b): the agent is killed with SIGKILL at random moments while it
// spools (its collector is away), restarted each time, then the collector
// comes back. Every report it made is delivered, none twice; partial files
// are cleaned up or set aside, never resent as reports.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startCollectorProcess } from "../helpers/collector.ts";
import { stopAll } from "../helpers/processes.ts";
import { expectDeliveredOnce, madeSeqs, spawnAgent, spoolDir, spooledSeqs, storedReports, until } from "./agent-process.ts";

const KILLS = 3;

/**
 * A SIGKILL lands inside a write only by luck (the write takes microseconds),
 * so the last death also leaves what an unlucky one (or a power cut before
 * the page cache reached the disk) would: a torn temporary file, and half a
 * report under the next seq's real name.
 */
function tearLastWrite(spool: string): void {
  const names = readdirSync(spool).filter((name) => name.endsWith(".report")).sort();
  const last = names.at(-1)!;
  const bytes = readFileSync(join(spool, last));
  const next = (BigInt(last.slice(0, 20)) + 1n).toString().padStart(20, "0");
  writeFileSync(join(spool, `${next}.report`), bytes.subarray(0, Math.floor(bytes.length / 2)));
  writeFileSync(join(spool, `${next}.report.tmp`), bytes.subarray(0, 7));
}

describe("chaos: agent killed while spooling", () => {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-chaos-agent-"));
  afterAll(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers every report it made across SIGKILLs, once, when the collector is back", async () => {
    const db = join(dir, "collector.db");
    const state = join(dir, "agent");
    const outputs: string[] = [];
    const first = await startCollectorProcess(db);
    const address = first.grpcAddress;
    let agent = await spawnAgent(address, "phoenix", state, dir);
    await agent.waitFor(/report seq=2 /); // acknowledged, and it now holds the fleet key
    await first.process.stop();

    for (let kill = 0; kill < KILLS; kill++) {
      if (kill > 0) agent = await spawnAgent(address, "phoenix", state, dir);
      // Each life makes a report or two into the spool; death comes at a random moment of the next.
      await agent.waitFor(/report seq=\d+ .*unacked=[1-9]/, 10_000);
      await new Promise((r) => setTimeout(r, Math.random() * 1200));
      agent.child.kill("SIGKILL");
      await agent.exited;
      outputs.push(agent.stderr);
    }
    // Every life but the first (whose report may predate the collector's stop) spooled one at least.
    expect(readdirSync(spoolDir(state, "phoenix")).filter((name) => name.endsWith(".report")).length).toBeGreaterThanOrEqual(KILLS - 1);
    tearLastWrite(spoolDir(state, "phoenix"));

    // The collector is back, then the agent.
    const second = await startCollectorProcess(db, [], address);
    agent = await spawnAgent(address, "phoenix", state, dir);
    await agent.waitFor(/spooled report unreadable, set aside/);
    const made = () => madeSeqs(...outputs, agent.stderr);
    await until("every report made to be stored", () => {
      const stored = new Set(storedReports(db, "phoenix").map((r) => r.seq));
      return made().every((seq) => stored.has(seq));
    }, 20_000);
    await agent.stop();
    await second.process.stop();

    expectDeliveredOnce(storedReports(db, "phoenix"), made(), spooledSeqs(state, "phoenix"));
    const left = readdirSync(spoolDir(state, "phoenix"));
    // Acknowledged reports leave the spool (at most the last, made as it stopped, waits); a half-written one never stays under a real name.
    expect(left.filter((name) => name.endsWith(".report")).length).toBeLessThanOrEqual(1);
    expect(left.filter((name) => name.endsWith(".tmp"))).toEqual([]);
    // The torn report was set aside, kept for a person, named in the log; every such file was.
    const corrupt = left.filter((n) => n.endsWith(".corrupt"));
    expect(corrupt.length).toBeGreaterThanOrEqual(1);
    for (const name of corrupt) expect(outputs.join("\n") + agent.stderr).toContain(name.replace(/\.corrupt$/, ""));
  }, 30_000);
});
