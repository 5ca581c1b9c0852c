import { randomUUID } from "node:crypto";
import {
  createServer as createHttp1Server,
  type IncomingMessage,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import { createServer as createHttp2Server } from "node:http2";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { PeerCertificate } from "../../authority/mtls.ts";
import { OutrigError, toHttpError } from "../../errors/index.ts";
import { enforce } from "./access.ts";
import { DualProtocolListener } from "./listener.ts";
import { correlationIdOf } from "./request-headers.ts";
import { sendError } from "./respond.ts";
import { Router, requestTarget } from "./router.ts";
import { registerAdminRoutes } from "./routes/admin.ts";
import { registerAuthorityRoutes } from "./routes/authority-admin.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerInvokeRoute } from "./routes/invoke.ts";
import { registerStreamRoute } from "./routes/stream.ts";
import {
  HttpFailure,
  type HttpRequest,
  type HttpResponse,
  type HttpServerDeps,
  type RequestContext,
} from "./types.ts";

export type { HttpServerDeps } from "./types.ts";

export interface HttpServer {
  /** Binds the public listener; port 0 picks a free one. Resolves to the bound port. */
  listen(host: string, port: number): Promise<{ port: number }>;
  /**
   * Graceful stop: no new connections, in-flight requests may finish for `deadlineMs`
   * milliseconds, then every remaining connection is destroyed (which aborts its module calls).
   */
  close(deadlineMs: number): Promise<void>;
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const HEADER_LIMIT_BYTES = 16 * 1024;
const MAX_STREAMS_PER_CONNECTION = 256;

/** The core's public listener: ingress, admin API, health and metrics on one port, HTTP/1.1 and h2c. */
export function createHttpServer(deps: HttpServerDeps): HttpServer {
  const router = new Router();
  // Read at request time only, by when the listener exists.
  const closing = () => listener.closing;
  registerHealthRoutes(router, deps, closing);
  registerAdminRoutes(router, deps);
  registerAuthorityRoutes(router, deps);
  registerInvokeRoute(router, deps);
  registerStreamRoute(router, deps);

  const handle = (req: HttpRequest, res: HttpResponse) => {
    dispatch(router, deps, closing, req, res).catch((error: unknown) => {
      deps.logger.error({ err: error }, "http handler failed");
      res.destroy();
    });
  };
  const h1 = createHttp1Server({ maxHeaderSize: HEADER_LIMIT_BYTES }, handle);
  h1.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket));
  // `Expect: 100-continue`: invite the body only when its declared size is acceptable, so an
  // oversized upload is refused before it is sent.
  h1.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (!(Number(req.headers["content-length"] ?? 0) > deps.maxBodyBytes)) res.writeContinue();
    handle(req, res);
  });
  // Node's default allows unlimited concurrent streams per connection.
  const h2 = createHttp2Server({ settings: { maxConcurrentStreams: MAX_STREAMS_PER_CONNECTION } }, handle);
  h2.on("sessionError", (error) => deps.logger.debug({ err: error }, "http2 session error"));
  const listener = new DualProtocolListener(h1, h2, deps.tls);

  return {
    listen: (host, port) => listener.listen(host, port),
    close: (deadlineMs) => listener.close(deadlineMs),
  };
}

async function dispatch(
  router: Router,
  deps: HttpServerDeps,
  closing: () => boolean,
  req: HttpRequest,
  res: HttpResponse,
): Promise<void> {
  const startedAt = process.hrtime.bigint();
  const method = req.method ?? "GET";
  const controller = new AbortController();
  let template = "unmatched";
  res.on("error", () => {});
  res.once("close", () => {
    // Not `finish`: the http2 compat layer emits it for a reset stream too. What counts is
    // whether the response was ended before the connection or stream went away.
    const completed = res.writableEnded;
    if (!completed) controller.abort();
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    const status = completed ? String(res.statusCode) : "aborted";
    deps.metrics.httpDuration.observe(
      { route: template, method: METHODS.has(method) ? method : "other", status },
      seconds,
    );
  });

  const ctx: RequestContext = {
    req,
    res,
    params: {},
    search: "",
    correlationId: correlationIdOf(req),
    remoteAddress: req.socket?.remoteAddress,
    http1: req.httpVersionMajor === 1,
    signal: controller.signal,
  };
  const peer = verifiedPeer(req);
  if (peer) ctx.peer = peer;
  res.setHeader("x-correlation-id", ctx.correlationId);
  // A keep-alive connection that sends a request while the core is stopping is not reused.
  if (ctx.http1 && closing()) res.setHeader("connection", "close");

  try {
    const target = requestTarget(req.url);
    ctx.search = target.search;
    const match = router.match(method, target.path);
    if (target.path === "/admin" || target.path.startsWith("/admin/")) {
      // Every admin call needs module.manage (on the module, or on all modules).
      const moduleId = match.kind === "found" ? match.params.module : undefined;
      await enforce(
        deps.gate.admin({
          headers: req.headers,
          correlationId: ctx.correlationId,
          ...(ctx.remoteAddress ? { clientIp: ctx.remoteAddress } : {}),
          ...(moduleId ? { moduleId } : {}),
          ...(ctx.peer ? { peer: ctx.peer } : {}),
        }),
      );
    }
    if (match.kind === "not_found") throw OutrigError.fromCode("core.route.not_found");
    template = match.template;
    if (match.kind === "method_not_allowed") {
      sendError(ctx, OutrigError.fromCode("core.route.method_not_allowed"), {
        allow: match.allow.join(", "),
      });
      return;
    }
    ctx.params = match.params;
    await match.handler(ctx);
  } catch (thrown) {
    if (res.headersSent) {
      // Mid-stream: nothing sane can be written any more.
      res.destroy();
      return;
    }
    const error =
      thrown instanceof HttpFailure ? sendError(ctx, thrown.error, thrown.headers) : sendError(ctx, thrown);
    if (error.category === "INTERNAL" && error.origin === "core") {
      deps.logger.error(
        { err: thrown, route: template, correlation_id: ctx.correlationId },
        "request failed",
      );
    }
  } finally {
    // Guarded: building the line costs on every request even when debug is off.
    if (deps.logger.isLevelEnabled("debug")) {
      deps.logger.debug(
        {
          method,
          route: template,
          status: res.statusCode,
          correlation_id: ctx.correlationId,
          duration_ms: Number(process.hrtime.bigint() - startedAt) / 1e6,
        },
        "http request",
      );
    }
  }
}

/** The client certificate of a TLS connection, when the handshake verified one. */
function verifiedPeer(req: HttpRequest): PeerCertificate | undefined {
  const socket = req.socket as TLSSocket | undefined;
  if (!socket?.encrypted || !socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert?.fingerprint256) return undefined;
  const cn = cert.subject?.CN;
  return {
    ...(typeof cn === "string" ? { cn } : {}),
    sans: (cert.subjectaltname ?? "").split(", ").filter(Boolean),
    fingerprint256: cert.fingerprint256,
  };
}

/**
 * A request Node's HTTP/1 parser refused (bad syntax, oversized headers, too slow): answered
 * with the envelope like any other error, then the connection is closed.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || error.code === "ECONNRESET") {
    socket.destroy();
    return;
  }
  const code =
    error.code === "HPE_HEADER_OVERFLOW"
      ? "core.request.headers_too_large"
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? "core.request.timeout"
        : "core.request.malformed";
  const correlationId = randomUUID();
  const answer = toHttpError(OutrigError.fromCode(code, { correlationId }));
  const body = JSON.stringify(answer.body);
  socket.end(
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? "Bad Request"}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `x-correlation-id: ${correlationId}\r\nconnection: close\r\n\r\n${body}`,
  );
}
