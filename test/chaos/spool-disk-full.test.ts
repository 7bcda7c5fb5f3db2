// Chaos (c): the spool's disk is full while the collector is away. The agent
// keeps running, says so once, keeps what it cannot spool in memory, and
// delivers everything once the collector is back.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startCollectorProcess } from "../helpers/collector.ts";
import { stopAll } from "../helpers/processes.ts";
import { expectDeliveredOnce, linesMatching, madeSeqs, spawnAgent, spoolDir, spooledSeqs, storedReports, until } from "./agent-process.ts";

/**
 * A 4 KiB tmpfs (one page: one report) over the spool, so it fills at once
 * and the collector is away only seconds (the agent's reconnect backoff grows). Tests
 * run as root; where mounting is refused, a file where the spool directory
 * should be makes every spool write fail instead (not ENOSPC, but the same
 * path through the agent), and the test says so.
 */
function fillableSpool(path: string): { mounted: boolean; release(): void } {
  mkdirSync(path, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4k,mode=0700", "tmpfs", path], { stdio: "pipe" });
    return { mounted: true, release: () => execFileSync("umount", ["-l", path], { stdio: "pipe" }) };
  } catch (error) {
    console.log(`cannot mount a tmpfs here (${(error as Error).message.split("\n")[0]}): emulating a failing spool with a file in its place`);
    rmSync(path, { recursive: true });
    writeFileSync(path, "not a directory");
    return { mounted: false, release: () => {} };
  }
}

describe("chaos: spool disk full", () => {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-chaos-full-"));
  let release = () => {};
  afterAll(async () => {
    await stopAll();
    release();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps running and reporting, logs the full disk once, and loses nothing it made", async () => {
    const db = join(dir, "collector.db");
    const state = join(dir, "agent");
    const spool = fillableSpool(spoolDir(state, "cramped"));
    release = spool.release;
    const first = await startCollectorProcess(db);
    const agent = await spawnAgent(first.grpcAddress, "cramped", state, dir);
    await agent.waitFor(/report seq=2 /);
    await first.process.stop();

    // The spool fills; reports beyond it stay in memory.
    const failure = spool.mounted ? /cannot write the spool: .*no space left on device/i : /cannot use the spool directory/;
    await agent.waitFor(failure, 15_000);
    await until("the report the disk refused to be made anyway", () => / unacked=2\b/.test(agent.stderr), 5_000);
    expect(agent.child.exitCode).toBeNull();
    expect(agent.stderr).not.toMatch(/check run failed/);
    const unacked = Number([...agent.stderr.matchAll(/ unacked=(\d+)/g)].at(-1)![1]);
    expect(unacked).toBeGreaterThan(spooledSeqs(state, "cramped").size); // more held than the disk could take

    const second = await startCollectorProcess(db, [], first.grpcAddress);
    await until("every report made to be stored", () => {
      const stored = new Set(storedReports(db, "cramped").map((r) => r.seq));
      return madeSeqs(agent.stderr).every((seq) => stored.has(seq));
    }, 20_000);
    await agent.stop();
    await second.process.stop();
    expectDeliveredOnce(storedReports(db, "cramped"), madeSeqs(agent.stderr), spool.mounted ? spooledSeqs(state, "cramped") : new Set());
    expect(linesMatching(agent.stderr, /cannot write the spool|cannot use the spool directory/)).toHaveLength(1);
  }, 30_000);
});
