import { join } from "node:path";
import { defineCommand, parseAddress } from "../../shared/cli.ts";
import { createLogger } from "../../shared/log.ts";
import { dataDir } from "../../shared/paths.ts";
import { waitForSignal } from "../../shared/signals.ts";
import { startCollector } from "../collector.ts";

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
  },
  async run(values) {
    const grpcListen = parseAddress("grpc-listen", values["grpc-listen"]!);
    const httpListen = parseAddress("http-listen", values["http-listen"]!);
    const dbPath = values.db ?? join(dataDir(), "collector.db");
    const log = createLogger("collector");
    const collector = await startCollector({ grpcListen, httpListen, dbPath, log });
    log.info("collector listening", { grpc: collector.grpcAddress, http: collector.httpAddress, db: dbPath });
    process.stdout.write(
      `clawfleet collector ready\n  gRPC     ${collector.grpcAddress}\n  metrics  http://${collector.httpAddress}/metrics\n  store    ${dbPath}\n` +
        `  join an agent:  clawfleet agent run --collector ${collector.grpcAddress}\n`,
    );
    await waitForSignal();
    await collector.stop();
    log.info("collector stopped");
    return 0;
  },
});
