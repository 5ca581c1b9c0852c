import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyIs, anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import { StatusSchema } from "../gen/google/rpc/status_pb.ts";
import {
  type ErrorEnvelope as ErrorEnvelopePb,
  ErrorEnvelopeSchema,
} from "../gen/outrig/errors/v1/errors_pb.ts";
import {
  type Category,
  categoryFromPb,
  categoryToPb,
  type Origin,
  originFromPb,
  originToPb,
} from "./category.ts";
import { type ErrorEnvelope, genericMessage, OutrigError } from "./outrig-error.ts";
import { sanitizeMessage } from "./sanitize.ts";

/** gRPC status codes, as numbers on the wire (no gRPC library needed). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** Trailer key of the standard rich-error detail (google.rpc.Status). */
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";

const CATEGORY_TO_GRPC: Record<Category, GrpcStatus> = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  CONFLICT: GrpcStatus.ABORTED,
  FAILED_PRECONDITION: GrpcStatus.FAILED_PRECONDITION,
  RATE_LIMITED: GrpcStatus.RESOURCE_EXHAUSTED,
  UNSUPPORTED: GrpcStatus.UNIMPLEMENTED,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  UPSTREAM_ERROR: GrpcStatus.UNKNOWN,
  INTERNAL: GrpcStatus.INTERNAL,
};

export function grpcStatusOf(category: Category): GrpcStatus {
  return CATEGORY_TO_GRPC[category];
}

/** Category for a bare gRPC status code, for peers that send no envelope. */
export function categoryOfGrpcStatus(code: number): Category {
  switch (code) {
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.OUT_OF_RANGE:
      return "INVALID_ARGUMENT";
    case GrpcStatus.UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case GrpcStatus.PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case GrpcStatus.NOT_FOUND:
      return "NOT_FOUND";
    case GrpcStatus.ABORTED:
    case GrpcStatus.ALREADY_EXISTS:
      return "CONFLICT";
    case GrpcStatus.FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return "RATE_LIMITED";
    case GrpcStatus.UNIMPLEMENTED:
      return "UNSUPPORTED";
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.DEADLINE_EXCEEDED:
    case GrpcStatus.CANCELLED:
      return "UNAVAILABLE";
    case GrpcStatus.UNKNOWN:
      return "UPSTREAM_ERROR";
    default:
      return "INTERNAL";
  }
}

export function envelopeToPb(envelope: ErrorEnvelope): ErrorEnvelopePb {
  return create(ErrorEnvelopeSchema, {
    category: categoryToPb(envelope.category),
    code: envelope.code,
    message: envelope.message,
    origin: originToPb(envelope.origin),
    retryable: envelope.retryable,
    retryAfterMs: BigInt(envelope.retryAfterMs ?? 0),
    traceId: envelope.traceId ?? "",
    correlationId: envelope.correlationId ?? "",
    details: envelope.details ?? {},
  });
}

export function envelopeFromPb(pb: ErrorEnvelopePb, fallbackOrigin: Origin = "module"): ErrorEnvelope {
  const category = categoryFromPb(pb.category);
  const envelope: ErrorEnvelope = {
    category,
    code: pb.code,
    message: sanitizeMessage(pb.message, genericMessage(category)),
    origin: pb.origin === 0 ? fallbackOrigin : originFromPb(pb.origin),
    retryable: pb.retryable,
  };
  if (pb.retryAfterMs > 0n) envelope.retryAfterMs = Number(pb.retryAfterMs);
  if (pb.traceId) envelope.traceId = pb.traceId;
  if (pb.correlationId) envelope.correlationId = pb.correlationId;
  if (Object.keys(pb.details).length > 0) envelope.details = { ...pb.details };
  return envelope;
}

/** The status for an error: code, client-safe message, and google.rpc.Status bytes carrying the envelope. */
export function grpcStatusFor(error: OutrigError): { code: GrpcStatus; message: string; details: Buffer } {
  const code = grpcStatusOf(error.category);
  const statusPb = create(StatusSchema, {
    code,
    message: error.message,
    details: [anyPack(ErrorEnvelopeSchema, envelopeToPb(error.toEnvelope()))],
  });
  const bytes = toBinary(StatusSchema, statusPb);
  return {
    code,
    message: error.message,
    details: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  };
}

/** A gRPC client error from any library: grpc-js's ServiceError or the lean client's. */
interface GrpcErrorLike {
  code?: number;
  details?: string;
  metadata?: { get(key: string): unknown[] };
}

/** Reads the envelope out of a gRPC error, if the peer sent one. */
export function envelopeFromGrpcError(
  error: GrpcErrorLike,
  fallbackOrigin: Origin,
): ErrorEnvelope | undefined {
  const raw = error.metadata?.get(STATUS_DETAILS_KEY)[0];
  if (!(raw instanceof Uint8Array)) return undefined;
  try {
    const statusPb = fromBinary(StatusSchema, raw);
    for (const detail of statusPb.details) {
      if (anyIs(detail, ErrorEnvelopeSchema)) {
        const pb = anyUnpack(detail, ErrorEnvelopeSchema);
        if (pb) return envelopeFromPb(pb, fallbackOrigin);
      }
    }
  } catch {
    // A malformed detail is treated as absent.
  }
  return undefined;
}

/**
 * Turns a gRPC client error into an OutrigError: the peer's envelope when it sent
 * one, otherwise a category derived from the status code with a generic message
 * (a bare peer's text is never relayed).
 */
export function fromGrpcError(error: unknown, fallbackOrigin: Origin = "module"): OutrigError {
  if (error instanceof OutrigError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as GrpcErrorLike;
  const envelope = envelopeFromGrpcError(e, fallbackOrigin);
  if (envelope) return OutrigError.fromEnvelope(envelope);
  const code = typeof e.code === "number" ? e.code : GrpcStatus.UNKNOWN;
  switch (code) {
    case GrpcStatus.DEADLINE_EXCEEDED:
      return OutrigError.fromCode("spi.invoke.deadline_exceeded", { origin: "core", cause: error });
    case GrpcStatus.CANCELLED:
      return OutrigError.fromCode("spi.invoke.cancelled", { origin: "core", cause: error });
    case GrpcStatus.UNAVAILABLE:
      return OutrigError.fromCode("core.invoke.module_unavailable", { origin: "core", cause: error });
    default: {
      const category = categoryOfGrpcStatus(code);
      return new OutrigError(category, `spi.status.${category.toLowerCase()}`, genericMessage(category), {
        origin: fallbackOrigin,
        cause: error,
      });
    }
  }
}
