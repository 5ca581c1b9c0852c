/**
 * Serves and calls protobuf-es services over @grpc/grpc-js: service definitions,
 * a typed client, and typed server handlers that turn thrown errors into statuses
 * carrying the Outrig envelope.
 */
import type {
  DescMessage,
  DescMethod,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { toGrpcStatus } from "../errors/grpc.ts";
import { OutrigError, toOutrigError } from "../errors/index.ts";
import { bearer, MD } from "./metadata.ts";
import { type MethodInput, type MethodOutput, type Methods, methodPath } from "./service-types.ts";

/** grpc-js Metadata with the SPI credential set. */
export function credentialMetadata(secret: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set(MD.authorization, bearer(secret));
  return md;
}

function serializer<T extends DescMessage>(schema: T): (m: MessageShape<T>) => Buffer {
  return (m) => {
    // Handlers may write init objects; create() returns a message as it is.
    const bytes = toBinary(schema, create(schema, m as MessageInitShape<T>));
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer<T extends DescMessage>(schema: T): (b: Buffer) => MessageShape<T> {
  return (b) => fromBinary(schema, b);
}

/** The grpc-js service definition of a protobuf-es service, keyed by the method's local name. */
export function serviceDefinition(service: DescService): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: methodPath(method),
      originalName: method.name,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: serializer(method.input) as (m: unknown) => Buffer,
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output) as (m: unknown) => Buffer,
      responseDeserialize: deserializer(method.output),
    };
  }
  return definition as grpc.ServiceDefinition;
}

/** A unary handler: resolve with the response, or throw (an OutrigError, ideally). */
export type UnaryHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  call: grpc.ServerUnaryCall<MessageShape<I>, MessageShape<O>>,
) => Promise<MessageInitShape<O>> | MessageInitShape<O>;

/** A server-streaming handler: write responses to `call`, resolve when done, or throw. */
export type ServerStreamHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  call: grpc.ServerWritableStream<MessageShape<I>, MessageShape<O>>,
) => Promise<void>;

export type ServiceHandlers<S extends DescService> = {
  [K in keyof Methods<S>]?: Methods<S>[K] extends { methodKind: "server_streaming" }
    ? ServerStreamHandler<MethodInput<S, K>, MethodOutput<S, K>>
    : UnaryHandler<MethodInput<S, K>, MethodOutput<S, K>>;
};

export interface ServeOptions {
  /** Called before every handler; return an error to reject the call. */
  authorize?: (call: { metadata: grpc.Metadata }, method: DescMethod) => OutrigError | undefined;
  /** Called with every error a handler throws, before it is sent (for logging). */
  onError?: (error: OutrigError, method: DescMethod) => void;
}

/**
 * Adds a service to a grpc-js server. Methods without a handler answer
 * UNIMPLEMENTED with the `spi.method.unimplemented` envelope.
 */
export function addService<S extends DescService>(
  server: grpc.Server,
  service: S,
  handlers: ServiceHandlers<S>,
  options: ServeOptions = {},
): void {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const handler = (handlers as Record<string, unknown>)[method.localName] as
      | ((req: unknown, call: unknown) => unknown)
      | undefined;
    const fail = (error: unknown): Partial<grpc.StatusObject> => {
      const outrig = toOutrigError(error, "spi.handler.failed");
      options.onError?.(outrig, method);
      return toGrpcStatus(outrig);
    };
    if (method.methodKind === "unary") {
      impl[method.localName] = (
        call: grpc.ServerUnaryCall<unknown, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        const denied = options.authorize?.(call, method);
        if (denied) return callback(fail(denied), null);
        if (!handler) return callback(fail(OutrigError.fromCode("spi.method.unimplemented")), null);
        let result: unknown;
        try {
          result = handler(call.request, call);
        } catch (error) {
          return callback(fail(error), null);
        }
        // The response serializer builds the message from an init object.
        Promise.resolve(result).then(
          (response) => callback(null, response),
          (error) => callback(fail(error), null),
        );
      };
    } else if (method.methodKind === "server_streaming") {
      impl[method.localName] = (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const denied = options.authorize?.(call, method);
        if (denied) return void call.emit("error", statusError(fail(denied)));
        if (!handler)
          return void call.emit("error", statusError(fail(OutrigError.fromCode("spi.method.unimplemented"))));
        Promise.resolve()
          .then(() => handler(call.request, call))
          .then(
            () => call.end(),
            (error) => {
              if (!call.cancelled) call.emit("error", statusError(fail(error)));
            },
          );
      };
    } else {
      throw new Error(`streaming kind ${method.methodKind} of ${method.name} is not used by the SPI`);
    }
  }
  server.addService(serviceDefinition(service), impl);
}

/**
 * An error a server stream emits to end the call with this status: grpc-js turns an
 * "error" event into the trailers, whereas destroy() would drop the status entirely.
 */
function statusError(status: Partial<grpc.StatusObject>): Error {
  return Object.assign(new Error(status.details ?? ""), status);
}

export interface CallOptions {
  /** Absolute deadline (Date or epoch ms). */
  deadline?: Date | number;
  /** Aborting cancels the call. */
  signal?: AbortSignal;
  /** Extra metadata; merged over the client's default metadata. */
  metadata?: grpc.Metadata;
}

/** A typed client for one SPI service over one channel. */
export class ServiceClient<S extends DescService> {
  readonly #client: grpc.Client;
  readonly #service: S;
  readonly #defaultMetadata: () => grpc.Metadata;
  readonly #paths = new Map<
    string,
    { path: string; ser: (m: never) => Buffer; de: (b: Buffer) => unknown }
  >();

  constructor(
    service: S,
    target: string,
    options: {
      credentials?: grpc.ChannelCredentials;
      channelOptions?: grpc.ChannelOptions;
      metadata?: () => grpc.Metadata;
      channel?: grpc.Client;
    } = {},
  ) {
    this.#service = service;
    this.#client =
      options.channel ??
      new grpc.Client(
        target,
        options.credentials ?? grpc.credentials.createInsecure(),
        options.channelOptions,
      );
    this.#defaultMetadata = options.metadata ?? (() => new grpc.Metadata());
    for (const method of service.methods) {
      this.#paths.set(method.localName, {
        path: methodPath(method),
        ser: serializer(method.input) as (m: never) => Buffer,
        de: deserializer(method.output),
      });
    }
  }

  /** The underlying grpc-js client, to share its channel with another service client. */
  get channel(): grpc.Client {
    return this.#client;
  }

  #metadata(extra?: grpc.Metadata): grpc.Metadata {
    const md = this.#defaultMetadata();
    if (extra) md.merge(extra);
    return md;
  }

  #route(name: string) {
    const route = this.#paths.get(name);
    if (!route) throw new Error(`${this.#service.typeName} has no method ${name}`);
    return route;
  }

  /** Calls a unary method. Rejects with the raw grpc-js ServiceError (see fromGrpcError). */
  unary<K extends keyof Methods<S> & string>(
    name: K,
    request: MessageInitShape<MethodInput<S, K>>,
    options: CallOptions = {},
  ): Promise<MessageShape<MethodOutput<S, K>>> {
    const route = this.#route(name);
    const method = this.#service.method[name] as DescMethod;
    const message = create(method.input, request as MessageInitShape<DescMessage>);
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) return reject(abortedError());
      const call = this.#client.makeUnaryRequest(
        route.path,
        route.ser,
        route.de,
        message as never,
        this.#metadata(options.metadata),
        options.deadline === undefined ? {} : { deadline: options.deadline },
        (error, response) => {
          options.signal?.removeEventListener("abort", onAbort);
          if (error) reject(error);
          else resolve(response as MessageShape<MethodOutput<S, K>>);
        },
      );
      const onAbort = () => call.cancel();
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Calls a server-streaming method; iterate the result. Aborting the signal cancels the call. */
  serverStream<K extends keyof Methods<S> & string>(
    name: K,
    request: MessageInitShape<MethodInput<S, K>>,
    options: CallOptions = {},
  ): grpc.ClientReadableStream<MessageShape<MethodOutput<S, K>>> {
    const route = this.#route(name);
    const method = this.#service.method[name] as DescMethod;
    const message = create(method.input, request as MessageInitShape<DescMessage>);
    const call = this.#client.makeServerStreamRequest(
      route.path,
      route.ser,
      route.de,
      message as never,
      this.#metadata(options.metadata),
      options.deadline === undefined ? {} : { deadline: options.deadline },
    ) as grpc.ClientReadableStream<MessageShape<MethodOutput<S, K>>>;
    if (options.signal) {
      const signal = options.signal;
      const onAbort = () => call.cancel();
      if (signal.aborted) queueMicrotask(onAbort);
      else {
        signal.addEventListener("abort", onAbort, { once: true });
        call.on("close", () => signal.removeEventListener("abort", onAbort));
      }
    }
    return call;
  }

  close(): void {
    this.#client.close();
  }
}

function abortedError(): Error {
  return Object.assign(new Error("cancelled before the call started"), {
    code: grpc.status.CANCELLED,
    details: "cancelled",
    metadata: new grpc.Metadata(),
  });
}
