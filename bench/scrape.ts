// /metrics at fleet scale against the Pushgateway holding the same series.
// Ours: a real `collector serve` process holding N nodes, each connected on its
// own gRPC stream with one report stored (bench/load/). Peer: Debian's
// prometheus-pushgateway holding one group per node with exactly the
// node-labelled series our /metrics showed. Timed over HTTP (past the
// collector's 1 s render cache), then the real `prometheus` scrapes both and
// reports its own scrape_duration_seconds for each target.
//   node bench/scrape.ts [--quick]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, runStandalone, type BenchOptions, type BenchResult, type BenchRow } from "./harness.ts";
import { forkGenerator, type GeneratorChild } from "./load/child-ipc.ts";
import { groupsFromExposition, startPushgateway, writeGroups } from "./peers/pushgateway.ts";
import { fleetFromOneAddress } from "../test/helpers/load-generator.ts";
import { freePort } from "../test/helpers/ports.ts";
import { spawnClawfleet } from "../test/helpers/processes.ts";
import { startPrometheus } from "../test/helpers/prometheus.ts";

export const budgetSeconds = 150;
const GENERATORS = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GETs /metrics `runs` times, `gapMs` apart; median ms and the last body. */
async function timeScrapes(url: string, runs: number, gapMs: number): Promise<{ ms: number; text: string }> {
  const times: number[] = [];
  let text = "";
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    text = await (await fetch(url)).text();
    times.push(performance.now() - started);
    await sleep(gapMs);
  }
  return { ms: median(times), text };
}

/** Prometheus scraping both targets at `intervalS`; after `scrapes` rounds, its mean scrape_duration_seconds and samples per target. */
async function prometheusScrapes(ours: string, peer: string, intervalS: number, scrapes: number) {
  const prometheus = await startPrometheus({
    config: [
      "global:",
      `  scrape_interval: ${intervalS}s`,
      `  scrape_timeout: ${intervalS}s`,
      "scrape_configs:",
      "  - job_name: clawfleet",
      `    static_configs: [{ targets: ["${ours}"] }]`,
      "  - job_name: pushgateway",
      "    honor_labels: true",
      `    static_configs: [{ targets: ["${peer}"] }]`,
      "",
    ].join("\n"),
  });
  try {
    const byJob = async (expr: string) => Object.fromEntries((await prometheus.query(expr)).map((s) => [s.metric.job!, Number(s.value[1])]));
    // Every scrape since start counts: wait until each target has `scrapes` of them (bounded).
    const deadline = Date.now() + (scrapes + 10) * intervalS * 1000;
    for (;;) {
      const counts = await byJob("count_over_time(up[1h])");
      if ((counts.clawfleet ?? 0) >= scrapes && (counts.pushgateway ?? 0) >= scrapes) break;
      if (Date.now() > deadline) throw new Error(`Prometheus scraped only ${JSON.stringify(counts)} times in ${(scrapes + 10) * intervalS} s`);
      await sleep(500);
    }
    return {
      durationS: await byJob("avg_over_time(scrape_duration_seconds[1h])"),
      samples: await byJob("max_over_time(scrape_samples_scraped[1h])"),
      up: await byJob("min_over_time(up[1h])"),
    };
  } finally {
    await prometheus.stop();
  }
}

export async function bench(options: BenchOptions): Promise<BenchResult> {
  const sizes = options.quick ? [200] : [1000, 10_000];
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  for (const nodes of sizes) {
    const k = nodes >= 1000 ? `${nodes / 1000}k` : String(nodes);
    const dir = mkdtempSync(join(tmpdir(), "clawfleet-bench-scrape-"));
    const grpc = `127.0.0.1:${await freePort()}`;
    const http = `127.0.0.1:${await freePort()}`;
    const collector = spawnClawfleet(["collector", "serve", "--insecure", "--grpc-listen", grpc, "--http-listen", http, "--db", join(dir, "c.db"), ...fleetFromOneAddress(nodes)]);
    const generators: GeneratorChild[] = [];
    const gateway = await startPushgateway({ consistencyCheck: false });
    try {
      await collector.waitFor(/collector ready/, 30_000);
      for (let g = 0; g < GENERATORS; g++) generators.push(forkGenerator("collector-load-child.ts", { collector: grpc, nodes: Math.ceil(nodes / GENERATORS), nodePrefix: `scrape${g}`, inflight: 1, channels: 8, oneReportEach: true, connectPerSecond: 500 }));
      const notWelcomed = (await Promise.all(generators.map((g) => g.ready))).reduce((a, r) => a + Number(r.notWelcomed ?? 0), 0);
      // Both sides hold the same nodes either way (the peer gets what our /metrics shows); fewer than asked is said.
      if (notWelcomed > 0) notes.push(`${k}: ${notWelcomed} of ${nodes} nodes were never welcomed (hello timeouts on a busy machine): both sides hold ${nodes - notWelcomed}`);
      const ourScrape = await timeScrapes(`http://${http}/metrics`, options.quick ? 2 : 5, 1100);
      const groups = groupsFromExposition(ourScrape.text);
      const files = writeGroups(groups);
      try {
        const filler = forkGenerator("push-child.ts", { url: gateway.url, groupsFile: files.file, connections: 16, populate: true });
        const filled = await filler.ready;
        await filler.stop();
        if (Number(filled.pushed) !== groups.length) notes.push(`${k}: only ${filled.pushed} of ${groups.length} groups reached the Pushgateway (${filled.errors} errors)`);
      } finally {
        files.remove();
      }
      const peerScrape = await timeScrapes(`${gateway.url}/metrics`, options.quick ? 2 : 5, 200);
      // Prometheus's timeout cannot exceed its interval: 1 s unless the slower target needs more, so neither is cut off.
      const intervalS = Math.max(1, Math.ceil((3 * Math.max(ourScrape.ms, peerScrape.ms)) / 1000));
      const seen = await prometheusScrapes(http, gateway.address, intervalS, options.quick ? 2 : 4);
      const what = `/metrics, ${k} nodes`;
      rows.push(
        { what: `${what}, over HTTP`, unit: "ms", ours: ourScrape.ms, peer: peerScrape.ms, peerName: "pushgateway", better: "lower" },
        { what: `${what}, size`, unit: "MB", ours: ourScrape.text.length / 1e6, peer: peerScrape.text.length / 1e6, peerName: "pushgateway", better: "lower" },
        { what: `${what}, Prometheus scrape_duration_seconds`, unit: "ms", ours: (seen.durationS.clawfleet ?? Number.NaN) * 1000, peer: (seen.durationS.pushgateway ?? Number.NaN) * 1000, peerName: "pushgateway", better: "lower" },
      );
      notes.push(
        `${k}: Prometheus scraped both every ${intervalS} s: samples per scrape clawfleet ${seen.samples.clawfleet}, pushgateway ${seen.samples.pushgateway} (it adds push_time_seconds and push_failure_time_seconds per group); up min clawfleet ${seen.up.clawfleet}, pushgateway ${seen.up.pushgateway}`,
      );
    } finally {
      await Promise.all(generators.map((g) => g.stop()));
      await Promise.all([collector.stop(), gateway.stop()]);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  notes.push("ours: median of timed GETs 1.1 s apart (past the 1 s render cache, so each is a fresh render); peer: median of timed GETs");
  return { name: "scrape", rows, notes };
}

if (import.meta.main) await runStandalone("scrape", bench).then(() => process.exit(0));
