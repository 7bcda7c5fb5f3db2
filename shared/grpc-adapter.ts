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

/**
 * What the server's deserializer yields for bytes that are no valid message
 * (a string that is not UTF-8, a truncated field). grpc-js would answer a
 * throwing deserializer with INTERNAL; this lets the service answer
 * INVALID_ARGUMENT and count it. Handlers never see it as a request: unary
 * calls are answered here, streams get the `UNDECODABLE` event instead of `data`.
 */
export class UndecodableMessage {
  readonly error: string;

  constructor(error: string) {
    this.error = error;
  }
}

/** Event a request stream emits instead of `data` for an undecodable message; without a listener the call ends with INVALID_ARGUMENT. */
export const UNDECODABLE = "undecodable";

function undecodableStatus(method: DescMethod, message: UndecodableMessage): Partial<grpc.StatusObject> {
  return { code: grpc.status.INVALID_ARGUMENT, details: `${method.input.typeName}: undecodable message (${message.error.slice(0, 200)})` };
}

function deserializeRequest(method: DescMethod) {
  return (bytes: Buffer) => {
    try {
      return fromBinary(method.input, bytes);
    } catch (error) {
      return new UndecodableMessage((error as Error).message);
    }
  };
}

type AnyHandler = (call: grpc.ServerUnaryCall<unknown, unknown> & grpc.ServerDuplexStream<unknown, unknown>, callback?: grpc.sendUnaryData<unknown>) => void;

/** Keeps undecodable requests away from typed handlers (see UndecodableMessage). */
function guardUndecodable(method: DescMethod, handler: AnyHandler): AnyHandler {
  if (method.methodKind === "unary" || method.methodKind === "server_streaming") {
    return (call, callback) => {
      if (!(call.request instanceof UndecodableMessage)) return handler(call, callback);
      const status = undecodableStatus(method, call.request);
      if (callback) callback(status);
      else call.emit("error", status);
    };
  }
  return (call) => {
    const push = call.push.bind(call);
    call.push = (chunk: unknown, encoding?: BufferEncoding) => {
      if (!(chunk instanceof UndecodableMessage)) return push(chunk, encoding);
      if (call.listenerCount(UNDECODABLE) > 0) call.emit(UNDECODABLE, chunk);
      else call.emit("error", undecodableStatus(method, chunk));
      return true;
    };
    handler(call);
  };
}

function methodDefinition(service: { typeName: string }, method: DescMethod): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: `/${service.typeName}/${method.name}`,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: (value) => Buffer.from(toBinary(method.input, value as never)),
    requestDeserialize: deserializeRequest(method),
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
  const guarded: Record<string, AnyHandler> = {};
  for (const method of service.methods) guarded[method.localName] = guardUndecodable(method, (handlers as unknown as Record<string, AnyHandler>)[method.localName]!);
  server.addService(grpcServiceDefinition(service), guarded as unknown as grpc.UntypedServiceImplementation);
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
