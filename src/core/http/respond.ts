import { type OutrigError, toHttpError, toOutrigError } from "../../errors/index.ts";
import { type RequestContext, writer } from "./types.ts";

type Headers = Record<string, string | number | string[]>;

/** Whether the response can still be written: not finished and the client still there. */
export function writable(ctx: RequestContext): boolean {
  return !ctx.signal.aborted && !ctx.res.writableEnded;
}

/**
 * Writes head and body. On HTTP/1 a request whose body was not read to the end (refused or
 * ignored) gets `Connection: close`, so Node does not read and discard an unbounded upload.
 */
export function send(
  ctx: RequestContext,
  status: number,
  headers: Headers,
  body?: string | Uint8Array,
): void {
  if (!writable(ctx)) return;
  const res = writer(ctx.res);
  const out: Headers = { ...headers };
  if (ctx.http1 && hasUnreadBody(ctx)) out.connection = "close";
  if (body !== undefined)
    out["content-length"] = typeof body === "string" ? Buffer.byteLength(body) : body.length;
  res.writeHead(status, out);
  res.end(body);
}

function hasUnreadBody(ctx: RequestContext): boolean {
  const { headers } = ctx.req;
  const declared = headers["transfer-encoding"] !== undefined || (headers["content-length"] ?? "0") !== "0";
  return declared && !ctx.req.readableEnded;
}

export function sendJson(ctx: RequestContext, status: number, value: unknown, headers: Headers = {}): void {
  send(ctx, status, { "content-type": "application/json", ...headers }, JSON.stringify(value));
}

/**
 * The error answer: `toHttpError` status, headers and `{"error": envelope}`, the request's
 * correlation id in the envelope. Anything that is not an OutrigError becomes a generic INTERNAL.
 */
export function sendError(ctx: RequestContext, thrown: unknown, headers: Headers = {}): OutrigError {
  const error = toOutrigError(thrown);
  const answer = toHttpError(error);
  answer.body.error.correlationId ??= ctx.correlationId;
  sendJson(ctx, answer.status, answer.body, { ...answer.headers, ...headers });
  return error;
}

/** A header value safe to set: printable ASCII, bounded; else the fallback. */
export function safeHeaderValue(value: string, fallback: string): string {
  return value.length > 0 && value.length <= 256 && /^[\x20-\x7e]+$/.test(value) ? value : fallback;
}
