// Chaos (d): the collector sits behind a link that delays every byte by
// 300 ms each way, and drops once while reports and acks are in flight.
// Reports resent after the drop are acknowledged as duplicates, never stored
// twice; every report made is stored.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startCollectorProcess } from "../helpers/collector.ts";
import { scrape, series } from "../helpers/metrics.ts";
import { stopAll } from "../helpers/processes.ts";
import { expectDeliveredOnce, madeSeqs, spawnAgent, spooledSeqs, storedReports, until } from "./agent-process.ts";
import { startDelayProxy, type DelayProxy } from "./delay-proxy.ts";

const DELAY_MS = 300;

describe("chaos: slow collector", () => {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-chaos-slow-"));
  let proxy: DelayProxy | undefined;
  afterAll(async () => {
    await stopAll();
    await proxy?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores every report once through a 300 ms link that drops mid-flight", async () => {
    const db = join(dir, "collector.db");
    const state = join(dir, "agent");
    const collector = await startCollectorProcess(db);
    proxy = await startDelayProxy(collector.grpcAddress, DELAY_MS);
    const agent = await spawnAgent(proxy.address, "faraway", state, dir);
    await agent.waitFor(/report seq=2 /, 15_000);
    // Cut while a report has reached the collector but its ack has not come back.
    const seq = Number(madeSeqs(agent.stderr).at(-1)!) + 1;
    await agent.waitFor(new RegExp(`report seq=${seq} `));
    await new Promise((r) => setTimeout(r, DELAY_MS * 1.5));
    proxy.cut();
    await agent.waitFor(/connected to collector(.|\n)*connected to collector/, 20_000);
    await agent.waitFor(new RegExp(`report seq=${seq + 2} `));

    await until("every report made to be stored", () => {
      const stored = new Set(storedReports(db, "faraway").map((r) => r.seq));
      return madeSeqs(agent.stderr).every((s) => stored.has(s));
    }, 15_000);
    const samples = await scrape(collector.httpAddress);
    console.log(`slow link: reports stored ${samples.get(series("clawfleet_collector_reports_total", { outcome: "stored" }))}, resent and acknowledged as duplicates ${samples.get(series("clawfleet_collector_reports_total", { outcome: "duplicate" })) ?? 0}`);
    await agent.stop();
    await collector.process.stop();
    const made = madeSeqs(agent.stderr);
    expect(made.length).toBeGreaterThanOrEqual(seq + 2);
    expectDeliveredOnce(storedReports(db, "faraway"), made, spooledSeqs(state, "faraway"));
  }, 30_000);
});
