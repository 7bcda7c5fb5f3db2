// A simulated agent that speaks the real wire protocol (AgentService.Connect:
// hello, welcome, reports, acks) with findings chosen by the test. It stands
// in for hosts this Linux box cannot be: a Mac that may sleep, a node whose
// Tailscale is down. The collector cannot tell it from `clawfleet agent run`.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { AgentService, ConnectRequestSchema, type ConnectRequest, type ConnectResponse } from "../../shared/gen/clawfleet/v1/agent_pb.ts";
import { ReportSchema } from "../../shared/gen/clawfleet/v1/report_pb.ts";
import { createClient } from "../../shared/grpc-adapter.ts";
import { linkDependencies, passed, primaryFinding, verdictOf, type Finding } from "../../shared/finding.ts";
import { toWireFinding } from "../../shared/report-codec.ts";
import { keyedFingerprint } from "../../shared/fingerprint.ts";

export interface SimulatorOptions {
  collector: string;
  nodeId: string;
  /** What the host says about sleep: a laptop-like Mac says true. */
  maySleep: boolean;
  findings: Finding[];
  intervalMs?: number;
  platform?: string;
  /** Last wake the host reports, Unix ms (0: never slept). */
  lastWakeMs?: number;
  /** Last sleep the host reports, Unix ms (0: never slept). */
  lastSleepMs?: number;
  hostname?: string;
  /** mTLS to a secure collector (test/helpers/enrollment.ts); plaintext when absent. */
  channel?: { credentials: grpc.ChannelCredentials; options?: grpc.ClientOptions };
  /** Secrets the host uses: sent as fingerprints keyed with the collector's fleet key, as a real agent does. */
  credentials?: { kind: "gateway_token" | "provider_key"; source: string; secret: string; subject: string }[];
}

export interface SimulatedAgent {
  nodeId: string;
  /** Resolves once the collector has welcomed this agent. */
  connected: Promise<void>;
  /** Highest seq the collector acknowledged. */
  readonly ackedSeq: bigint;
  /** Changes what the next reports say and reports at once, as a real agent does after a change. */
  report(findings: Finding[], maySleep?: boolean, host?: Pick<SimulatorOptions, "lastSleepMs" | "lastWakeMs" | "credentials">): void;
  /**
   * Cuts the stream: the node falls silent. The collector notices at once; a
   * host that really sleeps sends nothing and is noticed by keepalive (~10 s).
   */
  stop(): void;
}

/** A healthy gateway and session, as a real agent reports them. */
export function healthyFindings(): Finding[] {
  return [passed("gateway", "gateway", "Gateway listens on 127.0.0.1 and is ready."), passed("session", "session", "Gateway accepts the client token.")];
}

export function startSimulatedAgent(options: SimulatorOptions): SimulatedAgent {
  const client = createClient(AgentService, options.collector, options.channel?.credentials ?? grpc.credentials.createInsecure(), options.channel?.options);
  const stream: grpc.ClientDuplexStream<ConnectRequest, ConnectResponse> = client.connect();
  let findings = options.findings;
  let maySleep = options.maySleep;
  let host: Pick<SimulatorOptions, "lastSleepMs" | "lastWakeMs" | "credentials"> = options;
  let fleetKey: Uint8Array = new Uint8Array();
  let seq = 0n;
  let ackedSeq = 0n;
  let welcomed = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const send = () => {
    if (!welcomed || stopped) return;
    const linked = linkDependencies(findings);
    const primary = primaryFinding(linked);
    seq += 1n;
    stream.write(
      create(ConnectRequestSchema, {
        message: {
          case: "report",
          value: create(ReportSchema, {
            seq,
            observedAtUnixMs: BigInt(Date.now()),
            verdict: verdictOf(linked),
            primaryIndex: primary ? linked.indexOf(primary) : -1,
            findings: linked.map(toWireFinding),
            durationMs: 12,
            maySleep,
            lastWakeUnixMs: BigInt(host.lastWakeMs ?? 0),
            lastSleepUnixMs: BigInt(host.lastSleepMs ?? 0),
            credentials: (host.credentials ?? []).map((c) => ({ kind: c.kind, source: c.source, subject: c.subject, fingerprint: keyedFingerprint(c.secret, fleetKey) })),
          }),
        },
      }),
    );
  };
  const schedule = () => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(() => (send(), schedule()), options.intervalMs ?? 1000);
  };

  const connected = new Promise<void>((resolve, reject) => {
    stream.on("data", (message: ConnectResponse) => {
      if (message.message.case === "welcome") {
        // Continue above what the collector holds, as a real agent's sequence file does.
        seq = message.message.value.lastAckedSeq;
        fleetKey = message.message.value.fingerprintKey;
        welcomed = true;
        resolve();
        send();
        schedule();
      } else if (message.message.case === "ack") {
        ackedSeq = message.message.value.seq;
      }
    });
    stream.on("error", (error: grpc.ServiceError) => {
      if (!stopped) reject(new Error(`simulated agent ${options.nodeId}: ${error.message}`));
    });
  });
  stream.write(
    create(ConnectRequestSchema, {
      message: { case: "hello", value: { node: { nodeId: options.nodeId, hostname: options.hostname ?? `${options.nodeId}.local`, platform: options.platform ?? "darwin", agentVersion: "simulator" }, sentAtUnixMs: BigInt(Date.now()) } },
    }),
  );

  return {
    nodeId: options.nodeId,
    connected,
    get ackedSeq() {
      return ackedSeq;
    },
    report(next, nextMaySleep, nextHost) {
      findings = next;
      if (nextMaySleep !== undefined) maySleep = nextMaySleep;
      if (nextHost) host = { ...host, ...nextHost };
      send();
      schedule();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      stream.cancel();
      client.close();
    },
  };
}

/** Opens a stream with an invalid hello; resolves with the collector's rejection. */
export function sendInvalidHello(collector: string): Promise<grpc.ServiceError> {
  const client = createClient(AgentService, collector, grpc.credentials.createInsecure());
  const stream = client.connect();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("collector did not reject an invalid hello within 5 s")), 5000);
    stream.on("data", () => undefined);
    stream.on("error", (error: grpc.ServiceError) => {
      clearTimeout(timer);
      client.close();
      resolve(error);
    });
    stream.write(create(ConnectRequestSchema, { message: { case: "hello", value: { node: { nodeId: "Not A Valid Id!" }, sentAtUnixMs: BigInt(Date.now()) } } }));
  });
}
