// What one peer may cost the collector. Every limit refuses with
// RESOURCE_EXHAUSTED and a counted reason; nothing refused is stored. The
// defaults fit a fleet of hundreds of hosts behind distinct addresses; tests
// and benchmarks that simulate a whole fleet from 127.0.0.1 raise them.
import { KeyedBuckets, TokenBucket } from "../../shared/token-bucket.ts";
import { REJECT_REASONS, type RejectReason } from "./reject-reasons.ts";

export interface IngestLimits {
  /** Node ids never seen before, collector-wide: a steady rate plus a burst (a fleet's first start). */
  newNodesPerMinute: number;
  newNodesBurst: number;
  /** Hellos per peer address: reconnect storms pass, a hello flood does not. */
  hellosPerPeerBurst: number;
  hellosPerPeerPerSecond: number;
  /** Peer addresses the hello limiter remembers (least recently seen is forgotten first). */
  trackedPeers: number;
  /** Open agent streams per peer address. */
  streamsPerPeer: number;
  /** Open streams per node id: a reconnect may overlap the old stream until keepalive ends it; a third is refused. */
  streamsPerNode: number;
  /** Reports per node: the burst lets an agent replay its whole spool (1,000 reports) after an outage. */
  reportsBurst: number;
  reportsPerSecond: number;
  /** Nodes whose report budget is remembered. */
  trackedNodes: number;
  /** Log lines per rejection reason per minute; the rest are counted and summarised. */
  logLinesPerMinute: number;
}

export const DEFAULT_LIMITS: IngestLimits = {
  newNodesPerMinute: 120,
  newNodesBurst: 200,
  hellosPerPeerBurst: 30,
  hellosPerPeerPerSecond: 1,
  trackedPeers: 10_000,
  streamsPerPeer: 256,
  streamsPerNode: 2,
  reportsBurst: 1200,
  reportsPerSecond: 1,
  trackedNodes: 100_000,
  logLinesPerMinute: 10,
};

/** A refusal: which limit, and a sentence for the peer and the log. */
export interface Refusal {
  reason: RejectReason;
  message: string;
}

/** The address part of a grpc-js peer ("127.0.0.1:5000", "[::1]:5000"): limits are per host, not per port. */
export function peerAddress(peer: string): string {
  if (peer.startsWith("[")) return peer.slice(1, peer.indexOf("]"));
  const colon = peer.lastIndexOf(":");
  return colon > 0 ? peer.slice(0, colon) : peer;
}

export class IngestLimiter {
  readonly limits: IngestLimits;
  private readonly newNodes: TokenBucket;
  private readonly hellos: KeyedBuckets;
  private readonly reports: KeyedBuckets;
  /** Open streams per peer address; an entry lives only while the peer has a stream. */
  private readonly streams = new Map<string, number>();

  constructor(limits: Partial<IngestLimits> = {}, nowMs = Date.now()) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    const l = this.limits;
    this.newNodes = new TokenBucket(l.newNodesBurst, l.newNodesPerMinute / 60, nowMs);
    this.hellos = new KeyedBuckets(l.hellosPerPeerBurst, l.hellosPerPeerPerSecond, l.trackedPeers);
    this.reports = new KeyedBuckets(l.reportsBurst, l.reportsPerSecond, l.trackedNodes);
  }

  /** A stream opened; call `closeStream` once when it ends, whatever the answer. */
  openStream(address: string): Refusal | undefined {
    const open = this.streams.get(address) ?? 0;
    if (open >= this.limits.streamsPerPeer) {
      return { reason: REJECT_REASONS.streamsPerPeer, message: `too many open streams from ${address} (limit ${this.limits.streamsPerPeer})` };
    }
    this.streams.set(address, open + 1);
    return undefined;
  }

  closeStream(address: string): void {
    const open = (this.streams.get(address) ?? 0) - 1;
    if (open > 0) this.streams.set(address, open);
    else this.streams.delete(address);
  }

  /** A valid hello: may this peer say hello now, and may this node id join? */
  admitHello(address: string, nodeId: string, known: { exists: boolean; openStreams: number }, nowMs = Date.now()): Refusal | undefined {
    if (!this.hellos.take(address, nowMs)) {
      return { reason: REJECT_REASONS.helloRate, message: `too many hellos from ${address} (limit ${this.limits.hellosPerPeerBurst}, then ${this.limits.hellosPerPeerPerSecond}/s); retry later` };
    }
    if (known.openStreams >= this.limits.streamsPerNode) {
      return { reason: REJECT_REASONS.streamsPerNode, message: `node "${nodeId}" already has ${known.openStreams} open streams (limit ${this.limits.streamsPerNode})` };
    }
    if (!known.exists && !this.newNodes.take(nowMs)) {
      return { reason: REJECT_REASONS.newNodeRate, message: `too many new node ids (limit ${this.limits.newNodesPerMinute}/min); retry later` };
    }
    return undefined;
  }

  admitReport(nodeId: string, nowMs = Date.now()): Refusal | undefined {
    if (this.reports.take(nodeId, nowMs)) return undefined;
    return { reason: REJECT_REASONS.reportRate, message: `node "${nodeId}" sends reports too fast (limit ${this.limits.reportsBurst}, then ${this.limits.reportsPerSecond}/s); back off and resend` };
  }
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** `--ingest-limit` values (`streams-per-peer=2000`) as overrides; a tool that simulates a fleet from one address needs them. */
export function parseLimitOverrides(values: readonly string[]): Partial<IngestLimits> {
  const byFlagName = new Map(Object.keys(DEFAULT_LIMITS).map((key) => [kebab(key), key as keyof IngestLimits]));
  const overrides: Partial<IngestLimits> = {};
  for (const value of values) {
    const match = /^([a-z-]+)=(\d+(?:\.\d+)?)$/.exec(value);
    const key = match && byFlagName.get(match[1]!);
    if (!match || !key) throw new Error(`"${value}" is not NAME=NUMBER with NAME one of ${[...byFlagName.keys()].join(", ")}`);
    overrides[key] = Number(match[2]);
  }
  return overrides;
}

/** The limits and their defaults, for --help. */
export function describeLimits(): string {
  const lines: string[] = [""];
  for (const [key, value] of Object.entries(DEFAULT_LIMITS)) {
    const item = `${kebab(key)}=${value}`;
    if (lines.at(-1)!.length + item.length > 60) lines.push("");
    lines[lines.length - 1] += `${lines.at(-1) ? " " : ""}${item}`;
  }
  return lines.join(`\n${" ".repeat(28)}`);
}
