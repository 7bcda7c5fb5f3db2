// Sequence poisoning: a collector that welcomes with 2^64-1, and a sequence
// file left at 2^63-1. The agent adopts neither, keeps starting, and numbers
// from what an honest collector says.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_SEQ } from "../../shared/report-codec.ts";
import { fakeCollectors, seqFile, spawnAgent, until } from "./agent-process.ts";

const U64_MAX = 2n ** 64n - 1n;

describe("agent against a poisoned sequence", () => {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-poison-"));
  const fake = fakeCollectors();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("does not adopt a welcome of 2^64-1, and starts again afterwards", async () => {
    const state = join(dir, "poisoned-welcome");
    const liar = await fake({ lastAckedSeq: () => U64_MAX });
    const agent = await spawnAgent(liar.address, "poisoned", state, dir);
    await agent.waitFor(/last acknowledged seq is beyond any real sequence: not adopted/);
    await until("two reports", () => liar.reports.length >= 2);
    expect(liar.reports.map((r) => r.seq).slice(0, 2)).toEqual([1n, 2n]);
    await agent.stop();
    expect(BigInt(readFileSync(seqFile(state, "poisoned"), "utf8").trim())).toBeLessThan(100n);

    const honest = await fake({ lastAckedSeq: () => 0n });
    const restarted = await spawnAgent(honest.address, "poisoned", state, dir);
    await until("a report after the restart", () => honest.reports.length >= 1);
    expect(honest.reports[0]!.seq).toBeLessThan(100n);
    expect(restarted.child.exitCode).toBeNull();
  }, 30_000);

  it("sets aside a sequence file of 2^63-1 and continues from the collector's welcome", async () => {
    const state = join(dir, "poisoned-file");
    mkdirSync(state, { recursive: true });
    writeFileSync(seqFile(state, "poisoned-file"), `${MAX_SEQ}\n`);
    const collector = await fake({ lastAckedSeq: () => 41n });
    const agent = await spawnAgent(collector.address, "poisoned-file", state, dir);
    await agent.waitFor(/sequence file unusable, set aside/);
    await until("two reports", () => collector.reports.length >= 2);
    expect(collector.reports.map((r) => r.seq).slice(0, 2)).toEqual([42n, 43n]);
    expect(readFileSync(`${seqFile(state, "poisoned-file")}.corrupt`, "utf8").trim()).toBe(String(MAX_SEQ));
    expect(agent.stderr).not.toMatch(/check run failed/);
  }, 30_000);
});
