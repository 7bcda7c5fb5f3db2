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
}

export const COLLECTOR_JOB = "clawfleet-collector";

export function prometheusConfig(options: PrometheusOptions) {
  return {
    global: {
      scrape_interval: `${options.scrapeIntervalSeconds}s`,
      evaluation_interval: `${options.evaluationIntervalSeconds}s`,
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
  };
}
