import type { Category } from "./category.ts";
import { type ErrorEnvelope, OutrigError, parseEnvelope } from "./outrig-error.ts";
import { lookupCode } from "./registry.ts";

const CATEGORY_TO_HTTP: Record<Category, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  FAILED_PRECONDITION: 412,
  RATE_LIMITED: 429,
  UNSUPPORTED: 501,
  UNAVAILABLE: 503,
  UPSTREAM_ERROR: 502,
  INTERNAL: 500,
};

/** HTTP status for an error: the code's registered override, else the category's default. */
export function httpStatusOf(error: Pick<OutrigError, "category" | "code">): number {
  return lookupCode(error.code)?.httpStatus ?? CATEGORY_TO_HTTP[error.category];
}

/** Category for an HTTP status, for peers that send no envelope. */
export function categoryOfHttpStatus(status: number): Category {
  switch (status) {
    case 400:
    case 413:
    case 414:
    case 415:
    case 422:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
    case 410:
      return "NOT_FOUND";
    case 409:
      return "CONFLICT";
    case 412:
    case 428:
      return "FAILED_PRECONDITION";
    case 429:
      return "RATE_LIMITED";
    case 405:
    case 501:
      return "UNSUPPORTED";
    case 499:
    case 503:
    case 504:
      return "UNAVAILABLE";
    case 502:
      return "UPSTREAM_ERROR";
    default:
      return status >= 400 && status < 500 ? "INVALID_ARGUMENT" : "INTERNAL";
  }
}

export interface HttpErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: ErrorEnvelope };
}

/** The HTTP answer for an error: status, `Retry-After` when known, and `{"error": envelope}`. */
export function toHttpError(error: OutrigError): HttpErrorResponse {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (error.retryAfterMs !== undefined && error.retryAfterMs > 0) {
    headers["retry-after"] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
  }
  return { status: httpStatusOf(error), headers, body: { error: error.toEnvelope() } };
}

/** Reads an HTTP error answer back: the envelope when present, else the status's category. */
export function fromHttpError(status: number, body: unknown, retryAfterHeader?: string): OutrigError {
  const envelope = parseEnvelope((body as { error?: unknown } | null)?.error);
  if (envelope) return OutrigError.fromEnvelope(envelope);
  const category = categoryOfHttpStatus(status);
  const retryAfterMs = parseRetryAfter(retryAfterHeader);
  return new OutrigError(category, `http.response.status_${status}`, undefined, {
    origin: "upstream",
    retryAfterMs,
  });
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
