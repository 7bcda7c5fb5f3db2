// Assembles the collector: store → fleet → gRPC ingest and query, HTTP metrics.
import * as grpc from "@grpc/grpc-js";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import { AgentService } from "../shared/gen/clawfleet/v1/agent_pb.ts";
import { QueryService } from "../shared/gen/clawfleet/v1/query_pb.ts";
import { addService } from "../shared/grpc-adapter.ts";
import { createLogger, type Logger } from "../shared/log.ts";
import { formatAddress } from "../shared/cli.ts";
import { handleConnect } from "./ingest/agent-service.ts";
import { collectorMetrics } from "./metrics/collector-metrics.ts";
import { cachedFleetMetrics } from "./metrics/fleet-exposition.ts";
import { queryHandlers } from "./query/query-service.ts";
import { createHttpServer } from "./http/http-server.ts";
import { DEFAULT_RETENTION, Fleet } from "./state/fleet.ts";
import type { RetentionPolicy } from "./state/store.ts";
import { startTailnetProber, type ProberOptions } from "./classify/tailnet-prober.ts";
import { SqliteStore } from "./state/sqlite-store.ts";
import { isPostgresUrl } from "./state/pg-connection.ts";
import { dirname } from "node:path";
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { dataDir } from "../shared/paths.ts";
import { collectorSecurity, pkiDirFor } from "./pki/collector-security.ts";
import { isLoopbackHost } from "../shared/loopback.ts";
import { UsageError } from "../shared/cli.ts";
import { requireRole } from "./pki/peer-auth.ts";

export interface CollectorOptions {
  grpcListen: { host: string; port: number };
  httpListen: { host: string; port: number };
  /** A second HTTP listener with only /metrics and /healthz, e.g. on the tailnet address for Prometheus while the page stays on loopback. */
  metricsListen?: { host: string; port: number };
  /** A SQLite file, or `postgres://USER@HOST:PORT/DB` for a store several collectors share. */
  dbPath: string;
  /** The PostgreSQL password's file (else PGPASSWORD, else ~/.pgpass). */
  dbPasswordFile?: string;
  /** With a PostgreSQL store: the file whose key seals the fleet CA's private key in the database (else CLAWFLEET_CA_KEY); the same on every collector. */
  caKeyFile?: string;
  /** This collector's name among those sharing a PostgreSQL store (default: host, process id and a random part). */
  collectorId?: string;
  /** How often a shared store's other collectors' nodes are read back (default 2 s). */
  sharedRefreshMs?: number;
  retention?: RetentionPolicy;
  /** Probe each node's tailnet URL from here (TLS + /healthz, no tokens). */
  probeTailnet?: ProberOptions;
  /** Keepalive ping interval and timeout: a dead agent is noticed after their sum. */
  keepaliveMs?: { time: number; timeout: number };
  /** Plaintext gRPC with no peer authentication: a loopback demo only (refused on any other address). */
  insecure?: boolean;
  /** Where the CA, the collector's certificate and the trust store live (default: `pki/` beside the store). */
  pkiDir?: string;
  /** How long an issued node or operator certificate is valid (default 30 days; agents renew at two thirds). */
  certificateLifetimeMs?: number;
  /** What one peer may cost the collector (collector/ingest/limits.ts); unset fields keep DEFAULT_LIMITS. */
  limits?: Partial<import("./ingest/limits.ts").IngestLimits>;
  log?: Logger;
}

export interface RunningCollector {
  grpcAddress: string;
  httpAddress: string;
  /** The fleet page is served (always with --insecure; otherwise only on a loopback HTTP listener). */
  pageServed: boolean;
  metricsAddress?: string;
  stop(): Promise<void>;
}

const PRUNE_INTERVAL_MS = 10 * 60_000;

/** Largest message an agent may send: a report is a few KB; 1 MiB is generous. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export async function startCollector(options: CollectorOptions): Promise<RunningCollector> {
  const log = options.log ?? createLogger("collector");
  const insecure = options.insecure ?? false;
  if (insecure && !isLoopbackHost(options.grpcListen.host)) {
    throw new UsageError(`--insecure listens on loopback only (it takes agents and queries with no authentication): ${options.grpcListen.host} is not a loopback address. Drop --insecure (mTLS is the default) or listen on 127.0.0.1.`);
  }
  const shared = isPostgresUrl(options.dbPath);
  // Collectors sharing a PostgreSQL store share its CA and trust records too: a node enrolled or revoked through one is so at every one.
  const postgres = shared && !insecure
    ? {
        db: options.dbPath,
        password: { passwordFile: options.dbPasswordFile },
        caKey: { file: options.caKeyFile },
        serverNames: [hostname(), ...(isWildcard(options.grpcListen.host) ? [] : [options.grpcListen.host])],
      }
    : undefined;
  const security = await collectorSecurity({ insecure, pkiDir: options.pkiDir ?? pkiDirFor(shared ? dataDir() : dirname(options.dbPath)), postgres, certificateLifetimeMs: options.certificateLifetimeMs, log });
  const keepalive = options.keepaliveMs ?? { time: 5000, timeout: 5000 };
  const { store, fleet, coordinator } = shared ? await openSharedFleet(options, keepalive, log) : openLocalFleet(options.dbPath);
  const registry = new Registry();
  const retention = options.retention ?? DEFAULT_RETENTION;
  const metrics = collectorMetrics(registry, fleet, retention);

  const server = new grpc.Server({
    "grpc.keepalive_time_ms": keepalive.time,
    "grpc.keepalive_timeout_ms": keepalive.timeout,
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
  });
  const reject = (reason: string) => metrics.rejected.inc({ reason });
  addService(server, AgentService, { connect: handleConnect({ fleet, fingerprintKey: await store.fingerprintKey(), metrics, log, limits: options.limits, auth: security.auth }) });
  addService(server, QueryService, requireRole(queryHandlers(fleet, reject), security.auth, ["operator"], reject));
  security.register(server, reject);

  const grpcPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(formatAddress(options.grpcListen.host, options.grpcListen.port), security.credentials, (error, port) =>
      error ? reject(new Error(`cannot listen for gRPC on ${formatAddress(options.grpcListen.host, options.grpcListen.port)}: ${error.message}`)) : resolve(port),
    );
  });

  // The certificate providers answer on the next turn after the bind (server-credentials.ts): let them, so no first peer meets a listener without its certificate.
  await new Promise((resolve) => setImmediate(resolve));

  const prune = async () => {
    try {
      // On a shared store only the leader prunes the history (fleet.pruneIfLeading).
      const removed = { ...(await fleet.pruneIfLeading(retention)), ...security.prune() };
      if (Object.values(removed).some((n) => n > 0)) log.info("pruned history", removed);
    } catch (error) {
      log.error("pruning history failed", { error: (error as Error).message });
    }
  };
  await prune();
  const pruneTimer = setInterval(prune, PRUNE_INTERVAL_MS);
  pruneTimer.unref();

  const prober = options.probeTailnet ? startTailnetProber(fleet, options.probeTailnet) : undefined;

  // The page shows the whole fleet to whoever asks: with mTLS on, only on loopback (reach it through SSH or the tailnet's own auth).
  const pageServed = insecure || isLoopbackHost(options.httpListen.host);
  const http = createHttpServer(registry, cachedFleetMetrics(fleet), pageServed ? fleet : undefined);
  await new Promise<void>((resolve, reject) => {
    http.once("error", (error) => reject(new Error(`cannot listen for HTTP on ${formatAddress(options.httpListen.host, options.httpListen.port)}: ${error.message}`)));
    http.listen(options.httpListen.port, options.httpListen.host, () => resolve());
  });
  const httpPort = (http.address() as AddressInfo).port;
  const metricsHttp = options.metricsListen ? await listenHttp(createHttpServer(registry, cachedFleetMetrics(fleet)), options.metricsListen) : undefined;

  return {
    grpcAddress: formatAddress(options.grpcListen.host, grpcPort),
    httpAddress: formatAddress(options.httpListen.host, httpPort),
    pageServed,
    metricsAddress: metricsHttp ? formatAddress(options.metricsListen!.host, (metricsHttp.address() as AddressInfo).port) : undefined,
    async stop() {
      clearInterval(pruneTimer);
      prober?.stop();
      // Agent streams never end on their own: cut them, agents reconnect elsewhere or later.
      server.forceShutdown();
      // An open browser tab keeps a keep-alive connection: close it, or close() never returns.
      await Promise.all([http, metricsHttp].filter((s) => s !== undefined).map((server) => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        return closed;
      }));
      await security.close();
      if (coordinator) {
        // The cut streams' ends (their silences, their leases) are written in their nodes' turns: let those run first.
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise<void>((resolve) => fleet.whenDurable(() => resolve()));
      }
      fleet.stop();
      await store.close();
      // Leases go with the presence connection: the agents' next collector may take them at once.
      await coordinator?.close();
    },
  };
}

const isWildcard = (host: string) => host === "0.0.0.0" || host === "::" || host === "";

function openLocalFleet(dbPath: string) {
  const store = new SqliteStore(dbPath);
  return { store, fleet: new Fleet(store), coordinator: undefined };
}

/**
 * A store several collectors share: a node's lease lives for the keepalive window (time + timeout,
 * 10 s by default), the time in which an agent notices a dead collector too, so a hung collector's
 * nodes are free by the time their agents have looked elsewhere; a killed one's are free at once.
 */
async function openSharedFleet(options: CollectorOptions, keepalive: { time: number; timeout: number }, log: Logger) {
  const { PgStore } = await import("./state/pg-store.ts");
  const { PgCoordinator } = await import("./state/pg-leases.ts");
  const collectorId = options.collectorId ?? `${hostname().replace(/[^A-Za-z0-9.-]/g, "-").slice(0, 40)}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const source = { passwordFile: options.dbPasswordFile, onConnectionError: (message: string) => log.warn("database connection lost", { error: message }) };
  const leaseTtlMs = keepalive.time + keepalive.timeout;
  const store = await PgStore.open(options.dbPath, { ...source, collectorId, idleInTransactionTimeoutMs: leaseTtlMs / 2 });
  let coordinator;
  try {
    coordinator = await PgCoordinator.start(options.dbPath, { ...source, collectorId, leaseTtlMs });
  } catch (error) {
    await store.close();
    throw error;
  }
  const fleet = await Fleet.openShared(store, { coordinator, refreshMs: options.sharedRefreshMs ?? 2000, log: (msg, fields) => log.warn(msg, fields) });
  log.info("sharing the store with other collectors", { db: store.description, collector: collectorId, leader: coordinator.isLeader, leaseTtlMs: coordinator.leaseTtlMs });
  return { store, fleet, coordinator };
}

function listenHttp(server: ReturnType<typeof createHttpServer>, at: { host: string; port: number }): Promise<ReturnType<typeof createHttpServer>> {
  return new Promise((resolve, reject) => {
    server.once("error", (error) => reject(new Error(`cannot listen for HTTP on ${formatAddress(at.host, at.port)}: ${error.message}`)));
    server.listen(at.port, at.host, () => resolve(server));
  });
}
