import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { envelopeFromPb, fromGrpcError, OutrigError } from "../../errors/index.ts";
import type { OperationDescriptor } from "../../gen/outrig/module/v1/descriptor_pb.ts";
import type { InvokeStreamResponse, Usage } from "../../gen/outrig/module/v1/module_service_pb.ts";
import { MD } from "../../spi/metadata.ts";
import { type SpanHandle, SpanKind, type Tracing } from "../../telemetry/tracing.ts";
import type { CoreMetrics } from "../metrics.ts";
import type { ModuleInstance } from "../supervisor/instance.ts";
import type { ModuleGroup } from "../supervisor/module-group.ts";
import type { Invoker, RouteRequest, RouteResult, StreamEvent } from "../types.ts";

/** Errors that guarantee the module did not run the operation: always safe to send again. */
const NOT_EXECUTED = new Set([
  "spi.invoke.draining",
  "spi.lifecycle.not_initialized",
  "spi.invoke.overloaded",
]);

export interface RouterDeps {
  metrics: CoreMetrics;
  tracing: Tracing;
  logger: Logger;
  groups: (moduleId: string) => ModuleGroup | undefined;
}

interface Prepared {
  group: ModuleGroup;
  op: OperationDescriptor;
  correlationId: string;
  span: SpanHandle;
  deadline: number;
  maxAttempts: number;
}

/**
 * The core's client side of Invoke and InvokeStream: picks an instance (least
 * outstanding requests), propagates the deadline, correlation id and trace context,
 * cancels the module call when the caller goes away, retries only what is safe, and
 * holds modules to the streaming contract.
 */
export class Router implements Invoker {
  constructor(private readonly deps: RouterDeps) {}

  #prepare(req: RouteRequest, streaming: boolean): Prepared {
    const group = this.deps.groups(req.moduleId);
    if (!group) throw OutrigError.fromCode("core.invoke.module_not_found");
    const source = group.descriptorSource;
    if (!source?.descriptor) throw unavailable(group);
    const op = source.operation(req.operation);
    if (!op) throw OutrigError.fromCode("core.invoke.operation_not_found");
    if (op.streaming !== streaming) throw OutrigError.fromCode("spi.invoke.wrong_rpc", { origin: "core" });
    // The ingress validated it (correlationIdOf); callers without one get a fresh id.
    const correlationId = req.correlationId || randomUUID();
    const parent = this.deps.tracing.extract({ traceparent: req.traceparent, tracestate: req.tracestate });
    const span = this.deps.tracing.startSpan(`outrig.invoke ${req.moduleId}/${req.operation}`, {
      kind: SpanKind.CLIENT,
      parent,
      attributes: {
        "outrig.module.id": req.moduleId,
        "outrig.operation": req.operation,
        "outrig.correlation_id": correlationId,
      },
    });
    const timeout = op.timeoutMs || group.config.timeouts.invoke_ms;
    const deadline = Math.min(req.deadline ?? Number.POSITIVE_INFINITY, Date.now() + timeout);
    return { group, op, correlationId, span, deadline, maxAttempts: group.config.retry.max_attempts };
  }

  #metadata(p: Prepared): Record<string, string> {
    const headers = p.span.headers();
    headers[MD.correlationId] = p.correlationId;
    return headers;
  }

  #shouldRetry(error: OutrigError, p: Prepared, attempt: number): boolean {
    if (attempt >= p.maxAttempts || Date.now() >= p.deadline) return false;
    if (NOT_EXECUTED.has(error.code)) return true;
    return (
      p.op.idempotent &&
      error.retryable &&
      error.category === "UNAVAILABLE" &&
      error.code !== "spi.invoke.deadline_exceeded"
    );
  }

  #finish(error: OutrigError, p: Prepared): OutrigError {
    error.correlationId ??= p.correlationId;
    error.traceId ??= p.span.traceId;
    p.span.end({ code: error.code, category: error.category });
    return error;
  }

  async invoke(req: RouteRequest): Promise<RouteResult> {
    const p = this.#prepare(req, false);
    const tried = new Set<ModuleInstance>();
    for (let attempt = 1; ; attempt++) {
      const instance = p.group.pick(tried) ?? p.group.pick();
      if (!instance?.client) throw this.#finish(unavailable(p.group), p);
      if (req.signal?.aborted) throw this.#finish(OutrigError.fromCode("core.invoke.cancelled"), p);
      instance.begin();
      this.deps.metrics.inFlight.inc({ module: p.group.id });
      const started = performance.now();
      try {
        const res = await instance.client.unary(
          "invoke",
          {
            operation: req.operation,
            payload: req.payload,
            contentType: req.contentType,
            context: { contextRef: req.contextRef ?? "", attempt, attributes: req.attributes ?? {} },
          },
          { deadline: p.deadline, signal: req.signal, metadata: this.#metadata(p) },
        );
        this.#observe(p, "Invoke", started, "ok");
        p.span.end();
        return {
          payload: res.payload,
          contentType: res.contentType,
          instanceId: instance.id,
        };
      } catch (thrown) {
        const error = req.signal?.aborted
          ? OutrigError.fromCode("core.invoke.cancelled")
          : this.#translate(fromGrpcError(thrown, "module"));
        this.#observe(p, "Invoke", started, error.code);
        if (req.signal?.aborted || !this.#shouldRetry(error, p, attempt)) throw this.#finish(error, p);
        tried.add(instance);
        this.deps.metrics.retries.inc({ module: p.group.id, code: error.code });
        await pause(Math.min(25 * attempt, Math.max(0, p.deadline - Date.now())));
      } finally {
        instance.end();
        this.deps.metrics.inFlight.dec({ module: p.group.id });
      }
    }
  }

  /** A module-side deadline error seen by the core becomes the core's own code. */
  #translate(error: OutrigError): OutrigError {
    if (error.code === "spi.invoke.deadline_exceeded") {
      return OutrigError.fromCode("core.invoke.deadline_exceeded", { origin: error.origin });
    }
    return error;
  }

  #observe(p: Prepared, rpc: string, started: number, outcome: string): void {
    this.deps.metrics.spiDuration.observe(
      { module: p.group.id, rpc, outcome },
      (performance.now() - started) / 1000,
    );
  }

  async *invokeStream(req: RouteRequest): AsyncGenerator<StreamEvent> {
    let p: Prepared;
    try {
      p = this.#prepare(req, true);
    } catch (error) {
      yield { type: "error", error: error as OutrigError };
      return;
    }
    const tried = new Set<ModuleInstance>();
    for (let attempt = 1; ; attempt++) {
      const instance = p.group.pick(tried) ?? p.group.pick();
      if (!instance?.client) {
        yield { type: "error", error: this.#finish(unavailable(p.group), p) };
        return;
      }
      if (req.signal?.aborted) {
        yield { type: "error", error: this.#finish(OutrigError.fromCode("core.invoke.cancelled"), p) };
        return;
      }
      const outcome = yield* this.#streamOnce(req, p, instance, attempt);
      if (outcome === "done") return;
      tried.add(instance);
      this.deps.metrics.retries.inc({ module: p.group.id, code: outcome.code });
      await pause(Math.min(25 * attempt, Math.max(0, p.deadline - Date.now())));
    }
  }

  /**
   * One attempt. Returns "done" after a terminal event, or the error when the attempt
   * failed before `started` in a way that is safe to retry.
   */
  async *#streamOnce(
    req: RouteRequest,
    p: Prepared,
    instance: ModuleInstance,
    attempt: number,
  ): AsyncGenerator<StreamEvent, "done" | OutrigError> {
    instance.begin();
    this.deps.metrics.inFlight.inc({ module: p.group.id });
    const startedAt = performance.now();
    const call = instance.client!.serverStream(
      "invokeStream",
      {
        operation: req.operation,
        payload: req.payload,
        contentType: req.contentType,
        context: { contextRef: req.contextRef ?? "", attempt, attributes: req.attributes ?? {} },
      },
      { deadline: p.deadline, metadata: this.#metadata(p) },
    );
    let cancelled = false;
    const onAbort = () => {
      cancelled = true;
      call.cancel();
    };
    req.signal?.addEventListener("abort", onAbort, { once: true });
    let started = false;
    let terminal = false;
    const violation = (what: string): StreamEvent => {
      terminal = true;
      call.cancel();
      this.deps.logger.warn(
        { module_id: p.group.id, instance_id: instance.id, violation: what },
        "stream contract broken",
      );
      const error = OutrigError.fromCode("spi.stream.protocol_violation", { origin: "module" });
      this.#observe(p, "InvokeStream", startedAt, error.code);
      return { type: "error", error: this.#finish(error, p) };
    };
    const cancelledEnd = (): StreamEvent => {
      terminal = true;
      this.#observe(p, "InvokeStream", startedAt, "cancelled");
      p.span.end({ code: "core.invoke.cancelled", category: "UNAVAILABLE" });
      return { type: "end", cancelled: true, usage: { inputTokens: 0, outputTokens: 0, counters: {} } };
    };
    try {
      if (req.signal?.aborted) onAbort();
      const contract = new StreamContract();
      let broken: string | undefined;
      for await (const message of call as AsyncIterable<InvokeStreamResponse>) {
        if (cancelled) break;
        const event = message.event;
        broken = contract.violation(event);
        if (broken) break;
        if (event.case === "started") {
          started = true;
          yield {
            type: "started",
            contentType: event.value.contentType,
            instanceId: instance.id,
            correlationId: p.correlationId,
            traceId: p.span.traceId,
          };
        } else if (event.case === "chunk") {
          yield { type: "chunk", sequence: Number(event.value.sequence), payload: event.value.payload };
        } else if (event.case === "end") {
          terminal = true;
          call.cancel();
          this.#observe(p, "InvokeStream", startedAt, "ok");
          p.span.end();
          yield { type: "end", cancelled: event.value.cancelled, usage: usageOf(event.value.usage) };
          return "done";
        } else if (event.case === "error") {
          terminal = true;
          call.cancel();
          const outrig = OutrigError.fromEnvelope(envelopeFromPb(event.value, "module"));
          this.#observe(p, "InvokeStream", startedAt, outrig.code);
          yield { type: "error", error: this.#finish(outrig, p) };
          return "done";
        }
      }
      if (broken) {
        yield violation(broken);
      } else if (cancelled) {
        yield cancelledEnd();
      } else {
        yield violation("the stream closed without a terminal event");
      }
      return "done";
    } catch (thrown) {
      if (cancelled || req.signal?.aborted) {
        if (!terminal) yield cancelledEnd();
        return "done";
      }
      const error = this.#translate(fromGrpcError(thrown, "module"));
      if (!started && this.#shouldRetry(error, p, attempt)) {
        this.#observe(p, "InvokeStream", startedAt, error.code);
        return error;
      }
      this.#observe(p, "InvokeStream", startedAt, error.code);
      yield { type: "error", error: this.#finish(error, p) };
      return "done";
    } finally {
      req.signal?.removeEventListener("abort", onAbort);
      if (!terminal) call.cancel();
      instance.end();
      this.deps.metrics.inFlight.dec({ module: p.group.id });
    }
  }
}

/** Holds a module's stream to the contract: `started` first, chunks 1, 2, 3…, then a terminal event. */
class StreamContract {
  #started = false;
  #expected = 1n;

  /** What is wrong with the next event, or undefined when it is allowed. */
  violation(event: InvokeStreamResponse["event"]): string | undefined {
    switch (event.case) {
      case "started":
        if (this.#started) return "a second started event";
        this.#started = true;
        return undefined;
      case "chunk":
        if (!this.#started) return "a chunk before started";
        if (event.value.sequence !== this.#expected) {
          return `chunk sequence ${event.value.sequence}, expected ${this.#expected}`;
        }
        this.#expected++;
        return undefined;
      case "end":
        return this.#started ? undefined : "end before started";
      case "error":
        return undefined;
      default:
        return "an empty event";
    }
  }
}

function usageOf(usage: Usage | undefined): Extract<StreamEvent, { type: "end" }>["usage"] {
  return {
    inputTokens: Number(usage?.inputTokens ?? 0n),
    outputTokens: Number(usage?.outputTokens ?? 0n),
    counters: Object.fromEntries(Object.entries(usage?.counters ?? {}).map(([k, v]) => [k, Number(v)])),
  };
}

function unavailable(group: ModuleGroup): OutrigError {
  if (group.state === "failed") return OutrigError.fromCode("core.invoke.module_failed");
  const retryAfterMs = group.nextRestartInMs ?? 1000;
  return OutrigError.fromCode("core.invoke.module_unavailable", { retryAfterMs });
}

function pause(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
