import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { CallContext } from "../gen/outrig/module/v1/module_service_pb.ts";
import type { ServerCall } from "../spi/h2/server.ts";
import { isCorrelationId, MD, metadataValue, traceIdOf } from "../spi/metadata.ts";
import type { CancelReason, InvokeContext } from "./types.ts";

/**
 * Builds the handler's context for one call and wires cancellation: the signal aborts
 * with "cancelled" when the caller cancels, "deadline" when the deadline passes (the
 * server cancels the call then), and "shutdown" when a drain deadline aborts the controller.
 */
export function createInvokeContext(
  call: Pick<ServerCall<never>, "metadata" | "deadline" | "on">,
  operation: string,
  context: CallContext | undefined,
  base: { instanceId: string; logger: Logger },
): { ctx: InvokeContext; controller: AbortController } {
  const controller = new AbortController();
  const correlationHeader = metadataValue(call.metadata, MD.correlationId);
  const correlationId = isCorrelationId(correlationHeader) ? correlationHeader : randomUUID();
  const traceId = traceIdOf(metadataValue(call.metadata, MD.traceparent));
  const { deadline } = call;
  call.on("cancelled", () => {
    const reason: CancelReason =
      deadline !== undefined && Date.now() >= deadline - 5 ? "deadline" : "cancelled";
    if (!controller.signal.aborted) controller.abort(reason);
  });
  let logger: Logger | undefined;
  const ctx: InvokeContext = {
    operation,
    instanceId: base.instanceId,
    correlationId,
    traceId,
    contextRef: context?.contextRef ?? "",
    attempt: context?.attempt || 1,
    deadline: deadline === undefined ? undefined : new Date(deadline),
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
  return { ctx, controller };
}
