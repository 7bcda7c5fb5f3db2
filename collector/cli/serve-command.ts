import { dirname, join } from "node:path";
import { pkiDirFor } from "../pki/collector-security.ts";
import { isLoopbackHost } from "../../shared/loopback.ts";
import { defineCommand, parseAddress, UsageError } from "../../shared/cli.ts";
import { LOG_FLAGS, logFlagsHelp, loggerFromFlags } from "../../shared/log.ts";
import { dataDir } from "../../shared/paths.ts";
import { isPostgresUrl } from "../state/pg-connection.ts";
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
  help: `Usage: clawfleet collector serve [--grpc-listen ADDR] [--http-listen ADDR] [--db PATH | --db postgres://USER@HOST:PORT/DB] [--insecure]

Receives agent reports over gRPC, keeps fleet state and history in one SQLite
file, serves Prometheus metrics on /metrics and liveness on /healthz, and
answers \`clawfleet collector query\`.

Every gRPC peer authenticates with mutual TLS: nodes and operators hold a
certificate from this collector's own CA (made on first start in pki/ beside
the store, key 0600), issued through \`clawfleet collector enroll\` tokens. A node
may report only as the node its certificate names. The fleet page is served
only on a loopback --http-listen (it has no login); /metrics and /healthz are
served wherever --http-listen is.

Options:
  --grpc-listen HOST:PORT   agents and queries connect here (default ${DEFAULT_GRPC_LISTEN})
  --http-listen HOST:PORT   the fleet page (loopback only unless --insecure), /metrics and /healthz (default ${DEFAULT_HTTP_LISTEN})
  --metrics-listen HOST:PORT  also serve /metrics and /healthz (only) here, e.g. the tailnet address for Prometheus
  --db PATH                 SQLite file (default: <data dir>/collector.db)
  --db postgres://USER@HOST:PORT/DB
                            a PostgreSQL store several collectors share: each node's
                            stream is held by one of them (a lease, refused elsewhere
                            with UNAVAILABLE), one leads (fleet-wide series, silences,
                            pruning); the password from PGPASSWORD, --db-password-file
                            or ~/.pgpass, never in the URL
  --db-password-file FILE   the PostgreSQL password (its first line)
  --ca-key-file FILE        with a PostgreSQL store: the key (0600, at least 32 bytes) that seals
                            the fleet CA's private key in the database, the same file on every
                            collector (else $CLAWFLEET_CA_KEY); the first collector makes the CA
  --probe-tailnet           probe each node's tailnet URL from the collector (TLS and
                            /healthz only, never a token): a host cannot test its own
                            tailnet path, the collector is a real peer
  --probe-interval DURATION how often (default 60s)
  --probe-hosts REGEX       hosts the collector may probe (default: *.ts.net and 100.64.0.0/10)
  --cert-lifetime DURATION  validity of issued certificates (default 30d; agents renew at two thirds)
  --insecure                plaintext, no authentication: a demo on loopback only (refuses other addresses)
  --ingest-limit NAME=N     raise or lower one ingest limit (repeatable); what one peer address
                            or node may cost the collector. Defaults:
                            ${describeLimits()}
${logFlagsHelp(28)}
  -h, --help                show this help

Listeners default to loopback; to take agents from other hosts, listen on the
collector's tailnet address, e.g. --grpc-listen 100.101.102.103:4317.

Examples:
  clawfleet collector serve
  clawfleet collector serve --grpc-listen 0.0.0.0:4317 --db /var/lib/clawfleet/collector.db
  PGPASSWORD=… clawfleet collector serve --db postgres://clawfleet@db.internal:5432/clawfleet`,
  options: {
    "grpc-listen": { type: "string", default: DEFAULT_GRPC_LISTEN },
    "http-listen": { type: "string", default: DEFAULT_HTTP_LISTEN },
    db: { type: "string" },
    "db-password-file": { type: "string" },
    "ca-key-file": { type: "string" },
    "probe-tailnet": { type: "boolean" },
    "probe-interval": { type: "string", default: "60s" },
    "probe-hosts": { type: "string" },
    insecure: { type: "boolean" },
    "cert-lifetime": { type: "string", default: "30d" },
    "metrics-listen": { type: "string" },
    "ingest-limit": { type: "string", multiple: true },
    ...LOG_FLAGS,
  },
  async run(values) {
    const grpcListen = parseAddress("grpc-listen", values["grpc-listen"]!);
    const httpListen = parseAddress("http-listen", values["http-listen"]!);
    const dbPath = values.db ?? join(dataDir(), "collector.db");
    const log = loggerFromFlags("collector", values);
    const probeTailnet = values["probe-tailnet"] ? proberOptions(values["probe-interval"]!, values["probe-hosts"]) : undefined;
    let certificateLifetimeMs: number;
    try {
      certificateLifetimeMs = parseDuration(values["cert-lifetime"]!);
    } catch (error) {
      throw new UsageError(`--cert-lifetime: ${(error as Error).message}`);
    }
    if (certificateLifetimeMs < 3000) throw new UsageError(`--cert-lifetime must be at least 3s, got ${values["cert-lifetime"]}`);
    const insecure = values.insecure ?? false;
    const metricsListen = values["metrics-listen"] ? parseAddress("metrics-listen", values["metrics-listen"]) : undefined;
    
    let limits;
    try {
      limits = parseLimitOverrides(values["ingest-limit"] ?? []);
    } catch (error) {
      throw new UsageError(`--ingest-limit: ${(error as Error).message}`);
    }
    const collector = await startCollector({ grpcListen, httpListen, metricsListen, dbPath, dbPasswordFile: values["db-password-file"], caKeyFile: values["ca-key-file"], log, probeTailnet, insecure, certificateLifetimeMs, limits });
    log.info("collector listening", { grpc: collector.grpcAddress, http: collector.httpAddress, db: dbPath });
    process.stdout.write(
      `clawfleet collector ready\n  gRPC     ${collector.grpcAddress}\n${collector.pageServed ? `  page     http://${collector.httpAddress}/  (loopback only, no login, by choice)\n` : ""}  metrics  http://${collector.httpAddress}/metrics${collector.metricsAddress ? ` and http://${collector.metricsAddress}/metrics` : ""}\n  store    ${dbPath}\n` +
        (insecure
          ? `  INSECURE: plaintext gRPC, no authentication, anyone on this host can report as any node (a loopback demo)\n` +
            `  join an agent:  clawfleet agent run --insecure --collector ${collector.grpcAddress}\n`
          : `  security       mTLS; CA and trust store ${isPostgresUrl(dbPath) ? "in the database (the CA key sealed)" : `in ${pkiDirFor(dirname(dbPath))}`}\n` +
            `  join a host:    here \`clawfleet collector enroll NODE\`, there \`clawfleet agent enroll --collector ${collector.grpcAddress} --token TOKEN\`\n` +
            `  as a service:   clawfleet agent install-service --collector ${collector.grpcAddress} --apply   (on each host, as the gateway's user, after enrolling)\n`) +
        (collector.pageServed ? "" : `  page           not served: --http-listen is not loopback and the page has no login; use \`clawfleet collector query\` or a loopback listener\n`) +
        (isLoopbackHost(grpcListen.host)
          ? `  (loopback only: agents on other hosts need --grpc-listen <this host's tailnet address>:${collector.grpcAddress.slice(collector.grpcAddress.lastIndexOf(":") + 1)})\n`
          : ""),
    );
    await waitForSignal();
    await collector.stop();
    log.info("collector stopped");
    return 0;
  },
});
