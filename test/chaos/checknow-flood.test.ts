// A real agent against a collector that floods it with CheckNow as fast as
// one event loop can write them. Before the fix the agent read and handled
// every one; now it runs at most a burst of checks and drops the stream.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkNow, startFakeCollector, type FakeCollector } from "../helpers/fake-collector.ts";
import { stopAll } from "../helpers/processes.ts";
import { cpuSeconds, linesMatching, spawnAgent, until } from "./agent-process.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("agent under a CheckNow flood", () => {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-flood-"));
  let fake: FakeCollector | undefined;
  afterAll(async () => {
    await stopAll();
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stays cheap under a CheckNow flood, keeps reporting, and says so once", async () => {
    const collector = (fake = await startFakeCollector({
      lastAckedSeq: () => 0n,
      afterWelcome(stream) {
        // As fast as the event loop lets it: thousands of CheckNow a second.
        const flood = () => {
          if (stream.cancelled || stream.destroyed) return;
          for (let i = 0; i < 200; i++) stream.write(checkNow("flood"));
          setImmediate(flood);
        };
        flood();
      },
    }));
    const agent = await spawnAgent(collector.address, "flooded", join(dir, "flooded"), dir);
    await until("a first report", () => collector.reports.length >= 1);
    const pid = agent.child.pid!;
    const cpuBefore = cpuSeconds(pid);
    const startedMs = Date.now();
    await sleep(3000);
    const share = (cpuSeconds(pid) - cpuBefore) / ((Date.now() - startedMs) / 1000);
    console.log(`agent CPU under a CheckNow flood: ${(share * 100).toFixed(1)}% of one core over 3 s; streams opened ${collector.streams}`);
    expect(share).toBeLessThan(0.3);
    const seen = new Set(collector.reports.map((r) => r.seq));
    await until("more reports during the flood", () => new Set(collector.reports.map((r) => r.seq)).size >= seen.size + 2, 15_000);
    expect(linesMatching(agent.stderr, /flooding this agent/)).toHaveLength(1);
    expect(linesMatching(agent.stderr, /collector asked for a check/).length).toBeLessThanOrEqual(3);
  }, 30_000);
});
