import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Logger } from "pino";
import type { PeerCertificate } from "../../authority/mtls.ts";
import type { OutrigError } from "../../errors/index.ts";
import type { AccessGate } from "../auth/access-gate.ts";
import type { CoreMetrics } from "../metrics.ts";
import type { Invoker, ModuleAdmin, Readiness } from "../types.ts";
import type { ListenerTls } from "./listener.ts";

/** What the public listener needs from the rest of the core. */
export interface HttpServerDeps {
  invoker: Invoker;
  admin: ModuleAdmin;
  readiness: () => Readiness;
  metrics: CoreMetrics;
  logger: Logger;
  /** Largest request body accepted, in bytes (`server.max_body_bytes`). */
  maxBodyBytes: number;
  /** Decides every invoke and admin request before it runs. */
  gate: AccessGate;
  /** HTTPS on the public port (and client certificates when it asks for them). */
  tls?: ListenerTls;
  /** Policy reloads and revocations for the admin API. */
  authorityAdmin: AuthorityAdmin;
}

/** The authority's operations the admin API exposes. */
export interface AuthorityAdmin {
  /** Re-reads the policy files; an invalid set is refused and the old one stays in force. */
  reloadPolicies(): Promise<
    { ok: true; epoch: number; policies: number } | { ok: false; error: OutrigError; diagnostics: unknown[] }
  >;
  /** Revokes a token (by `jti`), an API key (by id), or everything a subject holds now. */
  revoke(what: { jti?: string; apiKeyId?: string; subject?: string }): void;
}

/** An error answer that needs extra response headers (a `WWW-Authenticate` challenge). */
export class HttpFailure extends Error {
  constructor(
    readonly error: OutrigError,
    readonly headers: Record<string, string>,
  ) {
    super(error.message);
  }
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
  /** The raw query string, without `?` (most routes take none). */
  search: string;
  /** Echoed on every response as `X-Correlation-Id`. */
  correlationId: string;
  remoteAddress: string | undefined;
  /** HTTP/1.x: connection headers are allowed (they are forbidden in HTTP/2). */
  http1: boolean;
  /** Aborted when the client goes away before the response is complete. */
  signal: AbortSignal;
  /** The client certificate the TLS layer verified, when there is one. */
  peer?: PeerCertificate;
}

export type RouteHandler = (ctx: RequestContext) => Promise<void>;
