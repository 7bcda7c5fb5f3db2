// /metrics at fleet scale: the collector's own renderer against prom-client's
// labelled gauges (the peer), on the same simulated fleet in the same run.
//   npx node bench/metrics-exposition.ts [nodes...]   (default 1000 10000)
import { Registry } from "prom-client";
import { registerFleetMetrics } from "./prom-client-fleet-metrics.ts";
import { renderFleetMetrics } from "../collector/metrics/fleet-exposition.ts";
import { simulatedFleet } from "./fleet-fixture.ts";

const sizes = process.argv.slice(2).map(Number);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function time(fn: () => Promise<string> | string, runs = 7): Promise<{ ms: number; bytes: number }> {
  await fn(); // warm
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    bytes = (await fn()).length;
    times.push(performance.now() - started);
  }
  return { ms: median(times), bytes };
}

for (const nodes of sizes.length > 0 ? sizes : [1000, 10000]) {
  const fleet = simulatedFleet(nodes);
  const ours = await time(() => renderFleetMetrics(fleet));
  const registry = new Registry();
  registerFleetMetrics(registry, fleet);
  const peer = await time(() => registry.metrics());
  console.log(`${nodes} nodes: clawfleet renderer ${ours.ms.toFixed(1)} ms (${(ours.bytes / 1e6).toFixed(1)} MB), prom-client gauges ${peer.ms.toFixed(1)} ms (${(peer.bytes / 1e6).toFixed(1)} MB), ratio ${(ours.ms / peer.ms).toFixed(3)}; rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
}
