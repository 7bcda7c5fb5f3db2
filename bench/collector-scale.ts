// The collector at fleet scale: a real `clawfleet collector serve` process,
// N simulated agents on real gRPC streams, then: sustained ingest rate with
// agents sending as fast as acks allow, /metrics time over HTTP, and RSS.
//   npx node bench/collector-scale.ts [nodes...]   (default 1000 10000)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fleetFromOneAddress, startLoad } from "../test/helpers/load-generator.ts";
import { parseExposition } from "../test/helpers/metrics.ts";
import { freePort } from "../test/helpers/ports.ts";
import { spawnClawfleet } from "../test/helpers/processes.ts";

const sizes = process.argv.slice(2).map(Number);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function scrapeTimed(http: string): Promise<{ ms: number; text: string }> {
  const started = performance.now();
  const text = await (await fetch(`http://${http}/metrics`)).text();
  return { ms: performance.now() - started, text };
}


for (const nodes of sizes.length > 0 ? sizes : [1000, 10000]) {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-scale-"));
  const grpc = `127.0.0.1:${await freePort()}`;
  const http = `127.0.0.1:${await freePort()}`;
  const collector = spawnClawfleet(["collector", "serve", "--insecure", "--grpc-listen", grpc, "--http-listen", http, "--db", join(dir, "c.db"), ...fleetFromOneAddress(nodes)]);
  await collector.waitFor(/collector ready/);
  try {
    const connectStarted = performance.now();
    const load = startLoad({ collector: grpc, nodes, ratePerNode: 0, inflight: 2, channels: 16, nodePrefix: "scale" });
    await load.welcomed;
    const connectMs = performance.now() - connectStarted;
    // Sustained ingest: count acks over a 10 s window after a 3 s warm-up.
    await new Promise((r) => setTimeout(r, 3000));
    const before = load.ackCount;
    const windowStarted = performance.now();
    await new Promise((r) => setTimeout(r, 10_000));
    const rate = (load.ackCount - before) / ((performance.now() - windowStarted) / 1000);
    load.stop();
    await new Promise((r) => setTimeout(r, 500));
    const scrapes: number[] = [];
    let text = "";
    for (let i = 0; i < 5; i++) {
      const s = await scrapeTimed(http);
      scrapes.push(s.ms);
      text = s.text;
      await new Promise((r) => setTimeout(r, 1100)); // past the 1 s render cache
    }
    const samples = parseExposition(text);
    const rss = samples.get("clawfleet_collector_resident_memory_bytes")!;
    console.log(
      `${nodes} nodes: connected in ${(connectMs / 1000).toFixed(1)} s; ingest ${rate.toFixed(0)} reports/s sustained (${load.errors} stream errors); ` +
        `/metrics ${median(scrapes).toFixed(0)} ms median over HTTP (${(text.length / 1e6).toFixed(1)} MB); collector RSS ${(rss / 1e6).toFixed(0)} MB`,
    );
  } finally {
    await collector.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
