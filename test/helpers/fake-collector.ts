// A collector that speaks AgentService over real gRPC on loopback but says
// what the test wants: a poisoned welcome, acks for reports never sent, a
// CheckNow flood. It records every report it receives, in arrival order.
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { AgentService, ConnectResponseSchema, type ConnectRequest, type ConnectResponse } from "../../shared/gen/clawfleet/v1/agent_pb.ts";
import type { Report } from "../../shared/gen/clawfleet/v1/report_pb.ts";
import { addService } from "../../shared/grpc-adapter.ts";

export type FakeStream = grpc.ServerDuplexStream<ConnectRequest, ConnectResponse>;

export interface FakeCollectorBehaviour {
  /** Welcome.last_acked_seq for the nth stream (0-based). */
  lastAckedSeq(streamIndex: number): bigint;
  /** Called after the welcome is written; may write more (acks, CheckNow). */
  afterWelcome?(stream: FakeStream, streamIndex: number): void;
  /** Ack every report as the real collector does (default true). */
  ack?: boolean;
}

export interface FakeCollector {
  address: string;
  /** Reports received, in arrival order (resends included). */
  readonly reports: Report[];
  /** Streams opened so far. */
  readonly streams: number;
  stop(): Promise<void>;
}

export const FLEET_KEY = new Uint8Array(32).fill(7);

export function checkNow(reason: string): ConnectResponse {
  return create(ConnectResponseSchema, { message: { case: "checkNow", value: { reason } } });
}

export function ack(seq: bigint): ConnectResponse {
  return create(ConnectResponseSchema, { message: { case: "ack", value: { seq } } });
}

export async function startFakeCollector(behaviour: FakeCollectorBehaviour): Promise<FakeCollector> {
  const reports: Report[] = [];
  const open = new Set<FakeStream>();
  let streams = 0;
  const server = new grpc.Server();
  addService(server, AgentService, {
    connect(stream: FakeStream) {
      const index = streams++;
      open.add(stream);
      const forget = () => open.delete(stream);
      stream.on("cancelled", forget);
      stream.on("error", forget);
      stream.on("end", () => {
        forget();
        stream.end();
      });
      stream.on("data", (message: ConnectRequest) => {
        if (message.message.case === "hello") {
          stream.write(create(ConnectResponseSchema, { message: { case: "welcome", value: { lastAckedSeq: behaviour.lastAckedSeq(index), fingerprintKey: FLEET_KEY } } }));
          behaviour.afterWelcome?.(stream, index);
        } else if (message.message.case === "report") {
          reports.push(message.message.value);
          if (behaviour.ack ?? true) stream.write(ack(message.message.value.seq));
        }
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `127.0.0.1:${port}`,
    reports,
    get streams() {
      return streams;
    },
    async stop() {
      for (const stream of open) if (!stream.cancelled) stream.end();
      server.forceShutdown();
    },
  };
}
