import { type Category, defaultRetryable, isCategory, isOrigin, type Origin } from "./category.ts";
import "./codes.ts";
import { lookupCode } from "./registry.ts";
import { isValidCode, sanitizeMessage } from "./sanitize.ts";

/** The error envelope of the design, as a plain JSON-friendly object. */
export interface ErrorEnvelope {
  category: Category;
  code: string;
  message: string;
  origin: Origin;
  retryable: boolean;
  retryAfterMs?: number;
  traceId?: string;
  correlationId?: string;
  details?: Record<string, string>;
}

export interface OutrigErrorOptions {
  origin?: Origin;
  retryable?: boolean;
  retryAfterMs?: number;
  traceId?: string;
  correlationId?: string;
  details?: Record<string, string>;
  /** The underlying failure. Kept for logs; never serialized to a client. */
  cause?: unknown;
}

const GENERIC_MESSAGE: Record<Category, string> = {
  INVALID_ARGUMENT: "The request is invalid.",
  UNAUTHENTICATED: "Authentication is required.",
  PERMISSION_DENIED: "Access denied.",
  NOT_FOUND: "Not found.",
  CONFLICT: "The request conflicts with the current state.",
  FAILED_PRECONDITION: "The operation cannot run in the current state.",
  RATE_LIMITED: "Rate limit exceeded.",
  UNSUPPORTED: "This operation is not supported.",
  UNAVAILABLE: "The service is temporarily unavailable.",
  UPSTREAM_ERROR: "An upstream service failed.",
  INTERNAL: "Internal error.",
};

/** A message that is always safe to show for a category. */
export function genericMessage(category: Category): string {
  return GENERIC_MESSAGE[category];
}

/**
 * An error that carries the Outrig envelope. Throw it from handlers and core code;
 * anything else that escapes becomes INTERNAL with a generic message.
 */
export class OutrigError extends Error {
  readonly category: Category;
  readonly code: string;
  readonly origin: Origin;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly details: Readonly<Record<string, string>>;
  traceId: string | undefined;
  correlationId: string | undefined;

  constructor(category: Category, code: string, message?: string, options: OutrigErrorOptions = {}) {
    const registered = lookupCode(code);
    const safeMessage = sanitizeMessage(message ?? registered?.message, GENERIC_MESSAGE[category]);
    super(safeMessage, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "OutrigError";
    this.category = category;
    this.code = isValidCode(code) ? code : `core.error.${category.toLowerCase()}`;
    this.origin = options.origin ?? "core";
    this.retryable = options.retryable ?? registered?.retryable ?? defaultRetryable(category);
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details ?? {};
    this.traceId = options.traceId;
    this.correlationId = options.correlationId;
  }

  /** Builds an error from a registered code, taking category, message and retryability from the registry. */
  static fromCode(code: string, options: OutrigErrorOptions & { message?: string } = {}): OutrigError {
    const registered = lookupCode(code);
    if (!registered) throw new Error(`unregistered error code: ${code}`);
    return new OutrigError(registered.category, code, options.message ?? registered.message, options);
  }

  toEnvelope(): ErrorEnvelope {
    const envelope: ErrorEnvelope = {
      category: this.category,
      code: this.code,
      message: this.message,
      origin: this.origin,
      retryable: this.retryable,
    };
    if (this.retryAfterMs !== undefined && this.retryAfterMs > 0) envelope.retryAfterMs = this.retryAfterMs;
    if (this.traceId) envelope.traceId = this.traceId;
    if (this.correlationId) envelope.correlationId = this.correlationId;
    if (Object.keys(this.details).length > 0) envelope.details = { ...this.details };
    return envelope;
  }

  static fromEnvelope(envelope: ErrorEnvelope): OutrigError {
    return new OutrigError(envelope.category, envelope.code, envelope.message, {
      origin: envelope.origin,
      retryable: envelope.retryable,
      retryAfterMs: envelope.retryAfterMs,
      traceId: envelope.traceId,
      correlationId: envelope.correlationId,
      details: envelope.details,
    });
  }
}

/**
 * Turns anything thrown into an OutrigError. An OutrigError passes through; any other
 * value becomes INTERNAL with a generic message, the original kept only as `cause`
 * (for logs), so internal library text never reaches a client.
 */
export function toOutrigError(error: unknown, fallbackCode = "core.internal.unexpected"): OutrigError {
  if (error instanceof OutrigError) return error;
  return new OutrigError("INTERNAL", fallbackCode, GENERIC_MESSAGE.INTERNAL, { cause: error });
}

/** Validates an untrusted JSON value as an envelope (for example from a peer's HTTP body). */
export function parseEnvelope(value: unknown): ErrorEnvelope | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (!isCategory(v.category) || typeof v.code !== "string") return undefined;
  const envelope: ErrorEnvelope = {
    category: v.category,
    code: v.code,
    message: sanitizeMessage(v.message, GENERIC_MESSAGE[v.category]),
    origin: isOrigin(v.origin) ? v.origin : "core",
    retryable: typeof v.retryable === "boolean" ? v.retryable : defaultRetryable(v.category),
  };
  const retryAfter = v.retryAfterMs ?? v.retry_after_ms;
  if (typeof retryAfter === "number" && Number.isFinite(retryAfter) && retryAfter > 0) {
    envelope.retryAfterMs = Math.floor(retryAfter);
  }
  const traceId = v.traceId ?? v.trace_id;
  if (typeof traceId === "string" && /^[0-9a-f]{32}$/.test(traceId)) envelope.traceId = traceId;
  const correlationId = v.correlationId ?? v.correlation_id;
  if (typeof correlationId === "string" && correlationId.length <= 128)
    envelope.correlationId = correlationId;
  return envelope;
}
