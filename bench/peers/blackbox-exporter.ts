// Debian's `prometheus-blackbox-exporter` on a free loopback port with one
// http module: the peer people put in front of a web service to page when it
// stops answering. Its failure reason lives only in its debug log; Prometheus
// sees probe_success 0 and a few probe_* numbers.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../test/helpers/ports.ts";
import { spawnProcess, type Spawned } from "../../test/helpers/processes.ts";
import { findBinary } from "../../test/helpers/prometheus.ts";

export const BLACKBOX_MODULE = "http_2xx";

export interface BlackboxExporter {
  /** HOST:PORT, what Prometheus scrapes at /probe. */
  address: string;
  process: Spawned;
  stop(): Promise<void>;
}

/** `timeoutSeconds`: the module's probe timeout (Prometheus' scrape_timeout caps it too). */
export async function startBlackboxExporter(timeoutSeconds: number): Promise<BlackboxExporter> {
  const dir = mkdtempSync(join(tmpdir(), "clawfleet-blackbox-"));
  // As its README's example module: GET, any 2xx is success, IPv4 for 127.0.0.1.
  writeFileSync(
    join(dir, "blackbox.yml"),
    `modules:\n  ${BLACKBOX_MODULE}:\n    prober: http\n    timeout: ${timeoutSeconds}s\n    http:\n      preferred_ip_protocol: ip4\n      method: GET\n`,
  );
  const address = `127.0.0.1:${await freePort()}`;
  const binary = findBinary("prometheus-blackbox-exporter", "blackbox_exporter");
  const server = spawnProcess(binary, [`--config.file=${join(dir, "blackbox.yml")}`, `--web.listen-address=${address}`, "--log.level=warn"], { PATH: process.env.PATH ?? "" }, dir);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (server.child.exitCode !== null) throw new Error(`blackbox exporter exited (${server.child.exitCode}):\n${server.stderr.slice(-2000)}`);
    try {
      if ((await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(1000) })).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`blackbox exporter on ${address} not answering after 15 s:\n${server.stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address,
    process: server,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The scrape job that probes `targetUrl` through the exporter (the relabelling its README gives). */
export function blackboxScrapeJob(jobName: string, exporter: string, targetUrl: string) {
  return {
    job_name: jobName,
    metrics_path: "/probe",
    params: { module: [BLACKBOX_MODULE] },
    static_configs: [{ targets: [targetUrl] }],
    relabel_configs: [
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__param_target"], target_label: "instance" },
      { target_label: "__address__", replacement: exporter },
    ],
  };
}

/**
 * The rule people copy for it (awesome-prometheus-alerts' BlackboxProbeFailed),
 * with `for:` and a node label so a page names the host as ours does.
 */
export function blackboxRuleGroups(jobName: string, forSeconds: number, node: string) {
  return {
    groups: [
      {
        name: "blackbox",
        rules: [
          {
            alert: "BlackboxProbeFailed",
            expr: `probe_success{job="${jobName}"} == 0\n`,
            for: `${forSeconds}s`,
            labels: { severity: "page", node },
            annotations: { summary: "Blackbox probe failed (instance {{ $labels.instance }})", description: "Probe failed\n  VALUE = {{ $value }}\n  LABELS = {{ $labels }}" },
          },
        ],
      },
    ],
  };
}
