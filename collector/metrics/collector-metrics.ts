// The collector's own health: streams, ingest, rejections, store latency.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export function collectorMetrics(registry: Registry) {
  return {
    streams: new Gauge({ name: "clawfleet_collector_streams", help: "Agent streams open right now.", registers: [registry] }),
    reports: new Counter({
      name: "clawfleet_collector_reports_total",
      help: "Agent reports received, by outcome (stored, or duplicate of one already stored).",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    rejected: new Counter({
      name: "clawfleet_collector_rejected_total",
      help: "Agent streams closed for breaking the protocol, by reason.",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    storeWriteSeconds: new Histogram({
      name: "clawfleet_collector_store_write_seconds",
      help: "Time to write one report to the store.",
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
      registers: [registry],
    }),
  };
}

export type CollectorMetrics = ReturnType<typeof collectorMetrics>;
