// Prometheus configuration for scraping collectors and sending to
// Alertmanager: the committed example and the end-to-end test's config are
// both made here, so the example is the shape that was tested.

export interface PrometheusOptions {
  /** Collector HTTP addresses (HOST:PORT), one per collector shard. */
  collectors: readonly string[];
  alertmanagers: readonly string[];
  ruleFiles: readonly string[];
  scrapeIntervalSeconds: number;
  evaluationIntervalSeconds: number;
  /**
   * Where to send every sample for the long-term, fleet-wide view (Mimir, Thanos Receive, Cortex or
   * another Prometheus with --web.enable-remote-write-receiver): the remote-write protocol they all take.
   */
  remoteWrite?: { url: string; headers?: Record<string, string> };
  /** Labels this Prometheus adds to what it sends or federates, e.g. which region's collectors it scrapes. */
  externalLabels?: Record<string, string>;
}

export const COLLECTOR_JOB = "clawfleet-collector";

export function prometheusConfig(options: PrometheusOptions) {
  return {
    global: {
      scrape_interval: `${options.scrapeIntervalSeconds}s`,
      evaluation_interval: `${options.evaluationIntervalSeconds}s`,
      ...(options.externalLabels ? { external_labels: { ...options.externalLabels } } : {}),
    },
    rule_files: [...options.ruleFiles],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [...options.alertmanagers] }] }] },
    scrape_configs: [
      {
        job_name: COLLECTOR_JOB,
        // The collector serves /metrics on its --http-listen address.
        metrics_path: "/metrics",
        static_configs: [{ targets: [...options.collectors] }],
      },
    ],
    ...(options.remoteWrite ? { remote_write: [{ url: options.remoteWrite.url, ...(options.remoteWrite.headers ? { headers: { ...options.remoteWrite.headers } } : {}) }] } : {}),
  };
}
