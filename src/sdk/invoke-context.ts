import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { CallContext } from "../gen/outrig/module/v1/module_service_pb.ts";
import { MD, type MetadataLike, metadataValue } from "../spi/metadata.ts";
import type { CancelReason, InvokeContext } from "./types.ts";

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function traceIdOf(traceparent: string | undefined): string | undefined {
  const match = traceparent ? TRACEPARENT.exec(traceparent) : null;
  return match?.[1];
}

/** The parts of a grpc-js server call the context needs. */
export interface ServerCallLike {
  readonly metadata: MetadataLike;
  getDeadline(): Date | number;
  on(event: "cancelled", listener: () => void): unknown;
}

function deadlineOf(call: ServerCallLike): Date | undefined {
  const deadline = call.getDeadline();
  if (deadline instanceof Date) return deadline;
  if (typeof deadline === "number" && Number.isFinite(deadline)) return new Date(deadline);
  return undefined;
}

/**
 * Builds the handler's context for one call and wires cancellation: the signal aborts
 * with "cancelled" when the caller cancels, "deadline" when the deadline passes, and
 * "shutdown" when `abortAll` runs at a drain deadline.
 */
export function createInvokeContext(
  call: ServerCallLike,
  operation: string,
  context: CallContext | undefined,
  base: { instanceId: string; logger: Logger },
): { ctx: InvokeContext; controller: AbortController; dispose: () => void } {
  const controller = new AbortController();
  const correlationHeader = metadataValue(call.metadata, MD.correlationId);
  const correlationId =
    correlationHeader && CORRELATION_ID.test(correlationHeader) ? correlationHeader : randomUUID();
  const traceId = traceIdOf(metadataValue(call.metadata, MD.traceparent));
  const deadline = deadlineOf(call);
  const abort = (reason: CancelReason) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  call.on("cancelled", () =>
    abort(deadline && Date.now() >= deadline.getTime() - 5 ? "deadline" : "cancelled"),
  );
  let timer: NodeJS.Timeout | undefined;
  if (deadline) {
    timer = setTimeout(() => abort("deadline"), Math.max(0, deadline.getTime() - Date.now()));
    timer.unref();
  }
  let logger: Logger | undefined;
  const ctx: InvokeContext = {
    operation,
    instanceId: base.instanceId,
    correlationId,
    traceId,
    contextRef: context?.contextRef ?? "",
    attempt: context?.attempt || 1,
    deadline,
    signal: controller.signal,
    // A child logger costs more than a small handler; build it only when a handler logs.
    get logger() {
      logger ??= base.logger.child({
        operation,
        correlation_id: correlationId,
        ...(traceId ? { trace_id: traceId } : {}),
      });
      return logger;
    },
  };
  return { ctx, controller, dispose: () => clearTimeout(timer) };
}
