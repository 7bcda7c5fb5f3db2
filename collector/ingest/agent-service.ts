// AgentService.Connect: one stream per agent. Hello first, then reports; every
// stored report is acknowledged by seq. A peer that breaks the protocol gets a
// clear status naming what was wrong, and nothing it sent half-way is stored.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  ConnectResponseSchema,
  type ConnectRequest,
  type ConnectResponse,
  type Hello,
} from "../../shared/gen/clawfleet/v1/agent_pb.ts";
import type { Report } from "../../shared/gen/clawfleet/v1/report_pb.ts";
import { fromWireFinding, InvalidFinding, WIRE_LIMITS } from "../../shared/report-codec.ts";
import type { Verdict } from "../../shared/finding.ts";
import type { Logger } from "../../shared/log.ts";
import { NODE_ID_PATTERN } from "../../shared/node-id.ts";
import type { Fleet } from "../state/fleet.ts";
import type { StoredReport } from "../state/store.ts";
import type { CollectorMetrics } from "../metrics/collector-metrics.ts";
import { refusalStatus, type PeerAuth, type PeerIdentity } from "../pki/peer-auth.ts";

const HELLO_TIMEOUT_MS = 10_000;
/** A last report older than this is refreshed at once when its node reconnects. */
const STALE_AFTER_MS = 10_000;
const VERDICTS: readonly string[] = ["ok", "warn", "fail", "unknown"];

type Stream = grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>;

export interface IngestDeps {
  fleet: Fleet;
  fingerprintKey: Uint8Array;
  metrics: CollectorMetrics;
  log: Logger;
  /** Certificate checks; with --insecure everyone is anyone. */
  auth: PeerAuth;
}

export class ProtocolViolation extends Error {
  readonly reason: string;
  readonly code: grpc.status;

  constructor(reason: string, message: string, code: grpc.status = grpc.status.INVALID_ARGUMENT) {
    super(message);
    this.reason = reason;
    this.code = code;
  }
}

let nextStreamId = 1;

export function handleConnect(deps: IngestDeps) {
  return (stream: Stream): void => {
    const streamId = nextStreamId++;
    // Authenticate before anything is read: an unauthenticated stream creates nothing.
    const authenticated = deps.auth.authenticate(stream, ["node"]);
    if (!authenticated.ok) {
      deps.metrics.rejected.inc({ reason: authenticated.reason });
      deps.log.warn("refused agent stream", { peer: stream.getPeer(), reason: authenticated.reason, detail: authenticated.detail });
      stream.emit("error", refusalStatus(authenticated.reason, authenticated.detail));
      return;
    }
    const identity = authenticated.identity;
    let untrack = () => {};
    let nodeId: string | undefined;
    let closed = false;
    const helloTimer = setTimeout(() => fail(new ProtocolViolation("no_hello", `no hello within ${HELLO_TIMEOUT_MS} ms`)), HELLO_TIMEOUT_MS);
    deps.metrics.streams.inc();

    const close = () => {
      if (closed) return;
      closed = true;
      clearTimeout(helloTimer);
      untrack();
      deps.metrics.streams.dec();
      if (nodeId) {
        deps.fleet.disconnect(nodeId, streamId, Date.now());
        deps.log.info("agent disconnected", { node: nodeId });
      }
    };
    const fail = (error: ProtocolViolation) => {
      deps.metrics.rejected.inc({ reason: error.reason });
      deps.log.warn("rejected agent stream", { node: nodeId ?? "?", peer: stream.getPeer(), error: error.message });
      stream.emit("error", { code: error.code, details: error.message } as grpc.ServiceError);
      stream.end();
      close();
    };

    stream.on("data", (message: ConnectRequest) => {
      if (closed) return;
      try {
        if (message.message.case === "hello") {
          if (nodeId) throw new ProtocolViolation("duplicate_hello", "hello sent twice on one stream");
          clearTimeout(helloTimer);
          nodeId = acceptHello(message.message.value, stream, streamId, deps, identity);
          if (identity) {
            untrack = deps.auth.track(identity, (reason) => {
              deps.log.warn("ending agent stream", { node: nodeId ?? "?", reason });
              stream.emit("error", refusalStatus(reason));
              close();
            });
          }
        } else if (message.message.case === "report") {
          if (!nodeId) throw new ProtocolViolation("report_before_hello", "report sent before hello");
          acceptReport(nodeId, message.message.value, stream, deps);
        } else {
          throw new ProtocolViolation("empty_message", "message has neither hello nor report");
        }
      } catch (error) {
        if (error instanceof ProtocolViolation) fail(error);
        else {
          deps.log.error("ingest failed", { node: nodeId ?? "?", error: (error as Error).message });
          stream.emit("error", { code: grpc.status.INTERNAL, details: "collector could not store the report" } as grpc.ServiceError);
          close();
        }
      }
    });
    // `cancelled` is how grpc-js reports a dead peer (keepalive) or a reset.
    stream.on("cancelled", close);
    stream.on("error", close);
    stream.on("end", () => {
      stream.end();
      close();
    });
  };
}

function acceptHello(hello: Hello, stream: Stream, streamId: number, deps: IngestDeps, identity: PeerIdentity | undefined): string {
  const node = hello.node;
  if (!node || !NODE_ID_PATTERN.test(node.nodeId)) {
    throw new ProtocolViolation("invalid_node_id", `hello.node.node_id must match ${NODE_ID_PATTERN} (got "${(node?.nodeId ?? "").slice(0, 70)}")`);
  }
  // The certificate is the identity: a node may speak only for itself.
  if (identity && node.nodeId !== identity.name) {
    throw new ProtocolViolation("identity_mismatch", `hello.node.node_id "${node.nodeId}" is not this certificate's node "${identity.name}"`, grpc.status.PERMISSION_DENIED);
  }
  for (const [field, value] of [["hostname", node.hostname], ["platform", node.platform], ["agent_version", node.agentVersion], ["openclaw_version", node.openclawVersion]] as const) {
    if (value.length > 255) throw new ProtocolViolation("invalid_hello", `hello.node.${field} is longer than 255 characters`);
  }
  const lastSeq = deps.fleet.connect(
    { nodeId: node.nodeId, hostname: node.hostname, platform: node.platform, agentVersion: node.agentVersion, openclawVersion: node.openclawVersion },
    streamId,
    stream.getPeer(),
    Number(hello.sentAtUnixMs),
    Date.now(),
  );
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

function acceptReport(nodeId: string, report: Report, stream: Stream, deps: IngestDeps): void {
  if (report.seq === 0n) throw new ProtocolViolation("invalid_report", "report.seq must be 1 or more");
  if (!VERDICTS.includes(report.verdict)) throw new ProtocolViolation("invalid_report", `report.verdict: unknown verdict "${report.verdict.slice(0, 40)}"`);
  if (report.findings.length > WIRE_LIMITS.findings) throw new ProtocolViolation("invalid_report", `report.findings: more than ${WIRE_LIMITS.findings}`);
  if (report.primaryIndex < -1 || report.primaryIndex >= report.findings.length) throw new ProtocolViolation("invalid_report", "report.primary_index is out of range");
  let findings;
  try {
    findings = report.findings.map(fromWireFinding);
  } catch (error) {
    if (error instanceof InvalidFinding) throw new ProtocolViolation("invalid_report", `report ${report.seq}: ${error.message}`);
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
  deps.metrics.storeWriteSeconds.observe((performance.now() - started) / 1000);
  deps.metrics.reports.inc({ outcome: outcome === "stored_old" ? "stored" : outcome });
  // Duplicates are acknowledged too: the agent must stop resending them.
  stream.write(create(ConnectResponseSchema, { message: { case: "ack", value: { seq: report.seq } } }));
}

const CREDENTIAL_KINDS = new Set(["gateway_token", "provider_key"]);

function validCredential(c: Report["credentials"][number], index: number, seq: bigint) {
  const where = `report ${seq}: credentials[${index}]`;
  if (!CREDENTIAL_KINDS.has(c.kind)) throw new ProtocolViolation("invalid_report", `${where}.kind: unknown kind "${c.kind.slice(0, 40)}"`);
  // Only fingerprints may cross the wire: anything else could be a secret.
  if (!/^hmac:[0-9a-f]{16,64}$/.test(c.fingerprint)) throw new ProtocolViolation("invalid_report", `${where}.fingerprint: not a keyed fingerprint (expected hmac:<hex>)`);
  if (c.source.length > 200 || c.subject.length > 200) throw new ProtocolViolation("invalid_report", `${where}: source or subject longer than 200 characters`);
  return { kind: c.kind, source: c.source, fingerprint: c.fingerprint, subject: c.subject };
}
