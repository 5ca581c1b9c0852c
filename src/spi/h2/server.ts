/**
 * A lean gRPC server on node:http2, wire-compatible with grpc-js, grpc-go and grpcio
 * clients, for the SPI's hot path inside modules. It serves unary and server-streaming
 * methods of protobuf-es services, with deadlines (grpc-timeout), cancellation
 * (RST_STREAM), flow control, and errors as google.rpc.Status details.
 */

import { EventEmitter } from "node:events";
import { chmodSync, rmSync } from "node:fs";
import {
  constants,
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type SecureServerOptions,
  type ServerHttp2Stream,
} from "node:http2";
import type {
  DescMessage,
  DescMethod,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  GrpcStatus,
  grpcStatusFor,
  OutrigError,
  STATUS_DETAILS_KEY,
  toOutrigError,
} from "../../errors/index.ts";
import { unixSocketPath } from "../handshake.ts";
import {
  type MethodInput as In,
  type Methods,
  methodPath,
  type MethodOutput as Out,
} from "../service-types.ts";
import {
  decodeTimeout,
  encodeGrpcMessage,
  type FrameError,
  frame,
  GRPC_CONTENT_TYPE,
  MessageReader,
  WireMetadata,
} from "./wire.ts";

/** One call as a handler sees it (a subset of grpc-js's server call, so handlers port over). */
export class ServerCall<Res = unknown> extends EventEmitter {
  cancelled = false;

  constructor(
    readonly metadata: WireMetadata,
    /** Epoch ms from the caller's grpc-timeout; the call is cancelled when it passes. */
    readonly deadline: number | undefined,
    private readonly stream: ServerHttp2Stream,
    private readonly writeMessage: (message: Res) => boolean,
  ) {
    super();
  }

  /** Server streaming: sends one message; false means wait for "drain". */
  write(message: Res): boolean {
    return this.writeMessage(message);
  }

  get destroyed(): boolean {
    return this.stream.destroyed || this.stream.closed;
  }

  /** @internal */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.emit("cancelled");
  }
}

export type H2UnaryHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  call: ServerCall<MessageShape<O>>,
) => Promise<MessageInitShape<O>> | MessageInitShape<O>;

export type H2StreamHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  call: ServerCall<MessageInitShape<O>>,
) => Promise<void>;

export type H2Handlers<S extends DescService> = {
  [K in keyof Methods<S>]?: Methods<S>[K] extends { methodKind: "server_streaming" }
    ? H2StreamHandler<In<S, K>, Out<S, K>>
    : H2UnaryHandler<In<S, K>, Out<S, K>>;
};

export interface H2ServeOptions {
  /** Called before every handler; return an error to refuse the call. */
  authorize?: (call: { metadata: WireMetadata }, method: DescMethod) => OutrigError | undefined;
}

interface Route {
  method: DescMethod;
  handler: ((request: unknown, call: ServerCall) => unknown) | undefined;
  options: H2ServeOptions;
}

export interface H2ServerOptions {
  maxMessageBytes?: number;
  /** TLS (and mTLS with `requestCert` + `ca`) for TCP listeners across hosts. */
  tls?: SecureServerOptions;
}

export class H2GrpcServer {
  readonly #routes = new Map<string, Route>();
  readonly #server: Http2Server | Http2SecureServer;
  readonly #maxMessageBytes: number;
  readonly #streams = new Set<ServerHttp2Stream>();
  #socketPath: string | undefined;

  constructor(options: H2ServerOptions = {}) {
    this.#maxMessageBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
    const settings = { settings: { maxConcurrentStreams: 1000 } };
    this.#server = options.tls ? createSecureServer({ ...options.tls, ...settings }) : createServer(settings);
    this.#server.on("stream", (stream, headers) => this.#onStream(stream, headers));
    this.#server.on("sessionError", () => {});
  }

  addService<S extends DescService>(service: S, handlers: H2Handlers<S>, options: H2ServeOptions = {}): void {
    for (const method of service.methods) {
      if (method.methodKind !== "unary" && method.methodKind !== "server_streaming") {
        throw new Error(`${method.name}: only unary and server-streaming methods are supported`);
      }
      this.#routes.set(methodPath(method), {
        method,
        handler: (handlers as Record<string, Route["handler"]>)[method.localName],
        options,
      });
    }
  }

  /** Listens on `unix:///path` (mode 0600) or `host:port`; resolves to the bound address. */
  listen(address: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#server.once("error", onError);
      const done = () => {
        this.#server.off("error", onError);
        const bound = this.#server.address();
        if (this.#socketPath) {
          chmodSync(this.#socketPath, 0o600);
          resolve(address);
        } else
          resolve(
            typeof bound === "object" && bound
              ? `${address.slice(0, address.lastIndexOf(":"))}:${bound.port}`
              : address,
          );
      };
      const path = unixSocketPath(address);
      if (path) {
        this.#socketPath = path;
        rmSync(path, { force: true });
        this.#server.listen(path, done);
      } else {
        const i = address.lastIndexOf(":");
        this.#server.listen(Number(address.slice(i + 1)), address.slice(0, i).replace(/^\[|\]$/g, ""), done);
      }
    });
  }

  /** Stops accepting; running calls get until the deadline, then their streams are reset. */
  close(deadlineMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const s of this.#streams) s.close(constants.NGHTTP2_CANCEL);
        resolve();
      }, deadlineMs);
      this.#server.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on("error", () => {});
    const contentType = headers["content-type"] ?? "";
    if (headers[":method"] !== "POST" || !contentType.startsWith("application/grpc")) {
      stream.respond({ ":status": 415 }, { endStream: true });
      return;
    }
    const route = this.#routes.get(headers[":path"] ?? "");
    if (!route) {
      trailersOnly(stream, GrpcStatus.UNIMPLEMENTED, `unknown method ${headers[":path"] ?? ""}`);
      return;
    }
    this.#streams.add(stream);
    stream.once("close", () => this.#streams.delete(stream));

    const metadata = WireMetadata.fromHeaders(headers as Record<string, string | string[] | undefined>);
    const timeout = decodeTimeout(headers["grpc-timeout"] as string | undefined);
    const deadline = timeout === undefined ? undefined : Date.now() + timeout;
    const { method } = route;
    let headersSent = false;
    let finished = false;
    const sendHeaders = () => {
      if (headersSent) return;
      headersSent = true;
      stream.respond({ ":status": 200, "content-type": GRPC_CONTENT_TYPE }, { waitForTrailers: true });
    };
    const writeMessage = (message: unknown): boolean => {
      if (finished || stream.destroyed) return true;
      sendHeaders();
      const bytes = toBinary(method.output, create(method.output, message as MessageInitShape<DescMessage>));
      return stream.write(frame(bytes));
    };
    const call = new ServerCall(metadata, deadline, stream, writeMessage);
    stream.on("drain", () => call.emit("drain"));
    stream.once("close", () => {
      if (!finished) call.cancel();
    });

    let timer: NodeJS.Timeout | undefined;
    const finish = (status: number, message: string, details?: Buffer) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (stream.destroyed || stream.closed) return;
      const trailers: Record<string, string> = { "grpc-status": String(status) };
      if (message) trailers["grpc-message"] = encodeGrpcMessage(message);
      if (details) trailers[STATUS_DETAILS_KEY] = details.toString("base64").replace(/=+$/, "");
      if (!headersSent) return trailersOnly(stream, status, message, trailers);
      stream.once("wantTrailers", () => stream.sendTrailers(trailers));
      stream.end();
    };
    const fail = (error: unknown) => {
      const status = grpcStatusFor(toOutrigError(error, "spi.handler.failed"));
      finish(status.code, status.message, status.details);
    };
    if (deadline !== undefined) {
      timer = setTimeout(
        () => {
          call.cancel();
          finish(GrpcStatus.DEADLINE_EXCEEDED, "deadline exceeded");
          stream.close(constants.NGHTTP2_CANCEL);
        },
        Math.max(0, deadline - Date.now()),
      );
    }

    const denied = route.options.authorize?.(call, method);
    if (denied) {
      fail(denied);
      return;
    }
    if (!route.handler) {
      fail(OutrigError.fromCode("spi.method.unimplemented"));
      return;
    }

    const reader = new MessageReader(this.#maxMessageBytes);
    const messages: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => {
      try {
        messages.push(...reader.push(chunk));
      } catch (error) {
        const e = error as FrameError;
        finish(e.grpcStatus, e.message);
        stream.close(constants.NGHTTP2_CANCEL);
      }
    });
    stream.once("end", () => {
      if (finished) return;
      if (messages.length !== 1 || reader.pending !== 0) {
        return finish(
          GrpcStatus.INVALID_ARGUMENT,
          `expected exactly one request message, got ${messages.length}`,
        );
      }
      let request: unknown;
      try {
        request = fromBinary(method.input, messages[0]!);
      } catch {
        return finish(GrpcStatus.INVALID_ARGUMENT, "the request message could not be decoded");
      }
      const handler = route.handler!;
      if (method.methodKind === "unary") {
        Promise.resolve()
          .then(() => handler(request, call))
          .then((response) => {
            if (finished) return;
            writeMessage(response);
            finish(GrpcStatus.OK, "");
          }, fail);
      } else {
        Promise.resolve()
          .then(() => handler(request, call))
          .then(
            () => finish(GrpcStatus.OK, ""),
            (error) => (call.cancelled ? undefined : fail(error)),
          );
      }
    });
  }
}

function trailersOnly(
  stream: ServerHttp2Stream,
  status: number,
  message: string,
  extra: Record<string, string> = {},
): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    {
      ":status": 200,
      "content-type": GRPC_CONTENT_TYPE,
      "grpc-status": String(status),
      ...(message ? { "grpc-message": encodeGrpcMessage(message) } : {}),
      ...extra,
    },
    { endStream: true },
  );
}
