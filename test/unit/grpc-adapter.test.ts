import * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { AgentService, ConnectRequestSchema, ConnectResponseSchema, type ConnectRequest } from "../../shared/gen/clawfleet/v1/agent_pb.ts";
import { ListNodesRequestSchema, ListNodesResponseSchema, QueryService } from "../../shared/gen/clawfleet/v1/query_pb.ts";
import { addService, createClient, grpcServiceDefinition, UNDECODABLE, UndecodableMessage } from "../../shared/grpc-adapter.ts";

/** A client that sends raw bytes: what a peer sends when its strings are not UTF-8. */
function rawClient(address: string, path: string, requestStream: boolean) {
  const identity = (b: Buffer) => b;
  const Ctor = grpc.makeGenericClientConstructor(
    { call: { path, requestStream, responseStream: requestStream, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
    "Raw",
  );
  return new Ctor(address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
}

/** A hello whose node id holds 0xff, which is no UTF-8. */
function notUtf8Hello(): Buffer {
  const bytes = Buffer.from(toBinary(ConnectRequestSchema, create(ConnectRequestSchema, { message: { case: "hello", value: { node: { nodeId: "mini-01" } } } })));
  bytes[bytes.indexOf(Buffer.from("mini-01"))] = 0xff;
  return bytes;
}

/** The QueryService methods a test does not exercise answer UNIMPLEMENTED, as grpc-js would. */
const unimplemented = {
  getNode: (_c: unknown, cb: grpc.sendUnaryData<never>) => cb({ code: grpc.status.UNIMPLEMENTED }),
  listEvents: (_c: unknown, cb: grpc.sendUnaryData<never>) => cb({ code: grpc.status.UNIMPLEMENTED }),
  listCredentials: (_c: unknown, cb: grpc.sendUnaryData<never>) => cb({ code: grpc.status.UNIMPLEMENTED }),
};

describe("grpc adapter", () => {
  const servers: grpc.Server[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.forceShutdown()));

  async function serve(setup: (server: grpc.Server) => void): Promise<string> {
    const server = new grpc.Server();
    servers.push(server);
    setup(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    return `127.0.0.1:${port}`;
  }

  it("derives paths, stream flags and protobuf serializers from the descriptor", () => {
    const connect = grpcServiceDefinition(AgentService).connect!;
    expect(connect.path).toBe("/clawfleet.v1.AgentService/Connect");
    expect([connect.requestStream, connect.responseStream]).toEqual([true, true]);
    const listNodes = grpcServiceDefinition(QueryService).listNodes!;
    expect(listNodes.path).toBe("/clawfleet.v1.QueryService/ListNodes");
    expect([listNodes.requestStream, listNodes.responseStream]).toEqual([false, false]);

    const message = create(ConnectRequestSchema, { message: { case: "hello", value: { node: { nodeId: "mini-01" } } } });
    const bytes = connect.requestSerialize(message);
    expect(bytes).toEqual(Buffer.from(toBinary(ConnectRequestSchema, message)));
    const back = connect.requestDeserialize(bytes) as ConnectRequest;
    expect(back.message.case).toBe("hello");
    expect(back.message.case === "hello" && back.message.value.node?.nodeId).toBe("mini-01");
  });

  it("serves and calls a unary method over a real socket", async () => {
    const address = await serve((server) =>
      addService(server, QueryService, {
        ...unimplemented,
        listNodes: (_call, callback) => callback(null, create(ListNodesResponseSchema, { nowUnixMs: 42n })),
      }),
    );
    const client = createClient(QueryService, address, grpc.credentials.createInsecure());
    const response = await client.listNodes(create(ListNodesRequestSchema, {}));
    expect(response.nowUnixMs).toBe(42n);
    client.close();
  });

  it("streams both ways on a bidirectional method", async () => {
    const address = await serve((server) =>
      addService(server, AgentService, {
        connect(stream) {
          stream.on("data", (request: ConnectRequest) => {
            if (request.message.case === "report") {
              stream.write(create(ConnectResponseSchema, { message: { case: "ack", value: { seq: request.message.value.seq } } }));
            }
          });
          stream.on("end", () => stream.end());
        },
      }),
    );
    const client = createClient(AgentService, address, grpc.credentials.createInsecure());
    const stream = client.connect();
    const acks: bigint[] = [];
    const done = new Promise<void>((resolve) => stream.on("end", resolve));
    stream.on("data", (response) => response.message.case === "ack" && acks.push(response.message.value.seq));
    for (const seq of [1n, 2n, 3n]) stream.write(create(ConnectRequestSchema, { message: { case: "report", value: { seq } } }));
    stream.end();
    await done;
    expect(acks).toEqual([1n, 2n, 3n]);
    client.close();
  });

  it("answers an undecodable unary request INVALID_ARGUMENT without calling the handler", async () => {
    let called = false;
    const address = await serve((server) =>
      addService(server, QueryService, { ...unimplemented, listNodes: (_call, callback) => ((called = true), callback(null, create(ListNodesResponseSchema, {}))) }),
    );
    const client = rawClient(address, "/clawfleet.v1.QueryService/ListNodes", false);
    const error = await new Promise<grpc.ServiceError>((resolve) => client.call!(Buffer.from([0x22, 0x02, 0xff, 0xfe]), (e: grpc.ServiceError) => resolve(e)));
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/clawfleet\.v1\.ListNodesRequest: undecodable message/);
    expect(called).toBe(false);
    client.close();
  });

  it("gives a stream's handler the undecodable event instead of data, and ends the call INVALID_ARGUMENT when nobody listens", async () => {
    const seen: string[] = [];
    const address = await serve((server) =>
      addService(server, AgentService, {
        connect(stream) {
          stream.on("data", () => seen.push("data"));
          if (seen.length === 0) {
            stream.on(UNDECODABLE, (message: UndecodableMessage) => {
              seen.push(`undecodable: ${message.error}`);
              stream.emit("error", { code: grpc.status.INVALID_ARGUMENT, details: "counted and refused" });
            });
          }
        },
      }),
    );
    for (const expected of [/counted and refused/, /clawfleet\.v1\.ConnectRequest: undecodable message/]) {
      const client = rawClient(address, "/clawfleet.v1.AgentService/Connect", true);
      const stream = client.call!() as grpc.ClientDuplexStream<Buffer, Buffer>;
      const error = new Promise<grpc.ServiceError>((resolve) => stream.on("error", resolve));
      stream.on("data", () => undefined);
      stream.write(notUtf8Hello());
      expect(await error).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(expected) });
      client.close();
    }
    expect(seen).toEqual([expect.stringMatching(/^undecodable: .*utf-8/)]);
  });

  it("rejects a unary call with the server's status", async () => {
    const address = await serve((server) =>
      addService(server, QueryService, { ...unimplemented, listNodes: (_call, callback) => callback({ code: grpc.status.PERMISSION_DENIED, details: "nope" }) }),
    );
    const client = createClient(QueryService, address, grpc.credentials.createInsecure());
    await expect(client.listNodes(create(ListNodesRequestSchema, {}))).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: "nope" });
    client.close();
  });
});
