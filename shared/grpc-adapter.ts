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
 * What a served method's handler gets instead of a request whose bytes are no
 * valid message (a string that is not UTF-8, a truncated field). grpc-js would
 * answer a throwing deserializer with INTERNAL; this lets the service answer
 * INVALID_ARGUMENT and count it. Typed handlers never see it as a request:
 * unary calls are answered here, streams emit `UNDECODABLE` instead of `data`.
 */
export class UndecodableMessage {
  readonly error: string;

  constructor(error: string) {
    this.error = error;
  }
}

/** Event a request stream emits instead of `data` for an undecodable message; without a listener the call ends with INVALID_ARGUMENT. */
export const UNDECODABLE = "undecodable";

/**
 * A request's bytes as the server received them. grpc-js deserializes every
 * message of a socket read at once, before the handler asks for any: a peer
 * pipelining reports would make the server decode megabytes it may never
 * take. Served methods decode a message when their handler takes it, so a
 * flood waits in HTTP/2 flow control instead.
 */
class EncodedRequest {
  readonly bytes: Buffer;

  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }
}

function decodeRequest(method: DescMethod, value: unknown): unknown {
  if (!(value instanceof EncodedRequest)) return value;
  try {
    return fromBinary(method.input, value.bytes);
  } catch (error) {
    return new UndecodableMessage((error as Error).message);
  }
}

function undecodableStatus(method: DescMethod, message: UndecodableMessage): Partial<grpc.StatusObject> {
  return { code: grpc.status.INVALID_ARGUMENT, details: `${method.input.typeName}: undecodable message (${message.error.slice(0, 200)})` };
}

type AnyHandler = (call: grpc.ServerUnaryCall<unknown, unknown> & grpc.ServerDuplexStream<unknown, unknown>, callback?: grpc.sendUnaryData<unknown>) => void;

/** Decodes requests as the handler takes them, and keeps undecodable ones away from it (see UndecodableMessage). */
function decodingHandler(method: DescMethod, handler: AnyHandler): AnyHandler {
  if (method.methodKind === "unary" || method.methodKind === "server_streaming") {
    return (call, callback) => {
      const request = decodeRequest(method, call.request);
      if (!(request instanceof UndecodableMessage)) {
        call.request = request;
        return handler(call, callback);
      }
      const status = undecodableStatus(method, request);
      if (callback) callback(status);
      else call.emit("error", status);
    };
  }
  return (call) => {
    // grpc-js pushes the next message only when the stream is read, i.e. when the handler takes it.
    const push = call.push.bind(call);
    call.push = (chunk: unknown, encoding?: BufferEncoding) => {
      const message = decodeRequest(method, chunk);
      if (!(message instanceof UndecodableMessage)) return push(message, encoding);
      if (call.listenerCount(UNDECODABLE) > 0) call.emit(UNDECODABLE, message);
      else call.emit("error", undecodableStatus(method, message));
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
  const definition = grpcServiceDefinition(service);
  const decoding: Record<string, AnyHandler> = {};
  for (const method of service.methods) {
    definition[method.localName]!.requestDeserialize = (bytes: Buffer) => new EncodedRequest(bytes);
    decoding[method.localName] = decodingHandler(method, (handlers as unknown as Record<string, AnyHandler>)[method.localName]!);
  }
  server.addService(definition, decoding as unknown as grpc.UntypedServiceImplementation);
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
