// The agent's side of AgentService.Connect: keeps one stream open, reconnects
// with jittered exponential backoff, and resends every report the collector
// has not acknowledged, in seq order.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { AgentService, ConnectRequestSchema, type ConnectRequest, type ConnectResponse } from "../../shared/gen/clawfleet/v1/agent_pb.ts";
import type { NodeIdentity, Report } from "../../shared/gen/clawfleet/v1/report_pb.ts";
import { createClient, type MethodsOf, type ServiceClient } from "../../shared/grpc-adapter.ts";
import type { Logger } from "../../shared/log.ts";
import { describeGrpcError } from "../../shared/grpc-errors.ts";
import type { Spool } from "./spool.ts";


const WARN_EVERY_MS = 60_000;

/** How to reach the collector: mTLS with the node's certificate, or plaintext with --insecure. */
export interface LinkChannel {
  credentials: grpc.ChannelCredentials;
  options?: grpc.ClientOptions;
}

/** Keepalive and reconnect settings: notice a dead collector as fast as it notices a dead agent. */
const CHANNEL_OPTIONS: grpc.ClientOptions = {
  "grpc.keepalive_time_ms": 10_000,
  "grpc.keepalive_timeout_ms": 5000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.initial_reconnect_backoff_ms": 500,
  "grpc.max_reconnect_backoff_ms": 10_000,
};

export interface LinkOptions {
  address: string;
  /** Default: plaintext (only a collector started with --insecure accepts it). */
  channel?: LinkChannel;
  identity: NodeIdentity;
  log: Logger;
  onWelcome?(fingerprintKey: Uint8Array, lastAckedSeq: bigint): void;
  onCheckNow?(reason: string): void;
  /** Where unacknowledged reports survive a restart; without it they are kept in memory only. */
  spool?: Spool;
  /** Most reports kept in memory while the collector is away (no spool); the oldest go first. */
  maxPending?: number;
  backoff?: { initialMs: number; maxMs: number };
}

export class CollectorLink {
  private client: ServiceClient<MethodsOf<typeof AgentService>>;
  private stream?: grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>;
  private welcomed = false;
  private readonly pending = new Map<bigint, Report>();
  private attempt = 0;
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;
  /** The stream is being cut on purpose (new certificate): not an outage to warn about. */
  private recycling = false;
  private lastWarnMs = 0;
  private readonly options: LinkOptions;

  constructor(options: LinkOptions) {
    this.options = options;
    if (options.spool) {
      const { reports, problems } = options.spool.load();
      for (const problem of problems) options.log.error("spooled report unreadable, set aside", { path: problem.path, error: problem.message });
      for (const report of reports) this.pending.set(report.seq, report);
      if (reports.length > 0) options.log.info("reports from before a restart will be resent", { count: reports.length, spool: options.spool.dir });
    }
    this.client = this.connectClient(options.channel ?? { credentials: grpc.credentials.createInsecure() });
  }

  private connectClient(channel: LinkChannel): ServiceClient<MethodsOf<typeof AgentService>> {
    return createClient(AgentService, this.options.address, channel.credentials, { ...CHANNEL_OPTIONS, ...channel.options });
  }

  /**
   * A renewed certificate: later connections present it. The open stream is
   * cut so the collector sees the new one now; unacknowledged reports are
   * resent on the new stream, so none is lost.
   */
  replaceChannel(channel: LinkChannel): void {
    const previous = this.client;
    this.client = this.connectClient(channel);
    this.recycling = true;
    this.attempt = 0;
    this.stream?.cancel();
    previous.close();
  }

  start(): void {
    this.open();
  }

  /** Queues a report and sends it now if the stream is up. */
  send(report: Report): void {
    this.pending.set(report.seq, report);
    const dropped = this.options.spool ? this.options.spool.add(report) : this.overflow();
    for (const seq of dropped) this.pending.delete(seq);
    if (dropped.length > 0) this.options.log.warn("spool full: dropped the oldest unsent reports", { dropped: dropped.length, oldestKept: [...this.pending.keys()][0] ?? report.seq });
    if (this.welcomed) this.write(report);
  }

  /** In-memory bound when there is no spool. */
  private overflow(): bigint[] {
    const max = this.options.maxPending ?? 1000;
    const dropped: bigint[] = [];
    for (const seq of this.pending.keys()) {
      if (this.pending.size - dropped.length <= max) break;
      dropped.push(seq);
    }
    return dropped;
  }

  get connected(): boolean {
    return this.welcomed;
  }

  get unacknowledged(): number {
    return this.pending.size;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stream?.cancel();
    this.client.close();
  }

  private open(): void {
    if (this.stopped) return;
    const stream = this.client.connect();
    this.stream = stream;
    this.recycling = false;
    stream.on("data", (message: ConnectResponse) => this.receive(message));
    stream.on("error", (error: grpc.ServiceError) => {
      if (this.stream !== stream) return;
      if (!this.recycling && (error.code !== grpc.status.CANCELLED || !this.stopped)) this.warnFailure(error);
      this.reconnect(stream);
    });
    stream.on("end", () => this.reconnect(stream));
    stream.write(create(ConnectRequestSchema, { message: { case: "hello", value: { node: this.options.identity, sentAtUnixMs: BigInt(Date.now()) } } }));
  }

  /**
   * A collector that is away for hours must not fill the log: warn at the
   * first failure of an outage (with what to check), then once a minute.
   */
  private warnFailure(error: grpc.ServiceError): void {
    const now = Date.now();
    if (now - this.lastWarnMs < WARN_EVERY_MS) return;
    const first = this.lastWarnMs === 0;
    this.lastWarnMs = now;
    const unavailable = error.code === grpc.status.UNAVAILABLE;
    this.options.log.warn(first ? "cannot reach the collector" : "still cannot reach the collector", {
      collector: this.options.address,
      error: describeGrpcError(error),
      queued: this.pending.size,
      ...(unavailable && first
        ? { hint: "is `clawfleet collector serve` running there, listening on an address this host can reach (--grpc-listen <its tailnet address>:4317)? Reports are queued and sent when it answers." }
        : {}),
    });
  }

  private receive(message: ConnectResponse): void {
    switch (message.message.case) {
      case "welcome": {
        const { lastAckedSeq, fingerprintKey } = message.message.value;
        this.welcomed = true;
        this.attempt = 0;
        this.lastWarnMs = 0;
        this.options.log.info("connected to collector", { collector: this.options.address, lastAckedSeq });
        this.options.onWelcome?.(fingerprintKey, lastAckedSeq);
        this.acknowledge(lastAckedSeq);
        for (const report of [...this.pending.values()].sort((a, b) => (a.seq < b.seq ? -1 : 1))) this.write(report);
        break;
      }
      case "ack":
        this.acknowledge(message.message.value.seq);
        break;
      case "checkNow":
        this.options.onCheckNow?.(message.message.value.reason);
        break;
    }
  }

  /** The collector stores in order, so an ack covers every earlier seq too. */
  private acknowledge(seq: bigint): void {
    for (const pendingSeq of this.pending.keys()) if (pendingSeq <= seq) this.pending.delete(pendingSeq);
    this.options.spool?.acknowledge(seq);
  }

  private write(report: Report): void {
    this.stream?.write(create(ConnectRequestSchema, { message: { case: "report", value: report } }));
  }

  private reconnect(stream: grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>): void {
    if (this.stream !== stream || this.stopped) return;
    this.stream = undefined;
    this.welcomed = false;
    stream.cancel();
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 500, maxMs: 30_000 };
    // Full jitter: a collector restart must not be met by the whole fleet at once.
    const delay = Math.random() * Math.min(maxMs, initialMs * 2 ** this.attempt++);
    this.options.log.debug("reconnecting to collector", { collector: this.options.address, inMs: Math.round(delay) });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }
}
