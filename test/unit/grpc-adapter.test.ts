import * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { AgentService, ConnectRequestSchema, ConnectResponseSchema, type ConnectRequest } from "../../shared/gen/clawfleet/v1/agent_pb.ts";
import { ListNodesRequestSchema, ListNodesResponseSchema, QueryService } from "../../shared/gen/clawfleet/v1/query_pb.ts";
import { addService, createClient, grpcServiceDefinition } from "../../shared/grpc-adapter.ts";

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

  it("rejects a unary call with the server's status", async () => {
    const address = await serve((server) =>
      addService(server, QueryService, { ...unimplemented, listNodes: (_call, callback) => callback({ code: grpc.status.PERMISSION_DENIED, details: "nope" }) }),
    );
    const client = createClient(QueryService, address, grpc.credentials.createInsecure());
    await expect(client.listNodes(create(ListNodesRequestSchema, {}))).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: "nope" });
    client.close();
  });
});
