// Turns protobuf-es service descriptors into grpc-js service definitions and
// typed clients, so no method ever needs a hand-written serializer.
import * as grpc from "@grpc/grpc-js";
import { fromBinary, toBinary, type DescMessage, type DescMethod, type MessageShape } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";

type In<M> = M extends { input: infer D extends DescMessage } ? MessageShape<D> : never;
type Out<M> = M extends { output: infer D extends DescMessage } ? MessageShape<D> : never;

type ServerHandler<M> = M extends { methodKind: "unary" }
  ? grpc.handleUnaryCall<In<M>, Out<M>>
  : M extends { methodKind: "server_streaming" }
    ? grpc.handleServerStreamingCall<In<M>, Out<M>>
    : M extends { methodKind: "client_streaming" }
      ? grpc.handleClientStreamingCall<In<M>, Out<M>>
      : grpc.handleBidiStreamingCall<In<M>, Out<M>>;

/** The method shapes of a generated service constant: `MethodsOf<typeof QueryService>`. */
export type MethodsOf<T> = T extends GenService<infer S extends GenServiceMethods> ? S : never;

/** Handlers for every method of a service, typed from its descriptor. */
export type ServiceHandlers<S extends GenServiceMethods> = { [K in keyof S]: ServerHandler<S[K]> };

type UnaryCall<I, O> = (request: I, options?: Partial<grpc.CallOptions>) => Promise<O>;
type ClientMethod<M> = M extends { methodKind: "unary" }
  ? UnaryCall<In<M>, Out<M>>
  : M extends { methodKind: "server_streaming" }
    ? (request: In<M>, options?: Partial<grpc.CallOptions>) => grpc.ClientReadableStream<Out<M>>
    : M extends { methodKind: "client_streaming" }
      ? never
      : (options?: Partial<grpc.CallOptions>) => grpc.ClientDuplexStream<In<M>, Out<M>>;

/** A client whose methods mirror the service; unary calls return promises. */
export type ServiceClient<S extends GenServiceMethods> = { [K in keyof S]: ClientMethod<S[K]> } & {
  close(): void;
  raw: grpc.Client;
};

function methodDefinition(service: { typeName: string }, method: DescMethod): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: `/${service.typeName}/${method.name}`,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: (value) => Buffer.from(toBinary(method.input, value as never)),
    requestDeserialize: (bytes: Buffer) => fromBinary(method.input, bytes),
    responseSerialize: (value) => Buffer.from(toBinary(method.output, value as never)),
    responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
    originalName: method.localName,
  };
}

/** grpc-js service definition, keyed by each method's local (camelCase) name. */
export function grpcServiceDefinition<S extends GenServiceMethods>(service: GenService<S>): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) definition[method.localName] = methodDefinition(service, method);
  return definition;
}

/** Registers typed handlers for a protobuf-es service on a grpc-js server. */
export function addService<S extends GenServiceMethods>(
  server: grpc.Server,
  service: GenService<S>,
  handlers: ServiceHandlers<S>,
): void {
  server.addService(grpcServiceDefinition(service), handlers as unknown as grpc.UntypedServiceImplementation);
}

/** A typed client for a protobuf-es service. */
export function createClient<S extends GenServiceMethods>(
  service: GenService<S>,
  address: string,
  credentials: grpc.ChannelCredentials,
  options: grpc.ClientOptions = {},
): ServiceClient<S> {
  const Ctor = grpc.makeGenericClientConstructor(grpcServiceDefinition(service), service.name);
  const raw = new Ctor(address, credentials, options);
  const client: Record<string, unknown> = { raw, close: () => raw.close() };
  for (const method of service.methods) {
    const call = (raw as unknown as Record<string, (...args: unknown[]) => unknown>)[method.localName]!.bind(raw);
    if (method.methodKind === "unary") {
      client[method.localName] = (request: unknown, options: Partial<grpc.CallOptions> = {}) =>
        new Promise((resolve, reject) => {
          call(request, new grpc.Metadata(), options, (error: grpc.ServiceError | null, response: unknown) =>
            error ? reject(error) : resolve(response),
          );
        });
    } else if (method.methodKind === "server_streaming") {
      client[method.localName] = (request: unknown, options: Partial<grpc.CallOptions> = {}) =>
        call(request, new grpc.Metadata(), options);
    } else {
      client[method.localName] = (options: Partial<grpc.CallOptions> = {}) => call(new grpc.Metadata(), options);
    }
  }
  return client as ServiceClient<S>;
}
