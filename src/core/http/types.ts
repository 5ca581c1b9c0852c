import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Logger } from "pino";
import type { CoreMetrics } from "../metrics.ts";
import type { Invoker, ModuleAdmin, Readiness } from "../types.ts";

/** What the public listener needs from the rest of the core. */
export interface HttpServerDeps {
  invoker: Invoker;
  admin: ModuleAdmin;
  readiness: () => Readiness;
  metrics: CoreMetrics;
  logger: Logger;
  /** Largest request body accepted, in bytes (`server.max_body_bytes`). */
  maxBodyBytes: number;
}

/** One handler serves both protocols through the http2 compatibility API. */
export type HttpRequest = IncomingMessage | Http2ServerRequest;
export type HttpResponse = ServerResponse | Http2ServerResponse;

/** The writing surface both response classes share (their overloads do not unify in TypeScript). */
export interface ResponseWriter {
  writeHead(status: number, headers: Record<string, string | number | string[]>): unknown;
  write(chunk: string | Uint8Array): boolean;
  end(chunk?: string | Uint8Array): unknown;
}

export function writer(res: HttpResponse): ResponseWriter {
  return res as unknown as ResponseWriter;
}

/** Per-request state handed to a route handler. */
export interface RequestContext {
  req: HttpRequest;
  res: HttpResponse;
  /** Decoded path parameters of the matched route template. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Echoed on every response as `X-Correlation-Id`. */
  correlationId: string;
  remoteAddress: string | undefined;
  /** HTTP/1.x: connection headers are allowed (they are forbidden in HTTP/2). */
  http1: boolean;
  /** Aborted when the client goes away before the response is complete. */
  signal: AbortSignal;
}

export type RouteHandler = (ctx: RequestContext) => Promise<void>;
