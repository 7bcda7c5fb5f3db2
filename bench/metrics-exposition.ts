// /metrics rendering in-process: the collector's own renderer against
// prom-client's labelled gauges (the peer), on the same simulated fleet in the
// same run, both rendering the same samples (test/unit/prom-client-fleet-metrics.test.ts).
//   node bench/metrics-exposition.ts [--quick]
import { Registry } from "prom-client";
import { median, runStandalone, type BenchOptions, type BenchResult, type BenchRow } from "./harness.ts";
import { registerFleetMetrics } from "./prom-client-fleet-metrics.ts";
import { renderFleetMetrics } from "../collector/metrics/fleet-exposition.ts";
import { simulatedFleet } from "./fleet-fixture.ts";

export const budgetSeconds = 60;

async function time(fn: () => Promise<string> | string, runs: number): Promise<{ ms: number; bytes: number }> {
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

export async function bench(options: BenchOptions): Promise<BenchResult> {
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  for (const nodes of options.quick ? [1000] : [1000, 10_000]) {
    const fleet = simulatedFleet(nodes);
    const ours = await time(() => renderFleetMetrics(fleet), options.quick ? 3 : 7);
    const registry = new Registry();
    registerFleetMetrics(registry, fleet);
    const peer = await time(() => registry.metrics(), options.quick ? 3 : 7);
    rows.push({ what: `render /metrics in-process, ${nodes / 1000}k nodes`, unit: "ms", ours: ours.ms, peer: peer.ms, peerName: "prom-client gauges", better: "lower" });
    notes.push(`${nodes / 1000}k nodes: ${(ours.bytes / 1e6).toFixed(1)} MB ours, ${(peer.bytes / 1e6).toFixed(1)} MB prom-client (the same samples; HELP texts differ)`);
    fleet.store.close();
  }
  return { name: "metrics-exposition", rows, notes };
}

if (import.meta.main) await runStandalone("metrics-exposition", bench).then(() => process.exit(0));
