/**
 * A lean gRPC client on node:http2 for the core's hot path (Invoke, InvokeStream,
 * health), wire-compatible with grpc-js, grpc-go and grpcio servers: one HTTP/2
 * session per target, reconnected on demand; deadlines as grpc-timeout plus a local
 * timer; cancellation as RST_STREAM(CANCEL); errors shaped like grpc-js's.
 */

import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  type IncomingHttpHeaders,
  type SecureClientSessionOptions,
} from "node:http2";
import { connect as netConnect } from "node:net";
import type {
  DescMessage,
  DescMethod,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GrpcStatus } from "../../errors/grpc-status.ts";
import { unixSocketPath } from "../handshake.ts";
import {
  type MethodInput as In,
  type Methods,
  methodPath,
  type MethodOutput as Out,
} from "../service-types.ts";
import {
  decodeGrpcMessage,
  encodeTimeout,
  type FrameError,
  frame,
  MessageReader,
  WireMetadata,
} from "./wire.ts";

/** A failed call: the same shape as grpc-js's ServiceError, so fromGrpcError reads both. */
export class ClientError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    readonly metadata: WireMetadata = new WireMetadata(),
  ) {
    super(`${code} ${details}`);
    this.name = "ClientError";
  }
}

export interface CallOptions {
  /** Absolute deadline (Date or epoch ms). */
  deadline?: Date | number;
  signal?: AbortSignal;
  /** Extra metadata, as lowercase header names to values. */
  metadata?: Record<string, string>;
}

/**
 * One HTTP/2 connection to a target, opened on first use and again after it closes.
 * TLS applies to TCP targets only; a Unix socket is always plain (so callers may pass it regardless).
 */
export class H2Channel {
  #session: ClientHttp2Session | undefined;
  #closed = false;

  constructor(
    readonly target: string,
    private readonly tls?: SecureClientSessionOptions,
  ) {}

  session(): ClientHttp2Session {
    if (this.#closed) throw new ClientError(GrpcStatus.UNAVAILABLE, "channel closed");
    const current = this.#session;
    if (current && !current.closed && !current.destroyed) return current;
    const path = unixSocketPath(this.target);
    const session = path
      ? connect("http://localhost", { createConnection: () => netConnect(path) })
      : connect(`${this.tls ? "https" : "http"}://${this.target}`, this.tls ?? {});
    session.on("error", () => {});
    const drop = () => {
      if (this.#session === session) this.#session = undefined;
    };
    session.once("close", drop);
    session.once("goaway", drop);
    session.unref();
    this.#session = session;
    return session;
  }

  close(): void {
    this.#closed = true;
    this.#session?.close();
    this.#session = undefined;
  }
}

/** Maps a non-200 HTTP status to a gRPC code, as the gRPC HTTP/2 spec does. */
function codeForHttpStatus(status: number): number {
  if (status === 400) return GrpcStatus.INTERNAL;
  if (status === 401) return GrpcStatus.UNAUTHENTICATED;
  if (status === 403) return GrpcStatus.PERMISSION_DENIED;
  if (status === 404) return GrpcStatus.UNIMPLEMENTED;
  if (status === 429 || status === 502 || status === 503 || status === 504) return GrpcStatus.UNAVAILABLE;
  return GrpcStatus.UNKNOWN;
}

interface Outcome {
  code: number;
  message: string;
  metadata: WireMetadata;
}

/** Largest response message the client accepts. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** A method and its HTTP/2 path, computed once per service client. */
interface Route {
  method: DescMethod;
  path: string;
}

/** One request/response exchange; calls `onMessage` per message and `onEnd` once. */
function exchange(
  channel: H2Channel,
  route: Route,
  request: unknown,
  headers: Readonly<Record<string, string>>,
  options: CallOptions,
  onMessage: (message: Buffer) => void,
  onEnd: (outcome: Outcome) => void,
): ClientHttp2Stream | undefined {
  let ended = false;
  // Declared before `end`: the early exits below end the call before either exists.
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const end = (outcome: Outcome) => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
    onEnd(outcome);
  };
  const deadline = options.deadline === undefined ? undefined : Number(options.deadline);
  if (deadline !== undefined && deadline - Date.now() <= 0) {
    end({
      code: GrpcStatus.DEADLINE_EXCEEDED,
      message: "deadline exceeded before the call started",
      metadata: new WireMetadata(),
    });
    return undefined;
  }
  if (options.signal?.aborted) {
    end({
      code: GrpcStatus.CANCELLED,
      message: "cancelled before the call started",
      metadata: new WireMetadata(),
    });
    return undefined;
  }
  const h: Record<string, string> = {
    ":method": "POST",
    ":path": route.path,
    "content-type": "application/grpc",
    te: "trailers",
    ...headers,
    ...options.metadata,
  };
  if (deadline !== undefined) h["grpc-timeout"] = encodeTimeout(deadline - Date.now());
  let stream: ClientHttp2Stream;
  try {
    stream = channel.session().request(h);
  } catch (error) {
    end({ code: GrpcStatus.UNAVAILABLE, message: (error as Error).message, metadata: new WireMetadata() });
    return undefined;
  }
  let why: "cancelled" | "deadline" | undefined;
  onAbort = () => {
    why ??= "cancelled";
    stream.close(constants.NGHTTP2_CANCEL);
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (deadline !== undefined) {
    timer = setTimeout(() => {
      why ??= "deadline";
      stream.close(constants.NGHTTP2_CANCEL);
    }, deadline - Date.now());
  }

  let status: Outcome | undefined;
  const reader = new MessageReader(MAX_RESPONSE_BYTES);
  const readStatus = (hdrs: IncomingHttpHeaders): Outcome | undefined => {
    const raw = hdrs["grpc-status"];
    if (raw === undefined) return undefined;
    return {
      code: Number(raw),
      message: decodeGrpcMessage(hdrs["grpc-message"] as string | undefined),
      metadata: WireMetadata.fromHeaders(hdrs as Record<string, string | string[] | undefined>),
    };
  };
  stream.on("response", (hdrs) => {
    const httpStatus = Number(hdrs[":status"]);
    if (httpStatus !== 200) {
      status = {
        code: codeForHttpStatus(httpStatus),
        message: `HTTP status ${httpStatus}`,
        metadata: new WireMetadata(),
      };
      return;
    }
    status = readStatus(hdrs); // trailers-only response
  });
  stream.on("data", (chunk: Buffer) => {
    try {
      for (const message of reader.push(chunk)) onMessage(message);
    } catch (error) {
      const e = error as FrameError;
      status = {
        code: e.grpcStatus ?? GrpcStatus.INTERNAL,
        message: e.message,
        metadata: new WireMetadata(),
      };
      stream.close(constants.NGHTTP2_CANCEL);
    }
  });
  stream.on("trailers", (hdrs) => {
    status = readStatus(hdrs) ?? {
      code: GrpcStatus.INTERNAL,
      message: "trailers without grpc-status",
      metadata: new WireMetadata(),
    };
  });
  stream.on("error", () => {});
  stream.on("close", () => {
    if (why === "deadline")
      return end({
        code: GrpcStatus.DEADLINE_EXCEEDED,
        message: "deadline exceeded",
        metadata: new WireMetadata(),
      });
    if (why === "cancelled")
      return end({ code: GrpcStatus.CANCELLED, message: "cancelled", metadata: new WireMetadata() });
    end(
      status ?? {
        code: GrpcStatus.UNAVAILABLE,
        message: `stream closed (${stream.rstCode ?? "no status"})`,
        metadata: new WireMetadata(),
      },
    );
  });
  const input = route.method.input;
  stream.end(frame(toBinary(input, create(input, request as MessageInitShape<DescMessage>))));
  return stream;
}

/** A server stream's messages; iterate them, or cancel. */
export class ClientStream<T> implements AsyncIterable<T> {
  readonly #queue: T[] = [];
  #outcome: Outcome | undefined;
  #wake: (() => void) | undefined;
  stream: ClientHttp2Stream | undefined;

  /** @internal */
  push(message: T): void {
    this.#queue.push(message);
    if (this.#queue.length >= 32) this.stream?.pause();
    this.#wake?.();
  }

  /** @internal */
  finish(outcome: Outcome): void {
    this.#outcome = outcome;
    this.#wake?.();
  }

  cancel(): void {
    if (!this.#outcome) this.stream?.close(constants.NGHTTP2_CANCEL);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (;;) {
        const next = this.#queue.shift();
        if (next !== undefined) {
          if (this.#queue.length < 8) this.stream?.resume();
          yield next;
          continue;
        }
        const outcome = this.#outcome;
        if (outcome) {
          if (outcome.code !== GrpcStatus.OK)
            throw new ClientError(outcome.code, outcome.message, outcome.metadata);
          return;
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
      }
    } finally {
      this.cancel();
    }
  }
}

export interface H2ClientOptions {
  /** Metadata sent on every call (for example the SPI credential). */
  metadata?: Readonly<Record<string, string>>;
  channel?: H2Channel;
  tls?: SecureClientSessionOptions;
}

/** A typed client for one service; share a channel between services of one target. */
export class H2ServiceClient<S extends DescService> {
  readonly channel: H2Channel;
  readonly #routes = new Map<string, Route>();
  readonly #metadata: Readonly<Record<string, string>>;

  constructor(service: S, target: string, options: H2ClientOptions = {}) {
    for (const method of service.methods)
      this.#routes.set(method.localName, { method, path: methodPath(method) });
    this.channel = options.channel ?? new H2Channel(target, options.tls);
    this.#metadata = options.metadata ?? {};
  }

  unary<K extends keyof Methods<S> & string>(
    name: K,
    request: MessageInitShape<In<S, K>>,
    options: CallOptions = {},
  ): Promise<MessageShape<Out<S, K>>> {
    const route = this.#routes.get(name)!;
    return new Promise((resolve, reject) => {
      let response: MessageShape<Out<S, K>> | undefined;
      let count = 0;
      exchange(
        this.channel,
        route,
        request,
        this.#metadata,
        options,
        (bytes) => {
          count++;
          try {
            response = fromBinary(route.method.output, bytes) as MessageShape<Out<S, K>>;
          } catch {
            response = undefined;
          }
        },
        (outcome) => {
          if (outcome.code !== GrpcStatus.OK)
            return reject(new ClientError(outcome.code, outcome.message, outcome.metadata));
          if (count !== 1 || !response)
            return reject(
              new ClientError(GrpcStatus.INTERNAL, `expected one response message, got ${count}`),
            );
          resolve(response);
        },
      );
    });
  }

  serverStream<K extends keyof Methods<S> & string>(
    name: K,
    request: MessageInitShape<In<S, K>>,
    options: CallOptions = {},
  ): ClientStream<MessageShape<Out<S, K>>> {
    const route = this.#routes.get(name)!;
    const out = new ClientStream<MessageShape<Out<S, K>>>();
    out.stream = exchange(
      this.channel,
      route,
      request,
      this.#metadata,
      options,
      (bytes) => {
        try {
          out.push(fromBinary(route.method.output, bytes) as MessageShape<Out<S, K>>);
        } catch {
          out.finish({
            code: GrpcStatus.INTERNAL,
            message: "undecodable response message",
            metadata: new WireMetadata(),
          });
          out.cancel();
        }
      },
      (outcome) => out.finish(outcome),
    );
    return out;
  }

  close(): void {
    this.channel.close();
  }
}
