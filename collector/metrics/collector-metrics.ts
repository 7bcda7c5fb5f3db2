// The collector's own health: streams, ingest, rejections, store latency.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Fleet } from "../state/fleet.ts";

export function collectorMetrics(registry: Registry, fleet: Fleet) {
  let eventRows = { atMs: 0, rows: 0 };
  new Gauge({
    name: "clawfleet_collector_event_log_rows",
    help: "Rows in the event log (bounded by the retention settings).",
    registers: [registry],
    collect() {
      // count(*) walks the table: once every 30 s is plenty for a size gauge.
      if (Date.now() - eventRows.atMs > 30_000) eventRows = { atMs: Date.now(), rows: fleet.store.eventCount() };
      this.set(eventRows.rows);
    },
  });
  new Gauge({
    name: "clawfleet_collector_nodes",
    help: "Nodes the collector knows, connected or not.",
    registers: [registry],
    collect() {
      this.set(fleet.size);
    },
  });
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
