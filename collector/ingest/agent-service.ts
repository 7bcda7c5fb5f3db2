// AgentService.Connect: one stream per agent. Hello first, then reports; every
// stored report is acknowledged by seq. A peer that breaks the protocol gets a
// clear status naming what was wrong, and nothing it sent half-way is stored.
// What one peer may cost (streams, hellos, new node ids, reports) is bounded in
// limits.ts; a refusal is RESOURCE_EXHAUSTED, and a refused hello stores nothing.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  ConnectResponseSchema,
  type ConnectRequest,
  type ConnectResponse,
  type Hello,
} from "../../shared/gen/clawfleet/v1/agent_pb.ts";
import type { Report } from "../../shared/gen/clawfleet/v1/report_pb.ts";
import { fromWireFinding, InvalidFinding, MAX_SEQ, SEQ_WINDOW, WIRE_LIMITS } from "../../shared/report-codec.ts";
import { UNDECODABLE, type UndecodableMessage } from "../../shared/grpc-adapter.ts";
import type { Verdict } from "../../shared/finding.ts";
import type { Logger } from "../../shared/log.ts";
import { NODE_ID_PATTERN } from "../../shared/node-id.ts";
import type { Fleet } from "../state/fleet.ts";
import { isLeaseLost, LeaseHeld } from "../state/lease-errors.ts";
import { TRY_ELSEWHERE_REASONS, tryElsewhereStatus, type TryElsewhereReason } from "../../shared/try-elsewhere.ts";
import type { StoredReport } from "../state/store.ts";
import type { CollectorMetrics } from "../metrics/collector-metrics.ts";
import { refusalStatus, type PeerAuth, type PeerIdentity } from "../pki/peer-auth.ts";
import { IngestLimiter, peerAddress, type IngestLimits, type Refusal } from "./limits.ts";
import { REJECT_REASONS, type RejectReason } from "./reject-reasons.ts";
import { throttledWarn, type ThrottledWarn } from "./throttled-log.ts";
import { checkTimestamp } from "./timestamps.ts";
import { TurnBudget } from "./turn-budget.ts";
import { TokenBucket } from "../../shared/token-bucket.ts";

const HELLO_TIMEOUT_MS = 10_000;
/** A last report older than this is refreshed at once when its node reconnects. */
const STALE_AFTER_MS = 10_000;
const VERDICTS: readonly string[] = ["ok", "warn", "fail", "unknown"];
/** Ingest work per event-loop turn before streams yield (turn-budget.ts): keeps /healthz prompt under a flood. */
const TURN_BUDGET_MS = 5;
/** What an ordinary agent sends per stream: a hello, a report per interval (30 s by default), a change now and then. */
const AGENT_PACE = { burst: 5, perSecond: 1 };

type Stream = grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>;

export interface IngestDeps {
  fleet: Fleet;
  fingerprintKey: Uint8Array;
  metrics: CollectorMetrics;
  log: Logger;
  /** Certificate checks; with --insecure everyone is anyone. */
  auth: PeerAuth;
  /** Overrides of DEFAULT_LIMITS (limits.ts). */
  limits?: Partial<IngestLimits>;
}

export class ProtocolViolation extends Error {
  readonly reason: RejectReason;
  /** INVALID_ARGUMENT for bad input, RESOURCE_EXHAUSTED for a limit. */
  readonly code: grpc.status;

  /** Set when another collector of the fleet should take the stream: the agent moves on at once (shared/try-elsewhere.ts). */
  readonly tryElsewhere?: TryElsewhereReason;

  constructor(reason: RejectReason, message: string, code: grpc.status = grpc.status.INVALID_ARGUMENT, tryElsewhere?: TryElsewhereReason) {
    super(message);
    this.reason = reason;
    this.code = code;
    this.tryElsewhere = tryElsewhere;
  }

  static limit(refusal: Refusal): ProtocolViolation {
    return new ProtocolViolation(refusal.reason, refusal.message, grpc.status.RESOURCE_EXHAUSTED);
  }
}

/** What a refused stream is told: a ProtocolViolation, or a limit's refusal (no Error built: a flood of them must stay cheap). */
type Rejection = Pick<ProtocolViolation, "reason" | "message" | "code" | "tryElsewhere">;

/** Counts, logs (throttled) and ends the stream with the rejection's status. */
function reject(stream: Stream, ctx: IngestContext, rejection: Rejection, nodeId: string | undefined): void {
  ctx.metrics.rejected.inc({ reason: rejection.reason });
  ctx.warn(rejection.reason, "rejected agent stream", { reason: rejection.reason, node: nodeId ?? "?", peer: stream.getPeer(), error: rejection.message });
  stream.emit("error", rejection.tryElsewhere ? tryElsewhereStatus(rejection.tryElsewhere, rejection.message) : ({ code: rejection.code, details: rejection.message } as grpc.ServiceError));
}

/** What every stream of one collector shares: the limiter and the throttled rejection log. */
interface IngestContext extends IngestDeps {
  limiter: IngestLimiter;
  warn: ThrottledWarn;
  budget: TurnBudget;
}

let nextStreamId = 1;

export function handleConnect(deps: IngestDeps) {
  const limiter = new IngestLimiter(deps.limits);
  const ctx: IngestContext = { ...deps, limiter, warn: throttledWarn(deps.log, limiter.limits.logLinesPerMinute), budget: new TurnBudget(TURN_BUDGET_MS) };
  return (stream: Stream): void => {
    const address = peerAddress(stream.getPeer());
    // Authenticate before anything is read or counted: an unauthenticated stream creates nothing.
    const authenticated = deps.auth.authenticate(stream, ["node"]);
    if (!authenticated.ok) {
      const status = refusalStatus(authenticated.reason, authenticated.detail);
      reject(stream, ctx, { reason: authenticated.reason, message: status.details, code: status.code }, undefined);
      return;
    }
    // Before anything is read: a peer over its stream budget costs one refusal.
    const refused = limiter.openStream(address);
    if (refused) {
      // Answered within the turn budget too: thousands of streams can arrive in one socket read.
      const answer = () => reject(stream, ctx, { ...refused, code: grpc.status.RESOURCE_EXHAUSTED }, undefined);
      if (ctx.budget.proceed(answer, false)) answer();
      return;
    }
    const streamId = nextStreamId++;
    const identity = authenticated.identity;
    let untrack = () => {};
    let nodeId: string | undefined;
    let closed = false;
    deps.metrics.streams.inc();

    const close = () => {
      if (closed) return;
      closed = true;
      clearTimeout(helloTimer);
      untrack();
      deps.metrics.streams.dec();
      limiter.closeStream(address);
      if (nodeId) {
        deps.fleet.disconnect(nodeId, streamId, Date.now());
        deps.log.info("agent disconnected", { node: nodeId });
      }
    };
    // Set at a refusal: nothing more is read, but reports taken before it are still acknowledged.
    let ending = false;
    const fail = (error: Rejection) => {
      if (ending) return;
      ending = true;
      // The acks of reports already taken wait for their group commit; the refusal goes after them.
      deps.fleet.whenDurable(() => {
        if (closed) return;
        reject(stream, ctx, error, nodeId);
        stream.end();
        close();
      });
    };
    const helloTimer = setTimeout(() => fail(new ProtocolViolation(REJECT_REASONS.noHello, `no hello within ${HELLO_TIMEOUT_MS} ms`)), HELLO_TIMEOUT_MS);

    stream.on(UNDECODABLE, (message: UndecodableMessage) => {
      if (!closed && !ending) fail(new ProtocolViolation(REJECT_REASONS.undecodable, `undecodable message (${message.error.slice(0, 200)})`));
    });
    // Messages at an agent's pace (a report per interval, a spool replay's first few) go
    // before a flood's when the collector is saturated.
    const pace = new TokenBucket(AGENT_PACE.burst, AGENT_PACE.perSecond, Date.now());
    stream.on("data", (message: ConnectRequest) => {
      if (closed || ending) return;
      const later = () => {
        handle(message);
        if (!closed) stream.resume();
      };
      if (ctx.budget.proceed(later, pace.take(Date.now()))) handle(message);
      else stream.pause();
    });
    // On a shared store the hello's answer is a round trip away (the node's lease): what follows it waits.
    let helloPending: Promise<void> | undefined;
    const welcomed = (id: string) => {
      nodeId = id;
      if (identity) {
        untrack = deps.auth.track(identity, (reason) => {
          deps.log.warn("ending agent stream", { node: nodeId ?? "?", reason });
          stream.emit("error", refusalStatus(reason));
          close();
        });
      }
    };
    // Another collector took the node (its lease lapsed here): the agent reconnects, and finds the holder.
    const leaseLost = () => {
      if (closed) return;
      deps.log.warn("ending agent stream: this collector lost the node's lease", { node: nodeId ?? "?" });
      stream.emit("error", tryElsewhereStatus(TRY_ELSEWHERE_REASONS.nodeHeld, `this collector no longer holds node ${nodeId ?? "?"}'s lease; reconnect`));
      close();
    };
    const handle = (message: ConnectRequest) => {
      if (closed || ending) return;
      if (helloPending) {
        void helloPending.then(() => handle(message));
        return;
      }
      try {
        if (message.message.case === "hello") {
          if (nodeId) throw new ProtocolViolation(REJECT_REASONS.duplicateHello, "hello sent twice on one stream");
          clearTimeout(helloTimer);
          const accepted = acceptHello(message.message.value, stream, streamId, ctx, identity, leaseLost);
          if (typeof accepted === "string") welcomed(accepted);
          else {
            helloPending = accepted.then(
              (id) => {
                helloPending = undefined;
                // Closed while the lease was taken: let it go again.
                if (closed) deps.fleet.disconnect(id, streamId, Date.now());
                else welcomed(id);
              },
              (error: Error) => {
                helloPending = undefined;
                if (error instanceof LeaseHeld) fail(new ProtocolViolation(REJECT_REASONS.leaseHeld, error.message, grpc.status.UNAVAILABLE, TRY_ELSEWHERE_REASONS.nodeHeld));
                else storeFailed(error);
              },
            );
          }
        } else if (message.message.case === "report") {
          if (!nodeId) throw new ProtocolViolation(REJECT_REASONS.reportBeforeHello, "report sent before hello");
          acceptReport(nodeId, message.message.value, stream, ctx, storeFailed);
        } else {
          throw new ProtocolViolation(REJECT_REASONS.emptyMessage, "message has neither hello nor report");
        }
      } catch (error) {
        if (error instanceof ProtocolViolation) fail(error);
        else storeFailed(error as Error);
      }
    };
    // Valid input the collector could not store (disk full, I/O error, a locked database, a failed
    // group commit): nothing is acknowledged, so the agent keeps its reports and resends them.
    const storeFailed = (error: Error) => {
      if (closed) return;
      if (isLeaseLost(error)) return leaseLost();
      deps.metrics.storeErrors.inc();
      deps.log.error("ingest failed", { node: nodeId ?? "?", error: error.message });
      stream.emit("error", { code: grpc.status.INTERNAL, details: "collector could not store the report" } as grpc.ServiceError);
      close();
    };
    // `cancelled` is how grpc-js reports a dead peer (keepalive) or a reset.
    stream.on("cancelled", close);
    stream.on("error", close);
    stream.on("end", () => {
      // The agent is done sending: answer what it sent (acks wait for their group commit), then end.
      deps.fleet.whenDurable(() => {
        stream.end();
        close();
      });
    });
  };
}

/**
 * Validate, admit (limits), then connect and welcome: nothing refused leaves a node, an event or a silence behind.
 * On a shared store the node id comes once the node's lease is taken (LeaseHeld when another collector holds it).
 */
function acceptHello(hello: Hello, stream: Stream, streamId: number, deps: IngestContext, identity: PeerIdentity | undefined, onLeaseLost: () => void): string | Promise<string> {
  const node = hello.node;
  if (!node || !NODE_ID_PATTERN.test(node.nodeId)) {
    throw new ProtocolViolation(REJECT_REASONS.invalidNodeId, `hello.node.node_id must match ${NODE_ID_PATTERN} (got "${(node?.nodeId ?? "").slice(0, 70)}")`);
  }
  // The certificate is the identity: a node may speak only for itself.
  if (identity && node.nodeId !== identity.name) {
    throw new ProtocolViolation(REJECT_REASONS.identityMismatch, `hello.node.node_id "${node.nodeId}" is not this certificate's node "${identity.name}"`, grpc.status.PERMISSION_DENIED);
  }
  for (const [field, value] of [["hostname", node.hostname], ["platform", node.platform], ["agent_version", node.agentVersion], ["openclaw_version", node.openclawVersion]] as const) {
    if (value.length > 255) throw new ProtocolViolation(REJECT_REASONS.invalidHello, `hello.node.${field} is longer than 255 characters`);
  }
  validTimestamp("hello.sent_at_unix_ms", hello.sentAtUnixMs);
  const known = deps.fleet.get(node.nodeId);
  const refused = deps.limiter.admitHello(peerAddress(stream.getPeer()), node.nodeId, { exists: known !== undefined, openStreams: known?.streams.size ?? 0 });
  if (refused) throw ProtocolViolation.limit(refused);
  const lastSeq = deps.fleet.connect(
    { nodeId: node.nodeId, hostname: node.hostname, platform: node.platform, agentVersion: node.agentVersion, openclawVersion: node.openclawVersion, simulated: node.simulated },
    streamId,
    stream.getPeer(),
    Number(hello.sentAtUnixMs),
    Date.now(),
    onLeaseLost,
  );
  return typeof lastSeq === "bigint" ? welcome(node, lastSeq, stream, deps) : lastSeq.then((seq) => welcome(node, seq, stream, deps));
}

function welcome(node: NonNullable<Hello["node"]>, lastSeq: bigint, stream: Stream, deps: IngestContext): string {
  stream.write(create(ConnectResponseSchema, { message: { case: "welcome", value: { lastAckedSeq: lastSeq, fingerprintKey: deps.fingerprintKey } } }));
  // A node back from a silence would otherwise show its pre-silence report until its next
  // interval: ask for a fresh one now.
  const current = deps.fleet.get(node.nodeId)?.current;
  if (current && Date.now() - current.receivedAtMs > STALE_AFTER_MS) {
    stream.write(create(ConnectResponseSchema, { message: { case: "checkNow", value: { reason: "reconnected after a silence" } } }));
  }
  deps.log.info("agent connected", { node: node.nodeId, agent: node.agentVersion, peer: stream.getPeer(), lastSeq });
  return node.nodeId;
}

function acceptReport(nodeId: string, report: Report, stream: Stream, deps: IngestContext, onStoreError: (error: Error) => void): void {
  const refused = deps.limiter.admitReport(nodeId);
  if (refused) throw ProtocolViolation.limit(refused);
  if (report.seq === 0n) throw new ProtocolViolation(REJECT_REASONS.invalidReport, "report.seq must be 1 or more");
  if (report.seq > MAX_SEQ) throw new ProtocolViolation(REJECT_REASONS.invalidReport, `report.seq must be at most ${MAX_SEQ}`);
  // A seq far ahead would be adopted as the node's last and shadow every real report after it.
  const lastAcked = deps.fleet.get(nodeId)?.lastSeq ?? 0n;
  if (report.seq > lastAcked + SEQ_WINDOW) {
    throw new ProtocolViolation(REJECT_REASONS.seqOutOfWindow, `report.seq ${report.seq} is more than ${SEQ_WINDOW} above the last acknowledged ${lastAcked}; renumber from the welcome's last_acked_seq`);
  }
  if (!VERDICTS.includes(report.verdict)) throw new ProtocolViolation(REJECT_REASONS.invalidReport, `report.verdict: unknown verdict "${report.verdict.slice(0, 40)}"`);
  if (report.findings.length > WIRE_LIMITS.findings) throw new ProtocolViolation(REJECT_REASONS.invalidReport, `report.findings: more than ${WIRE_LIMITS.findings}`);
  if (report.primaryIndex < -1 || report.primaryIndex >= report.findings.length) throw new ProtocolViolation(REJECT_REASONS.invalidReport, "report.primary_index is out of range");
  validTimestamp("report.observed_at_unix_ms", report.observedAtUnixMs);
  validTimestamp("report.last_wake_unix_ms", report.lastWakeUnixMs);
  validTimestamp("report.last_sleep_unix_ms", report.lastSleepUnixMs);
  let findings;
  try {
    findings = report.findings.map(fromWireFinding);
  } catch (error) {
    if (error instanceof InvalidFinding) throw new ProtocolViolation(REJECT_REASONS.invalidReport, `report ${report.seq}: ${error.message}`);
    throw error;
  }
  const stored: StoredReport = {
    nodeId,
    seq: report.seq,
    observedAtMs: Number(report.observedAtUnixMs),
    receivedAtMs: Date.now(),
    verdict: report.verdict as Verdict,
    primaryIndex: report.primaryIndex,
    findings,
    durationMs: report.durationMs,
    maySleep: report.maySleep,
    lastWakeMs: Number(report.lastWakeUnixMs),
    lastSleepMs: Number(report.lastSleepUnixMs),
    openclawVersion: report.openclawVersion.slice(0, 64),
    credentials: report.credentials.slice(0, WIRE_LIMITS.credentials).map((c, i) => validCredential(c, i, report.seq)),
  };
  const started = performance.now();
  const outcome = deps.fleet.record(stored);
  const ack = (outcome: "stored" | "stored_old" | "duplicate") => {
    deps.metrics.storeWriteSeconds.observe((performance.now() - started) / 1000);
    deps.metrics.reports.inc({ outcome: outcome === "stored_old" ? "stored" : outcome });
    // Duplicates are acknowledged too: the agent must stop resending them.
    stream.write(create(ConnectResponseSchema, { message: { case: "ack", value: { seq: report.seq } } }));
  };
  // A shared store's write settles with its commit: the ack follows it.
  if (typeof outcome !== "string") return void outcome.then(ack, onStoreError);
  // Acknowledged means durable: the ack waits for the group commit that holds the report.
  deps.fleet.store.whenDurable((error) => {
    if (error) return onStoreError(error);
    ack(outcome);
  });
}

const CREDENTIAL_KINDS = new Set(["gateway_token", "provider_key"]);

function validCredential(c: Report["credentials"][number], index: number, seq: bigint) {
  const where = `report ${seq}: credentials[${index}]`;
  if (!CREDENTIAL_KINDS.has(c.kind)) throw new ProtocolViolation(REJECT_REASONS.invalidReport, `${where}.kind: unknown kind "${c.kind.slice(0, 40)}"`);
  // Only fingerprints may cross the wire: anything else could be a secret.
  if (!/^hmac:[0-9a-f]{16,64}$/.test(c.fingerprint)) throw new ProtocolViolation(REJECT_REASONS.invalidReport, `${where}.fingerprint: not a keyed fingerprint (expected hmac:<hex>)`);
  if (c.source.length > 200 || c.subject.length > 200) throw new ProtocolViolation(REJECT_REASONS.invalidReport, `${where}: source or subject longer than 200 characters`);
  return { kind: c.kind, source: c.source, fingerprint: c.fingerprint, subject: c.subject };
}

function validTimestamp(field: string, unixMs: bigint): void {
  const problem = checkTimestamp(unixMs);
  if (problem) throw new ProtocolViolation(REJECT_REASONS.invalidTimestamp, `${field}: ${problem}`);
}
