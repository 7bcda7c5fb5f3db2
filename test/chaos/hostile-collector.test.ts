// A real agent against a collector that lies about what it holds: acks for
// reports never sent, a store reset far below the agent's count. The agent
// keeps every unsent report and numbers within what a real collector accepts.
// (Poisoned sequence numbers: sequence-poisoning.test.ts.)
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SEQ_WINDOW } from "../../shared/report-codec.ts";
import { ack } from "../helpers/fake-collector.ts";
import { fakeCollectors, linesMatching, seqFile, spawnAgent, spoolDir, until } from "./agent-process.ts";

const U64_MAX = 2n ** 64n - 1n;

describe("agent against a hostile collector", () => {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-hostile-"));
  const fake = fakeCollectors();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("ignores an ack for a report it never sent, and logs it once", async () => {
    const state = join(dir, "bogus-ack");
    const collector = await fake({
      lastAckedSeq: () => 0n,
      ack: false,
      afterWelcome(stream) {
        // Three bogus acks, once reports are flowing: each would otherwise drop every unsent report.
        setTimeout(() => [1_000_000n, 2_000_000n, U64_MAX].forEach((seq) => stream.write(ack(seq))), 1500);
      },
    });
    const agent = await spawnAgent(collector.address, "bogus-ack", state, dir);
    await agent.waitFor(/acknowledged a report this agent never sent: ignored/);
    const match = await agent.waitFor(/report seq=(\d+) .*unacked=(\d+)/);
    await agent.waitFor(new RegExp(`report seq=${Number(match[1]) + 1} .*unacked=${Number(match[1]) + 1}\\b`));
    expect(linesMatching(agent.stderr, /never sent/)).toHaveLength(1);
  }, 30_000);

  it("renumbers spooled and new reports when the collector's store is far below its count", async () => {
    const id = "renumbered";
    const state = join(dir, id);
    mkdirSync(state, { recursive: true });
    writeFileSync(seqFile(state, id), "50000\n");
    // A collector that holds 49,990 and stores nothing more: three reports wait in the spool.
    const before = await fake({ lastAckedSeq: () => 49_990n, ack: false });
    const first = await spawnAgent(before.address, id, state, dir);
    await until("three reports", () => before.reports.length >= 3, 15_000);
    first.child.kill("SIGKILL");
    await first.exited;
    const spooled = before.reports.filter((r) => readdirSync(spoolDir(state, id)).includes(`${r.seq.toString().padStart(20, "0")}.report`));
    expect(spooled.length).toBeGreaterThanOrEqual(3);

    // Its store restored from an old backup: it holds up to 7.
    const after = await fake({ lastAckedSeq: () => 7n });
    const second = await spawnAgent(after.address, id, state, dir);
    await second.waitFor(/renumbering unsent reports from its last acknowledged seq/);
    await until("the spooled reports and one new", () => after.reports.length >= spooled.length + 1, 15_000);
    const seqs = after.reports.map((r) => r.seq);
    expect(seqs.slice(0, spooled.length + 1)).toEqual(Array.from({ length: spooled.length + 1 }, (_, i) => 8n + BigInt(i)));
    // The very reports from before, in order, under their new numbers.
    expect(after.reports.slice(0, spooled.length).map((r) => r.observedAtUnixMs)).toEqual(spooled.map((r) => r.observedAtUnixMs));
    expect(seqs.every((seq) => seq <= 7n + SEQ_WINDOW)).toBe(true);
    expect(linesMatching(second.stderr, /renumbering/)).toHaveLength(1);
    await second.stop();
    expect(BigInt(readFileSync(seqFile(state, id), "utf8").trim())).toBeLessThan(7n + SEQ_WINDOW);
    expect(existsSync(spoolDir(state, id))).toBe(true);
  }, 30_000);
});
