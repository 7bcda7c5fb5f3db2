// Many agents at once, speaking the real protocol over real gRPC: for load
// tests and benchmarks. Each node opens its own stream, waits for the welcome,
// then sends reports as fast as acknowledgements allow (up to `inflight` unacked),
// or one per interval. Tracks, per node, the highest seq the collector acked.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { AgentService, ConnectRequestSchema, type ConnectRequest, type ConnectResponse } from "../../shared/gen/clawfleet/v1/agent_pb.ts";
import { ReportSchema } from "../../shared/gen/clawfleet/v1/report_pb.ts";
import { createClient } from "../../shared/grpc-adapter.ts";
import { keyedFingerprint } from "../../shared/fingerprint.ts";
import { passed, problem } from "../../shared/finding.ts";
import { toWireFinding } from "../../shared/report-codec.ts";
import { tryElsewhereReason } from "../../shared/try-elsewhere.ts";

export interface LoadOptions {
  collector: string;
  nodes: number;
  /** Reports per node per second; 0 means as fast as acks come back. */
  ratePerNode: number;
  /** Most unacknowledged reports per node. */
  inflight?: number;
  nodePrefix?: string;
  /** Agents share a few gRPC channels, as real agents on separate hosts would not; it keeps the client cheap. */
  channels?: number;
  /** A node refused before its welcome is counted (`notWelcomed`) instead of failing `welcomed`: for benchmarks. */
  tolerateRefusals?: boolean;
  /** Opens at most this many streams per second (default: all at once). */
  connectPerSecond?: number;
  /** One channel per node with these credentials (mTLS: each node its own certificate); overrides `channels`. */
  channelFor?: (index: number) => { credentials: grpc.ChannelCredentials; options?: grpc.ClientOptions };
  /** Called with each report's send-to-ack time (ack means committed): for latency percentiles in benchmarks. */
  onAckLatency?: (ms: number) => void;
}

export interface LoadRun {
  /** Highest acknowledged seq per node. */
  acked: Map<string, bigint>;
  /** Highest seq sent per node. */
  sent: Map<string, bigint>;
  readonly ackCount: number;
  readonly errors: number;
  readonly errorKinds: ReadonlyMap<string, number>;
  readonly notWelcomed: number;
  welcomed: Promise<void>;
  /** Stops sending reports but keeps every stream open (nodes stay connected). */
  pause(): void;
  stop(): void;
}

function reportFor(seq: bigint, i: number, key: Uint8Array) {
  const failing = (Number(seq) + i) % 17 === 0;
  const findings = [
    passed("gateway", "gateway", "ready"),
    failing ? problem("session", "token_mismatch", "rejected", { fingerprint: "hmac:00" }) : passed("session", "session", "accepted"),
    i % 5 === 0 ? problem("drift", "multiple_binaries", "two installs") : passed("drift", "drift", "ok"),
  ];
  return create(ReportSchema, {
    seq,
    observedAtUnixMs: BigInt(Date.now()),
    verdict: failing ? "fail" : i % 5 === 0 ? "warn" : "ok",
    primaryIndex: failing ? 1 : i % 5 === 0 ? 2 : -1,
    findings: findings.map(toWireFinding),
    durationMs: 120,
    openclawVersion: "2026.9.6",
    credentials: [{ kind: "gateway_token", source: "config gateway.auth.token", fingerprint: keyedFingerprint(`token-${i}`, key), subject: "gateway:18789" }],
  });
}

export function startLoad(options: LoadOptions): LoadRun {
  const inflight = options.inflight ?? 4;
  const acked = new Map<string, bigint>();
  const sent = new Map<string, bigint>();
  let ackCount = 0;
  let errors = 0;
  let notWelcomed = 0;
  /** Stream errors by status and message, to tell a limit from a timeout. */
  const errorKinds = new Map<string, number>();
  let stopped = false;
  let paused = false;
  const channels = options.channelFor
    ? Array.from({ length: options.nodes }, (_, i) => {
        const channel = options.channelFor!(i);
        return createClient(AgentService, options.collector, channel.credentials, channel.options);
      })
    : Array.from({ length: options.channels ?? 4 }, () => createClient(AgentService, options.collector, grpc.credentials.createInsecure()));
  const streams: grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>[] = [];
  const timers: NodeJS.Timeout[] = [];
  const welcomes: Promise<void>[] = [];
  // Reports start only once every node is welcomed: a fleet connecting while
  // others flood the collector would starve on hello timeouts, which is a
  // property of the generator, not of the collector under test.
  const starters: (() => void)[] = [];

  const openNode = (i: number, welcomed: () => void, refused: (error: Error) => void) => {
    const nodeId = `${options.nodePrefix ?? "load"}-${String(i).padStart(5, "0")}`;
    const stream = channels[i % channels.length]!.connect();
    streams.push(stream);
    let key: Uint8Array | undefined;
    let seq = 0n;
    /** Send times of unacknowledged reports by seq, only when latency is asked for. */
    const sentAt = options.onAckLatency ? new Map<bigint, number>() : undefined;
    const pump = () => {
      if (stopped || paused || !key) return;
      while (seq - (acked.get(nodeId) ?? 0n) < BigInt(inflight)) {
        seq += 1n;
        sent.set(nodeId, seq);
        sentAt?.set(seq, performance.now());
        stream.write(create(ConnectRequestSchema, { message: { case: "report", value: reportFor(seq, i, key) } }));
        if (options.ratePerNode > 0) break;
      }
    };
    stream.on("data", (message: ConnectResponse) => {
      if (message.message.case === "welcome") {
        key = message.message.value.fingerprintKey;
        seq = message.message.value.lastAckedSeq;
        acked.set(nodeId, seq);
        welcomed();
        starters.push(() => (options.ratePerNode > 0 ? timers.push(setInterval(pump, 1000 / options.ratePerNode)) : pump()));
      } else if (message.message.case === "ack") {
        ackCount++;
        const ack = message.message.value.seq;
        if (ack > (acked.get(nodeId) ?? 0n)) acked.set(nodeId, ack);
        const sentMs = sentAt?.get(ack);
        if (sentMs !== undefined) {
          sentAt!.delete(ack);
          options.onAckLatency!(performance.now() - sentMs);
        }
        if (options.ratePerNode === 0) pump();
      }
    });
    stream.on("error", (error: grpc.ServiceError) => {
      if (stopped) return;
      errors++;
      const elsewhere = tryElsewhereReason(error);
      const why = `${grpc.status[error.code] ?? error.code}: ${(error.details || error.message).slice(0, 120)}${elsewhere ? ` [try elsewhere: ${elsewhere}]` : ""}`;
      errorKinds.set(why, (errorKinds.get(why) ?? 0) + 1);
      // A node refused before its welcome would otherwise leave `welcomed` pending forever.
      if (!key) options.tolerateRefusals ? (notWelcomed++, welcomed()) : refused(new Error(`${nodeId} was not welcomed: ${error.details || error.message}`));
    });
    stream.write(create(ConnectRequestSchema, { message: { case: "hello", value: { node: { nodeId, hostname: nodeId, platform: "darwin", agentVersion: "load" }, sentAtUnixMs: BigInt(Date.now()) } } }));
  };

  for (let i = 0; i < options.nodes; i++) {
    welcomes.push(
      new Promise((resolve, reject) => {
        const open = () => openNode(i, resolve, reject);
        // Spread connections out, as a fleet's jittered reconnects are: thousands of TLS handshakes at once would time out.
        if (options.connectPerSecond) timers.push(setTimeout(open, (i * 1000) / options.connectPerSecond));
        else open();
      }),
    );
  }

  return {
    acked,
    sent,
    get ackCount() {
      return ackCount;
    },
    get errors() {
      return errors;
    },
    errorKinds,
    get notWelcomed() {
      return notWelcomed;
    },
    welcomed: Promise.all(welcomes).then(() => {
      for (const start of starters) start();
    }),
    pause() {
      paused = true;
    },
    stop() {
      stopped = true;
      timers.forEach(clearInterval);
      streams.forEach((s) => s.cancel());
      channels.forEach((c) => c.close());
    },
  };
}

/** `collector serve` flags for a simulated fleet: every agent connects from 127.0.0.1, so lift the per-address and new-node limits to the fleet's size. */
export const fleetFromOneAddress = (nodes: number) =>
  ["hellos-per-peer-burst", "new-nodes-burst", "streams-per-peer", "reports-burst"].flatMap((name) => ["--ingest-limit", `${name}=${Math.max(nodes * 2, 2000)}`]);
