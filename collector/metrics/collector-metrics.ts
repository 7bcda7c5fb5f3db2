// The collector's own health: streams, ingest, rejections, store latency.
import type { RetentionPolicy } from "../state/store.ts";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Fleet } from "../state/fleet.ts";

/**
 * The process figures an operator needs, named so `promtool check metrics` is
 * clean (prom-client's default set names gauges `*_total`, which it flags).
 */
function processMetrics(registry: Registry): void {
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const started = Date.now() / 1000 - process.uptime();
  new Gauge({ name: "clawfleet_collector_resident_memory_bytes", help: "Resident set size of the collector process.", registers: [registry], collect() { this.set(process.memoryUsage.rss()); } });
  new Counter({
    name: "clawfleet_collector_cpu_seconds_total",
    help: "CPU time the collector process used, user plus system.",
    registers: [registry],
    collect() {
      const { user, system } = process.cpuUsage();
      this.reset();
      this.inc((user + system) / 1e6);
    },
  });
  new Gauge({ name: "clawfleet_collector_start_time_seconds", help: "When the collector process started, Unix seconds.", registers: [registry], collect() { this.set(started); } });
  new Gauge({
    name: "clawfleet_collector_event_loop_delay_p99_seconds",
    help: "99th percentile event-loop delay since the last scrape: how long ingest may wait behind other work.",
    registers: [registry],
    collect() {
      this.set(loopDelay.percentile(99) / 1e9);
      loopDelay.reset();
    },
  });
}

export function collectorMetrics(registry: Registry, fleet: Fleet, retention: Pick<RetentionPolicy, "eventsMaxRows">) {
  processMetrics(registry);
  let eventRows = { atMs: 0, rows: 0 };
  new Gauge({
    name: "clawfleet_collector_event_log_rows",
    help: "Rows in the event log (bounded by the retention settings).",
    registers: [registry],
    async collect() {
      // count(*) walks the table: once every 30 s is plenty for a size gauge.
      if (Date.now() - eventRows.atMs > 30_000) eventRows = { atMs: Date.now(), rows: await fleet.reading(() => fleet.store.eventCount()) };
      this.set(eventRows.rows);
    },
  });
  new Gauge({
    name: "clawfleet_collector_event_log_max_rows",
    help: "The event log's retention bound in rows: the oldest events are pruned beyond it.",
    registers: [registry],
    collect() {
      this.set(retention.eventsMaxRows);
    },
  });
  new Gauge({
    name: "clawfleet_collector_leader",
    help: "1 on the collector that leads the collectors sharing a PostgreSQL store (it exposes the nodes none holds, opens their silences and prunes); 1 on a collector with its own SQLite store.",
    registers: [registry],
    collect() {
      this.set(fleet.isLeader ? 1 : 0);
    },
  });
  new Gauge({
    name: "clawfleet_collector_nodes",
    help: "Nodes this collector's /metrics speaks for, connected or not: all it knows, or on a shared PostgreSQL store those it holds (the leader also those none holds), so the sum over collectors is the fleet.",
    registers: [registry],
    collect() {
      let spoken = 0;
      for (const view of fleet.list()) if (fleet.exposes(view)) spoken++;
      this.set(spoken);
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
      help: "Requests refused: bad input, a limit, failed authentication or enrollment, by reason (one table: collector/ingest/reject-reasons.ts).",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: "clawfleet_collector_store_errors_total",
      help: "Agent messages the collector failed to store (disk full, I/O error, a locked database): nothing is acknowledged, so agents keep and resend their reports.",
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
