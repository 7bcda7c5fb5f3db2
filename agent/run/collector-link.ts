// The agent's side of AgentService.Connect: keeps one stream open to one of the
// fleet's collectors (collector-choice.ts says which, and when after a
// failure), reconnects with jittered exponential backoff per collector, and
// resends every report no collector has acknowledged, in seq order. A report
// one collector acknowledged has left the spool, so it never goes to another.
// What the collector says is judged, not obeyed: an ack for a report never
// sent, a poisoned sequence and a flood of CheckNow are each bounded here (a
// collector reachable from other hosts may not be the real one).
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { AgentService, ConnectRequestSchema, type ConnectRequest, type ConnectResponse } from "../../shared/gen/clawfleet/v1/agent_pb.ts";
import type { NodeIdentity, Report } from "../../shared/gen/clawfleet/v1/report_pb.ts";
import { createClient, type MethodsOf, type ServiceClient } from "../../shared/grpc-adapter.ts";
import type { Logger } from "../../shared/log.ts";
import { describeGrpcError } from "../../shared/grpc-errors.ts";
import type { SequenceFile } from "./sequence-file.ts";
import type { Spool } from "./spool.ts";
import { TokenBucket } from "../../shared/token-bucket.ts";
import { judgeWelcome } from "./welcome-seq.ts";
import { CollectorChoice, CollectorDirectory } from "./collector-choice.ts";
import { tryElsewhereReason } from "../../shared/try-elsewhere.ts";


const WARN_EVERY_MS = 60_000;
/** CheckNow runs allowed: a burst of 3, then one per 10 s (the loop debounces further). */
export const CHECK_NOW_LIMIT = { burst: 3, refillMs: 10_000 } as const;
/**
 * Unsolicited messages (CheckNow, acks for nothing sent, repeated welcomes) a
 * stream may carry: about 100 in 10 s. Beyond that the collector is flooding,
 * and reading its stream alone would cost this host a core.
 */
export const FLOOD_LIMIT = { burst: 100, refillMs: 100 } as const;
/**
 * A flooded stream stops being read at once but is closed gently: reports
 * just written (the resend after its welcome) still reach the collector.
 */
const FLOOD_GRACE_MS = 1000;
/**
 * With several collectors, one that takes the connection but sends no welcome
 * in this time (an unreachable host, a hung process) is left for the next.
 * Alone, the agent keeps waiting: there is nowhere else to go, and cancelling
 * a slow hello only puts it back in the collector's queue.
 */
export const WELCOME_TIMEOUT_MS = 10_000;

/** What the link needs of a node's report numbering: the agent's is a file (sequence-file.ts), the simulator's is in memory. */
export type ReportSequence = Pick<SequenceFile, "current" | "awaitingCollector" | "restartAt">;

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
  /** One collector; or `collectors`, the fleet's (a list or an SRV name). */
  address?: string;
  collectors?: CollectorDirectory;
  /** Default: plaintext (only a collector started with --insecure accepts it). */
  channel?: LinkChannel;
  identity: NodeIdentity;
  log: Logger;
  /** This node's report numbering, which the collector's welcome may adjust. */
  sequence: ReportSequence;
  onWelcome?(fingerprintKey: Uint8Array): void;
  onCheckNow?(reason: string): void;
  /** Where unacknowledged reports survive a restart; without it they are kept in memory only. */
  spool?: Spool;
  /** Most reports kept in memory while the collector is away (no spool); the oldest go first. */
  maxPending?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Default WELCOME_TIMEOUT_MS (tests shorten it). */
  welcomeTimeoutMs?: number;
}

export class CollectorLink {
  /** A client to the collector tried last; another collector gets a fresh one (the old connection is closed). */
  private client?: { address: string; service: ServiceClient<MethodsOf<typeof AgentService>> };
  private channel: LinkChannel;
  private readonly choice: CollectorChoice;
  /** The collector of the open (or last) stream. */
  private address = "";
  private stream?: grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>;
  private welcomed = false;
  private readonly pending = new Map<bigint, Report>();
  private retryTimer?: NodeJS.Timeout;
  private welcomeTimer?: NodeJS.Timeout;
  /** The last stream was welcomed: the next connect elsewhere is a move worth a log line. */
  private leftWorking = false;
  private stopped = false;
  /** The stream is being cut on purpose (new certificate): not an outage to warn about. */
  private recycling = false;
  private lastWarnMs = 0;
  private readonly options: LinkOptions;
  private readonly checkNow = new TokenBucket(CHECK_NOW_LIMIT.burst, 1000 / CHECK_NOW_LIMIT.refillMs, Date.now());
  private flood = new TokenBucket(FLOOD_LIMIT.burst, 1000 / FLOOD_LIMIT.refillMs, Date.now());
  private floodDrops = 0;
  /** When each rate-limited complaint was last logged. */
  private readonly complainedMs = new Map<string, number>();
  private spoolFailing = false;

  constructor(options: LinkOptions) {
    this.options = options;
    if (options.spool) {
      const { reports, problems } = loadSpool(options.spool, options.log);
      for (const problem of problems) options.log.error("spooled report unreadable, set aside", { path: problem.path, error: problem.message });
      for (const report of reports) this.pending.set(report.seq, report);
      if (reports.length > 0) options.log.info("reports from before a restart will be resent", { count: reports.length, spool: options.spool.dir });
    }
    this.channel = options.channel ?? { credentials: grpc.credentials.createInsecure() };
    const directory = options.collectors ?? CollectorDirectory.single(options.address ?? "");
    this.choice = new CollectorChoice(directory, options.identity.nodeId, options.backoff);
  }

  private clientFor(address: string): ServiceClient<MethodsOf<typeof AgentService>> {
    if (this.client?.address === address) return this.client.service;
    this.client?.service.close();
    const service = createClient(AgentService, address, this.channel.credentials, { ...CHANNEL_OPTIONS, ...this.channel.options });
    this.client = { address, service };
    return service;
  }

  /**
   * A renewed certificate: later connections present it. The open stream is
   * cut so the collector sees the new one now; unacknowledged reports are
   * resent on the new stream, so none is lost.
   */
  replaceChannel(channel: LinkChannel): void {
    const previous = this.client;
    this.channel = channel;
    this.client = undefined;
    this.recycling = true;
    this.stream?.cancel();
    previous?.service.close();
  }

  start(): void {
    this.open();
  }

  /** Queues a report and sends it now if the stream is up. */
  send(report: Report): void {
    this.pending.set(report.seq, report);
    const dropped = this.spoolOrKeep(report);
    for (const seq of dropped) this.pending.delete(seq);
    if (dropped.length > 0) this.options.log.warn("spool full: dropped the oldest unsent reports", { dropped: dropped.length, oldestKept: [...this.pending.keys()][0] ?? report.seq });
    if (this.welcomed) this.write(report);
  }

  /**
   * A spool that cannot take the report (disk full, read-only) costs its
   * durability, never the report: it stays in memory, bounded, and is sent.
   */
  private spoolOrKeep(report: Report): bigint[] {
    const spool = this.options.spool;
    if (!spool) return this.overflow();
    try {
      const dropped = spool.add(report);
      if (this.spoolFailing) this.options.log.info("spool writable again", { spool: spool.dir });
      this.spoolFailing = false;
      return dropped;
    } catch (error) {
      if (!this.spoolFailing) {
        this.options.log.error("cannot write the spool: unsent reports are kept in memory only until it can", { spool: spool.dir, error: (error as Error).message });
      }
      this.spoolFailing = true;
      return this.overflow();
    }
  }

  /** In-memory bound when there is no spool, or it fails. */
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

  /** The collector this link reports to now (undefined between streams). */
  get collector(): string | undefined {
    return this.welcomed ? this.address : undefined;
  }

  /** Collectors in this node's order, the one it reports to first (where a renewal should go). */
  get collectors(): string[] {
    const current = this.collector;
    return current ? [current, ...this.choice.preference.filter((a) => a !== current)] : [...this.choice.preference];
  }

  get unacknowledged(): number {
    return this.pending.size;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.welcomeTimer);
    this.stream?.cancel();
    this.client?.service.close();
  }

  /** Asks which collector is next and connects to it, now or once its backoff is over. */
  private open(): void {
    if (this.stopped) return;
    void this.choice.next().then((pick) => {
      if (this.stopped || this.stream) return;
      if ("problem" in pick) {
        this.complain("no-collector", "no collector to connect to yet", { collector: this.choice.directory.spec.text, error: pick.problem, retryInMs: Math.round(pick.inMs), queued: this.pending.size });
        this.retryTimer = setTimeout(() => this.open(), pick.inMs);
      } else if (pick.inMs > 0) {
        this.options.log.debug("reconnecting to collector", { collector: pick.address, inMs: Math.round(pick.inMs) });
        this.retryTimer = setTimeout(() => this.open(), Math.ceil(pick.inMs));
      } else this.connect(pick.address);
    });
  }

  private connect(address: string): void {
    // Said once per move away from a working collector, not at every try of an outage.
    if (address !== this.address && this.address !== "") this.options.log[this.leftWorking ? "info" : "debug"]("trying another collector", { collector: address, previous: this.address, queued: this.pending.size });
    this.leftWorking = false;
    this.address = address;
    const stream = this.clientFor(address).connect();
    this.stream = stream;
    this.recycling = false;
    this.flood = new TokenBucket(FLOOD_LIMIT.burst, 1000 / FLOOD_LIMIT.refillMs, Date.now());
    stream.on("data", (message: ConnectResponse) => {
      if (this.stream !== stream) return;
      try {
        this.receive(message, stream);
      } catch (error) {
        // A state file that cannot be written (disk full) must not take the agent down from a stream event.
        this.complain("receive-failed", "cannot act on the collector's message", { collector: this.address, message: message.message.case, error: (error as Error).message });
      }
    });
    stream.on("error", (error: grpc.ServiceError) => {
      if (this.stream !== stream) return;
      const elsewhere = tryElsewhereReason(error);
      if (elsewhere !== undefined) {
        this.options.log.info("collector sends this node to another collector", { collector: this.address, reason: elsewhere, details: (error.details ?? "").slice(0, 200) });
      } else if (!this.recycling && (error.code !== grpc.status.CANCELLED || !this.stopped)) this.warnFailure(error);
      this.reconnect(stream, undefined, 0, elsewhere !== undefined);
    });
    stream.on("end", () => this.reconnect(stream));
    clearTimeout(this.welcomeTimer);
    if (this.choice.directory.several) {
      const waitMs = this.options.welcomeTimeoutMs ?? WELCOME_TIMEOUT_MS;
      this.welcomeTimer = setTimeout(() => {
        if (this.stream !== stream || this.welcomed) return;
        this.options.log.warn("collector sent no welcome: trying the next", { collector: address, waitedMs: waitMs });
        this.reconnect(stream);
      }, waitMs);
      this.welcomeTimer.unref();
    }
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
      collector: this.address,
      error: describeGrpcError(error),
      queued: this.pending.size,
      ...(unavailable && first
        ? { hint: "is `clawfleet collector serve` running there, listening on an address this host can reach (--grpc-listen <its tailnet address>:4317)? Reports are queued and sent when it answers." }
        : {}),
    });
  }

  private receive(message: ConnectResponse, stream: grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>): void {
    switch (message.message.case) {
      case "welcome": {
        if (this.welcomed) {
          this.unsolicited(stream, "collector sent a second welcome on one stream: ignored");
          break;
        }
        const { lastAckedSeq, fingerprintKey } = message.message.value;
        this.welcomed = true;
        clearTimeout(this.welcomeTimer);
        this.choice.connected(this.address);
        this.lastWarnMs = 0;
        this.options.log.info("connected to collector", { collector: this.address, lastAckedSeq, unacked: this.pending.size });
        this.adoptWelcomeSeq(lastAckedSeq);
        this.options.onWelcome?.(fingerprintKey);
        for (const report of this.sortedPending()) this.write(report);
        break;
      }
      case "ack": {
        const { seq } = message.message.value;
        // Acks cover every earlier seq: one for a report never sent would drop real ones.
        if (!this.welcomed || seq > this.options.sequence.current) {
          this.unsolicited(stream, "collector acknowledged a report this agent never sent: ignored", { seq });
          break;
        }
        this.acknowledge(seq);
        break;
      }
      case "checkNow":
        if (this.unsolicited(stream)) break;
        if (this.checkNow.take(Date.now())) this.options.onCheckNow?.(message.message.value.reason);
        break;
    }
  }

  /**
   * Welcome.last_acked_seq is where this node's numbering stands at the
   * collector, unless it is absurd (poison) or far below the agent's own
   * (the collector's store was reset): then the agent renumbers.
   */
  private adoptWelcomeSeq(lastAckedSeq: bigint): void {
    const { sequence, log } = this.options;
    const pending = this.sortedPending();
    const ownSeq = pending.reduce((max, r) => (r.seq > max ? r.seq : max), sequence.current);
    const judged = judgeWelcome(lastAckedSeq, ownSeq);
    if (judged.kind === "absurd") {
      this.complain("absurd-welcome", "collector's last acknowledged seq is beyond any real sequence: not adopted", { collector: this.address, lastAckedSeq });
      if (sequence.awaitingCollector || ownSeq !== sequence.current) sequence.restartAt(ownSeq);
      return;
    }
    if (judged.kind === "continue") {
      this.acknowledge(lastAckedSeq);
      if (judged.at !== sequence.current || sequence.awaitingCollector) sequence.restartAt(judged.at);
      return;
    }
    this.acknowledge(lastAckedSeq);
    let next = judged.from;
    let spoolError: Error | undefined;
    for (const report of pending.filter((r) => r.seq > lastAckedSeq)) {
      const oldSeq = report.seq;
      this.pending.delete(oldSeq);
      report.seq = next++;
      this.pending.set(report.seq, report);
      try {
        this.options.spool?.renumber(oldSeq, report);
      } catch (error) {
        spoolError ??= error as Error;
      }
    }
    if (spoolError) log.error("cannot renumber spooled reports: they are kept in memory", { error: spoolError.message });
    sequence.restartAt(next - 1n);
    log.warn("collector holds far fewer reports than this agent counted (its store was reset, or the agent's sequence was wrong): renumbering unsent reports from its last acknowledged seq", {
      collector: this.address,
      lastAckedSeq,
      agentSeq: ownSeq,
      renumbered: this.pending.size,
      nextSeq: next,
    });
  }

  private sortedPending(): Report[] {
    return [...this.pending.values()].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  }

  /**
   * Counts a message the agent did not ask for; past the flood limit the
   * stream is dropped and the next connect waits longer. Returns true when
   * the stream was dropped.
   */
  private unsolicited(stream: grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>, complaint?: string, fields: Record<string, unknown> = {}): boolean {
    if (complaint) this.complain(complaint, complaint, { collector: this.address, ...fields });
    if (this.flood.take(Date.now())) return false;
    const delayMs = this.floodBackoffMs();
    this.complain("flood", "collector is flooding this agent with messages: dropping the stream and reconnecting later", {
      collector: this.address,
      limit: `${FLOOD_LIMIT.burst} per ${(FLOOD_LIMIT.burst * FLOOD_LIMIT.refillMs) / 1000}s`,
      reconnectInMs: Math.round(delayMs),
    });
    this.reconnect(stream, delayMs, FLOOD_GRACE_MS);
    return true;
  }

  /** Doubles with every flood, so a collector that keeps flooding gets ever less of this host. */
  private floodBackoffMs(): number {
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 500, maxMs: 30_000 };
    const ceiling = Math.min(maxMs, initialMs * 2 ** ++this.floodDrops);
    return ceiling / 2 + (Math.random() * ceiling) / 2;
  }

  /** One log line per kind of complaint a minute: a hostile collector must not fill the log either. */
  private complain(kind: string, message: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - (this.complainedMs.get(kind) ?? -Infinity) < WARN_EVERY_MS) return;
    this.complainedMs.set(kind, now);
    this.options.log.warn(message, fields);
  }

  /** The collector stores in order, so an ack covers every earlier seq too. */
  private acknowledge(seq: bigint): void {
    for (const pendingSeq of this.pending.keys()) if (pendingSeq <= seq) this.pending.delete(pendingSeq);
    this.options.spool?.acknowledge(seq);
  }

  private write(report: Report): void {
    this.stream?.write(create(ConnectRequestSchema, { message: { case: "report", value: report } }));
  }

  private reconnect(stream: grpc.ClientDuplexStream<ConnectRequest, ConnectResponse>, delayMs?: number, graceMs = 0, sentElsewhere = false): void {
    if (this.stream !== stream || this.stopped) return;
    this.stream = undefined;
    this.leftWorking ||= this.welcomed;
    this.welcomed = false;
    clearTimeout(this.welcomeTimer);
    if (graceMs > 0) {
      // Not reading applies HTTP/2 flow control: the peer cannot push more at us.
      stream.pause();
      stream.end();
      setTimeout(() => stream.cancel(), graceMs).unref();
    } else stream.cancel();
    // A new certificate is no failure of the collector: reconnect at once, in the node's order.
    if (!this.recycling) this.choice.failed(this.address, { atLeastMs: delayMs, sentElsewhere });
    this.open();
  }
}

/** A spool that cannot even be listed is reported, and the agent starts without its old reports. */
function loadSpool(spool: Spool, log: Logger): ReturnType<Spool["load"]> {
  try {
    return spool.load();
  } catch (error) {
    log.error("cannot read the spool: reports from before a restart are not resent", { spool: spool.dir, error: (error as Error).message });
    return { reports: [], problems: [] };
  }
}
