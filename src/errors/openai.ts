import type { Category } from "./category.ts";
import { categoryOfHttpStatus, httpStatusOf } from "./http.ts";
import { OutrigError, parseEnvelope } from "./outrig-error.ts";

const CATEGORY_TO_OPENAI_TYPE: Record<Category, string> = {
  INVALID_ARGUMENT: "invalid_request_error",
  UNAUTHENTICATED: "authentication_error",
  PERMISSION_DENIED: "permission_error",
  NOT_FOUND: "not_found_error",
  CONFLICT: "conflict_error",
  FAILED_PRECONDITION: "invalid_request_error",
  RATE_LIMITED: "rate_limit_error",
  UNSUPPORTED: "invalid_request_error",
  UNAVAILABLE: "service_unavailable_error",
  UPSTREAM_ERROR: "upstream_error",
  INTERNAL: "server_error",
};

export interface OpenAIErrorBody {
  error: {
    message: string;
    type: string;
    param: string | null;
    /** The reason part of the Outrig code, for example `model_not_found`. */
    code: string;
    /** The full Outrig envelope, for clients that know it; OpenAI clients ignore it. */
    outrig: ReturnType<OutrigError["toEnvelope"]>;
  };
}

/** The OpenAI-compatible error answer: HTTP status plus `{"error": {message, type, param, code}}`. */
export function toOpenAIError(error: OutrigError): { status: number; body: OpenAIErrorBody } {
  const reason = error.code.split(".").at(-1) ?? error.code;
  return {
    status: httpStatusOf(error),
    body: {
      error: {
        message: error.message,
        type: CATEGORY_TO_OPENAI_TYPE[error.category],
        param: error.details.param ?? null,
        code: reason,
        outrig: error.toEnvelope(),
      },
    },
  };
}

/** Reads an OpenAI-style error answer (ours or an upstream's) back into an OutrigError. */
export function fromOpenAIError(status: number, body: unknown): OutrigError {
  const err = (body as { error?: Record<string, unknown> } | null)?.error;
  const envelope = parseEnvelope(err?.outrig);
  if (envelope) return OutrigError.fromEnvelope(envelope);
  const category = categoryOfHttpStatus(status);
  return new OutrigError(category, `openai.response.status_${status}`, undefined, { origin: "upstream" });
}
