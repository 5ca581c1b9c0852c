import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { CallContext } from "../gen/outrig/module/v1/module_service_pb.ts";
import type { ServerCall } from "../spi/h2/server.ts";
import { MD, metadataValue } from "../spi/metadata.ts";
import type { CancelReason, InvokeContext } from "./types.ts";

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function traceIdOf(traceparent: string | undefined): string | undefined {
  const match = traceparent ? TRACEPARENT.exec(traceparent) : null;
  return match?.[1];
}

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
  const correlationId =
    correlationHeader && CORRELATION_ID.test(correlationHeader) ? correlationHeader : randomUUID();
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
