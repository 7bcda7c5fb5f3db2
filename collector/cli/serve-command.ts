import { join } from "node:path";
import { defineCommand, parseAddress, UsageError } from "../../shared/cli.ts";
import { createLogger } from "../../shared/log.ts";
import { dataDir } from "../../shared/paths.ts";
import { waitForSignal } from "../../shared/signals.ts";
import { startCollector } from "../collector.ts";
import { DEFAULT_PROBE_HOSTS, type ProberOptions } from "../classify/tailnet-prober.ts";
import { parseDuration } from "../../shared/duration.ts";
import { describeLimits, parseLimitOverrides } from "../ingest/limits.ts";

function proberOptions(interval: string, hosts: string | undefined): ProberOptions {
  let intervalMs: number;
  try {
    intervalMs = parseDuration(interval);
  } catch (error) {
    throw new UsageError(`--probe-interval: ${(error as Error).message}`);
  }
  if (intervalMs < 1000) throw new UsageError(`--probe-interval must be at least 1s, got ${interval}`);
  let allowedHosts = DEFAULT_PROBE_HOSTS;
  if (hosts !== undefined) {
    try {
      allowedHosts = new RegExp(hosts);
    } catch (error) {
      throw new UsageError(`--probe-hosts is not a regular expression: ${(error as Error).message}`);
    }
  }
  return { intervalMs, timeoutMs: Math.min(5000, intervalMs), allowedHosts };
}

import { DEFAULT_GRPC_ADDRESS as DEFAULT_GRPC_LISTEN, DEFAULT_HTTP_ADDRESS as DEFAULT_HTTP_LISTEN } from "../../shared/defaults.ts";

export const serveCommand = defineCommand({
  path: ["collector", "serve"],
  help: `Usage: clawfleet collector serve [--grpc-listen ADDR] [--http-listen ADDR] [--db PATH]

Receives agent reports over gRPC, keeps fleet state and history in one SQLite
file, serves Prometheus metrics on /metrics and liveness on /healthz, and
answers \`clawfleet collector query\`.

Options:
  --grpc-listen HOST:PORT   agents and queries connect here (default ${DEFAULT_GRPC_LISTEN})
  --http-listen HOST:PORT   /metrics and /healthz (default ${DEFAULT_HTTP_LISTEN})
  --db PATH                 SQLite file (default: <data dir>/collector.db)
  --probe-tailnet           probe each node's tailnet URL from the collector (TLS and
                            /healthz only, never a token): a host cannot test its own
                            tailnet path, the collector is a real peer
  --probe-interval DURATION how often (default 60s)
  --probe-hosts REGEX       hosts the collector may probe (default: *.ts.net and 100.64.0.0/10)
  --ingest-limit NAME=N     raise or lower one ingest limit (repeatable); what one peer address
                            or node may cost the collector. Defaults:
                            ${describeLimits()}
  -h, --help                show this help

Listeners default to loopback; to take agents from other hosts, listen on the
collector's tailnet address, e.g. --grpc-listen 100.101.102.103:4317.

Examples:
  clawfleet collector serve
  clawfleet collector serve --grpc-listen 0.0.0.0:4317 --db /var/lib/clawfleet/collector.db`,
  options: {
    "grpc-listen": { type: "string", default: DEFAULT_GRPC_LISTEN },
    "http-listen": { type: "string", default: DEFAULT_HTTP_LISTEN },
    db: { type: "string" },
    "probe-tailnet": { type: "boolean" },
    "probe-interval": { type: "string", default: "60s" },
    "probe-hosts": { type: "string" },
    insecure: { type: "boolean" },
    "ingest-limit": { type: "string", multiple: true },
  },
  async run(values) {
    const grpcListen = parseAddress("grpc-listen", values["grpc-listen"]!);
    const httpListen = parseAddress("http-listen", values["http-listen"]!);
    const dbPath = values.db ?? join(dataDir(), "collector.db");
    const log = createLogger("collector");
    const probeTailnet = values["probe-tailnet"] ? proberOptions(values["probe-interval"]!, values["probe-hosts"]) : undefined;
    let limits;
    try {
      limits = parseLimitOverrides(values["ingest-limit"] ?? []);
    } catch (error) {
      throw new UsageError(`--ingest-limit: ${(error as Error).message}`);
    }
    const collector = await startCollector({ grpcListen, httpListen, dbPath, log, probeTailnet, insecure: values.insecure, limits });
    log.info("collector listening", { grpc: collector.grpcAddress, http: collector.httpAddress, db: dbPath });
    process.stdout.write(
      `clawfleet collector ready\n  gRPC     ${collector.grpcAddress}\n  page     http://${collector.httpAddress}/\n  metrics  http://${collector.httpAddress}/metrics\n  store    ${dbPath}\n` +
        `  join an agent:  clawfleet agent run --collector ${collector.grpcAddress}\n` +
        `  as a service:   clawfleet agent install-service --collector ${collector.grpcAddress} --apply   (on each host, as the gateway's user)\n` +
        (grpcListen.host === "127.0.0.1" || grpcListen.host === "::1" || grpcListen.host === "localhost"
          ? `  (loopback only: agents on other hosts need --grpc-listen <this host's tailnet address>:${collector.grpcAddress.slice(collector.grpcAddress.lastIndexOf(":") + 1)})\n`
          : ""),
    );
    await waitForSignal();
    await collector.stop();
    log.info("collector stopped");
    return 0;
  },
});
