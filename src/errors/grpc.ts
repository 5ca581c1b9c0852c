import { Metadata, type StatusObject } from "@grpc/grpc-js";
import { grpcStatusFor, STATUS_DETAILS_KEY } from "./grpc-status.ts";
import type { OutrigError } from "./outrig-error.ts";

/**
 * The grpc-js status for an error, for servers built on grpc-js (the core's SPI
 * server): pass it to a unary callback or destroy a stream with it.
 */
export function toGrpcStatus(error: OutrigError): Partial<StatusObject> & { code: number } {
  const status = grpcStatusFor(error);
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, status.details);
  return { code: status.code, details: status.message, metadata };
}
