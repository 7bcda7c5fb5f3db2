// An attacker's view of AgentService.Connect: gRPC framing written by hand over
// node:http2, so a test can send bytes no well-behaved client would (a string
// that is not UTF-8), open thousands of streams, and come from any loopback
// address (127.0.0.2, 127.0.0.3…): per-peer limits are per address, and
// grpc-js cannot choose its source address.
import { connect, constants, type ClientHttp2Session } from "node:http2";
import { connect as tcpConnect } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ConnectRequestSchema, ConnectResponseSchema, type ConnectRequest, type ConnectResponse } from "../../shared/gen/clawfleet/v1/agent_pb.ts";

export interface RawStatus {
  /** grpc-status; -1 when the stream was reset without one. */
  code: number;
  details: string;
}

export interface RawStream {
  responses: ConnectResponse[];
  /** Acknowledged seqs, in order. */
  acks: bigint[];
  send(message: ConnectRequest | Uint8Array): void;
  /** Writes `next()` as fast as HTTP/2 flow control allows, until it returns undefined or the call ends. */
  flood(next: () => ConnectRequest | undefined): Promise<void>;
  end(): void;
  cancel(): void;
  /** Resolves when the collector ends the call. */
  status: Promise<RawStatus>;
}

/** One HTTP/2 connection to the collector from `localAddress`: many streams share it. */
export class RawPeer {
  readonly session: ClientHttp2Session;

  constructor(grpcAddress: string, localAddress = "127.0.0.1") {
    const [host, port] = [grpcAddress.slice(0, grpcAddress.lastIndexOf(":")), Number(grpcAddress.slice(grpcAddress.lastIndexOf(":") + 1))];
    this.session = connect(`http://${grpcAddress}`, { createConnection: () => tcpConnect({ host, port, localAddress }), peerMaxConcurrentStreams: 10_000 });
    this.session.on("error", () => undefined);
  }

  open(path = "/clawfleet.v1.AgentService/Connect"): RawStream {
    const stream = this.session.request({
      [constants.HTTP2_HEADER_METHOD]: "POST",
      [constants.HTTP2_HEADER_PATH]: path,
      "content-type": "application/grpc",
      te: "trailers",
    });
    const responses: ConnectResponse[] = [];
    const acks: bigint[] = [];
    let buffer = Buffer.alloc(0);
    stream.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 5 && buffer.length >= 5 + buffer.readUInt32BE(1)) {
        const length = buffer.readUInt32BE(1);
        const message = fromBinary(ConnectResponseSchema, buffer.subarray(5, 5 + length));
        buffer = buffer.subarray(5 + length);
        responses.push(message);
        if (message.message.case === "ack") acks.push(message.message.value.seq);
      }
    });
    const status = new Promise<RawStatus>((resolve) => {
      const statusOf = (headers: Record<string, unknown>) => ({ code: Number(headers["grpc-status"]), details: decodeURIComponent(String(headers["grpc-message"] ?? "")) });
      // A refusal before any message is "trailers-only": the status comes in the response headers.
      stream.on("response", (headers) => {
        if (headers["grpc-status"] !== undefined) resolve(statusOf(headers));
      });
      stream.on("trailers", (trailers) => resolve(statusOf(trailers)));
      stream.on("close", () => resolve({ code: -1, details: `stream closed (rst ${stream.rstCode})` }));
      stream.on("error", () => undefined);
    });
    return {
      responses,
      acks,
      status,
      send(message) {
        const bytes = message instanceof Uint8Array ? message : toBinary(ConnectRequestSchema, message);
        const frame = Buffer.alloc(5 + bytes.length);
        frame.writeUInt32BE(bytes.length, 1);
        frame.set(bytes, 5);
        if (!stream.closed) stream.write(frame);
      },
      async flood(next) {
        while (!stream.closed && !stream.destroyed) {
          const message = next();
          if (!message) return;
          const bytes = toBinary(ConnectRequestSchema, message);
          const frame = Buffer.alloc(5 + bytes.length);
          frame.writeUInt32BE(bytes.length, 1);
          frame.set(bytes, 5);
          if (!stream.write(frame)) await new Promise((resolve) => (stream.once("drain", resolve), stream.once("close", resolve)));
        }
      },
      end: () => stream.end(),
      cancel: () => stream.close(constants.NGHTTP2_CANCEL),
    };
  }

  close(): void {
    this.session.destroy();
  }
}

export const hello = (nodeId: string, sentAtUnixMs = BigInt(Date.now())) =>
  create(ConnectRequestSchema, { message: { case: "hello", value: { node: { nodeId, hostname: nodeId, platform: "linux", agentVersion: "attack" }, sentAtUnixMs } } });

export const report = (seq: bigint, fields: Record<string, unknown> = {}) =>
  create(ConnectRequestSchema, {
    message: { case: "report", value: { seq, observedAtUnixMs: BigInt(Date.now()), verdict: "ok", primaryIndex: -1, findings: [{ check: "gateway", layer: "gateway", status: "ok" } as never], ...fields } },
  });

/** A hello whose node id is not UTF-8: protobuf decoding fails before any handler runs. */
export function undecodableHello(): Uint8Array {
  const bytes = Buffer.from(toBinary(ConnectRequestSchema, hello("utf8-attack")));
  bytes[bytes.indexOf(Buffer.from("utf8-attack"))] = 0xff;
  return bytes;
}
