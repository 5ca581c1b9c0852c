import type { Category } from "./category.ts";
import { OutrigError, parseEnvelope } from "./outrig-error.ts";

/** JSON-RPC 2.0 reserved codes for transport-level failures. */
export const JSONRPC_PARSE_ERROR = -32700;
export const JSONRPC_INVALID_REQUEST = -32600;
export const JSONRPC_METHOD_NOT_FOUND = -32601;
export const JSONRPC_INVALID_PARAMS = -32602;
export const JSONRPC_INTERNAL_ERROR = -32603;

/**
 * One JSON-RPC code per category. The standard codes are used where JSON-RPC has
 * one; the rest are in the server-defined range (-32000 to -32099), following the
 * MCP gateway precedent (-32002 not found, -32003 access denied).
 */
const CATEGORY_TO_JSONRPC: Record<Category, number> = {
  INVALID_ARGUMENT: JSONRPC_INVALID_PARAMS,
  UNAUTHENTICATED: -32001,
  PERMISSION_DENIED: -32003,
  NOT_FOUND: -32002,
  CONFLICT: -32004,
  FAILED_PRECONDITION: -32005,
  RATE_LIMITED: -32029,
  UNSUPPORTED: JSONRPC_METHOD_NOT_FOUND,
  UNAVAILABLE: -32000,
  UPSTREAM_ERROR: -32010,
  INTERNAL: JSONRPC_INTERNAL_ERROR,
};

export function jsonRpcCodeOf(category: Category): number {
  return CATEGORY_TO_JSONRPC[category];
}

export function categoryOfJsonRpcCode(code: number): Category {
  if (code === JSONRPC_PARSE_ERROR || code === JSONRPC_INVALID_REQUEST) return "INVALID_ARGUMENT";
  for (const [category, value] of Object.entries(CATEGORY_TO_JSONRPC)) {
    if (value === code) return category as Category;
  }
  return code <= -32000 && code >= -32099 ? "UNAVAILABLE" : "INTERNAL";
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data: {
    category: Category;
    code: string;
    origin: string;
    retryable: boolean;
    retryAfterMs?: number;
    traceId?: string;
    correlationId?: string;
    details?: Record<string, string>;
  };
}

/**
 * The JSON-RPC `error` member for an error. MCP and A2A send it with HTTP 200 unless
 * the failure is at the transport (see docs/errors.md).
 */
export function toJsonRpcError(error: OutrigError): JsonRpcErrorObject {
  return { code: jsonRpcCodeOf(error.category), message: error.message, data: error.toEnvelope() };
}

/** Reads a JSON-RPC error back: the envelope in `data` when present, else the code's category. */
export function fromJsonRpcError(value: unknown): OutrigError {
  const obj = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const envelope = parseEnvelope(obj.data);
  if (envelope) return OutrigError.fromEnvelope(envelope);
  const code = typeof obj.code === "number" ? obj.code : JSONRPC_INTERNAL_ERROR;
  const category = categoryOfJsonRpcCode(code);
  return new OutrigError(category, `jsonrpc.response.code_${Math.abs(code)}`, undefined, {
    origin: "upstream",
  });
}
