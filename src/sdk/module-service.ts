import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { envelopeToPb } from "../errors/grpc-status.ts";
import { OutrigError, toOutrigError } from "../errors/index.ts";
import type { ModuleDescriptor } from "../gen/outrig/module/v1/descriptor_pb.ts";
import {
  type InvokeRequest as InvokeRequestPb,
  type InvokeStreamRequest as InvokeStreamRequestPb,
  type InvokeStreamResponseSchema,
  type ModuleService,
  ModuleState,
} from "../gen/outrig/module/v1/module_service_pb.ts";
import { WIRING_PROBE_OPERATION } from "../spi/descriptor.ts";
import type { H2Handlers, ServerCall } from "../spi/h2/server.ts";
import { MD, type MetadataLike, metadataValue } from "../spi/metadata.ts";
import { SUPPORTED_SPI_VERSIONS } from "../spi/versions.ts";
import { NO_SPAN, type SpanHandle, SpanKind, type Tracing } from "../telemetry/tracing.ts";
import { CoreConnection } from "./core-connection.ts";
import { createInvokeContext } from "./invoke-context.ts";
import type { Lifecycle } from "./lifecycle.ts";
import { decodeInput, encodeReply, JSON_TYPE } from "./payload.ts";
import type { CancelReason, InvokeContext, ModuleDefinition, Operation, Usage } from "./types.ts";

/** State shared by the SDK's services for one module process. */
export interface ModuleRuntime {
  readonly def: ModuleDefinition;
  readonly descriptor: ModuleDescriptor;
  readonly lifecycle: Lifecycle;
  readonly logger: Logger;
  instanceId: string;
  /** Set once Initialize succeeded. */
  core: CoreConnection | undefined;
  /** True after a re-registration in attached mode: a new core session may initialize again. */
  allowReinitialize: boolean;
  /** Invocations running now, so a drain deadline can stop them. */
  readonly controllers: Set<AbortController>;
  /** Default drain deadline for SIGTERM and Shutdown. */
  readonly drainDeadlineMs: number;
  /** Trace export; disabled until Initialize names an OTLP endpoint. */
  tracing: Tracing;
  /** mTLS material when the module talks to the core over TCP. */
  readonly tls: import("../spi/tls.ts").TlsMaterial | undefined;
  onInitialized(info: {
    logLevel: string;
    traceEndpoint: string;
    sampleRatio: number;
    serviceName: string;
  }): void;
  /** Stops serving and ends the process. */
  exit(deadlineMs: number): void;
}

type StreamEvent = MessageInitShape<typeof InvokeStreamResponseSchema>;
type StreamCall = ServerCall<StreamEvent>;

const DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export interface ModuleServiceImpl {
  handlers: H2Handlers<typeof ModuleService>;
  /** Drains (bounded by the deadline), then stops the module: what Shutdown and SIGTERM do. */
  shutdown(deadlineMs: number, reason: string): void;
}

/** ModuleService, as every TypeScript module serves it. */
export function createModuleService(rt: ModuleRuntime): ModuleServiceImpl {
  let drain: Promise<number> | undefined;

  const startDrain = (deadlineMs: number, reason: string): Promise<number> => {
    if (!drain) {
      rt.logger.info({ deadline_ms: deadlineMs, reason, in_flight: rt.lifecycle.inFlight }, "drain started");
      rt.lifecycle.set(ModuleState.DRAINING);
      drain = Promise.resolve()
        .then(() => rt.def.drain?.())
        .catch((error) => rt.logger.warn({ err: error }, "drain hook failed"))
        .then(() => rt.lifecycle.waitIdle(deadlineMs))
        .then((remaining) => {
          if (remaining > 0) {
            rt.logger.warn({ in_flight: remaining }, "drain deadline passed; stopping remaining invocations");
            for (const controller of rt.controllers) controller.abort("shutdown" satisfies CancelReason);
          }
          return remaining;
        });
    }
    return drain;
  };

  const shutdown = (deadlineMs: number, reason: string) => {
    void startDrain(deadlineMs, reason).finally(() => rt.exit(deadlineMs));
  };

  const handlers: H2Handlers<typeof ModuleService> = {
    getDescriptor: () => ({ descriptor: rt.descriptor }),

    initialize: async (req) => {
      if (rt.core && !rt.allowReinitialize) throw OutrigError.fromCode("spi.lifecycle.already_initialized");
      if (rt.lifecycle.draining) throw OutrigError.fromCode("spi.invoke.draining");
      if (!(SUPPORTED_SPI_VERSIONS as readonly string[]).includes(req.spiVersion)) {
        throw OutrigError.fromCode("spi.version.unsupported", {
          message: `SPI version ${JSON.stringify(req.spiVersion)} is not supported by module ${rt.def.id} (it supports ${SUPPORTED_SPI_VERSIONS.join(", ")}).`,
          origin: "module",
        });
      }
      rt.lifecycle.set(ModuleState.INITIALIZING);
      rt.instanceId = req.instanceId || rt.instanceId;
      rt.core?.close();
      rt.core = new CoreConnection(req.core?.address ?? "", req.core?.moduleCredential ?? "", rt.tls);
      rt.allowReinitialize = false;
      rt.onInitialized({
        logLevel: req.logLevel,
        traceEndpoint: req.trace?.otlpEndpoint ?? "",
        sampleRatio: req.trace?.sampleRatio ?? 1,
        serviceName: req.trace?.serviceName || rt.def.id,
      });
      let degraded: string | undefined;
      try {
        const result = await rt.def.initialize?.({
          instanceId: rt.instanceId,
          spiVersion: req.spiVersion,
          config: (req.config ?? {}) as Record<string, unknown>,
          logger: rt.logger,
          core: rt.core,
        });
        degraded = result?.degraded;
      } catch (error) {
        rt.logger.error({ err: error }, "initialize hook failed");
        rt.lifecycle.set(ModuleState.FAILED);
        throw error instanceof OutrigError
          ? error
          : OutrigError.fromCode("spi.lifecycle.initialize_failed", { origin: "module", cause: error });
      }
      rt.lifecycle.set(degraded ? ModuleState.DEGRADED : ModuleState.READY);
      rt.logger.info({ spi_version: req.spiVersion, state: ModuleState[rt.lifecycle.state] }, "initialized");
      return { state: rt.lifecycle.state, message: degraded ?? "" };
    },

    drain: async (req) => ({
      inFlightRemaining: await startDrain(req.deadlineMs || rt.drainDeadlineMs, req.reason),
    }),

    shutdown: (req) => {
      setImmediate(() => shutdown(req.deadlineMs || rt.drainDeadlineMs, "shutdown requested by the core"));
      return {};
    },

    getStats: () => ({
      state: rt.lifecycle.state,
      uptimeMs: BigInt(Date.now() - rt.lifecycle.startedAt),
      inFlight: rt.lifecycle.inFlight,
      invocationsTotal: rt.lifecycle.invocationsTotal,
      errorsTotal: rt.lifecycle.errorsTotal,
      rssBytes: BigInt(process.memoryUsage.rss()),
      custom: safeStats(rt),
    }),

    invoke: async (req, call) => {
      if (req.operation === WIRING_PROBE_OPERATION)
        return { payload: req.payload, contentType: req.contentType };
      const op = admit(rt, req, false);
      const { ctx, controller } = createInvokeContext(call, req.operation, req.context, rt);
      const span = startSpan(rt, call.metadata, req.operation);
      rt.controllers.add(controller);
      rt.lifecycle.begin();
      let failure: OutrigError | undefined;
      try {
        const input = decodeInput(req.payload, req.contentType, op.input);
        const result = await op.handler({ payload: req.payload, contentType: req.contentType, input }, ctx);
        if (ctx.signal.aborted) throw abortError(ctx);
        return encodeReply(result);
      } catch (error) {
        failure = handlerError(error, ctx);
        throw failure;
      } finally {
        span.end(failure);
        rt.controllers.delete(controller);
        rt.lifecycle.end(failure !== undefined);
      }
    },

    invokeStream: async (req, call) => {
      const op = admit(rt, req, true) as Extract<Operation, { streaming: true }>;
      const { ctx, controller } = createInvokeContext(call, req.operation, req.context, rt);
      const span = startSpan(rt, call.metadata, req.operation);
      rt.controllers.add(controller);
      rt.lifecycle.begin();
      let ok = false;
      try {
        ok = await runStream(op, req, call, ctx);
      } finally {
        span.end(ok ? undefined : { code: "spi.stream.failed", category: "INTERNAL" });
        rt.controllers.delete(controller);
        rt.lifecycle.end(!ok);
      }
    },
  };
  return { handlers, shutdown };
}

function startSpan(rt: ModuleRuntime, metadata: MetadataLike, operation: string): SpanHandle {
  // Until Initialize names a trace endpoint, skip the header reads and span set-up.
  if (!rt.tracing.enabled) return NO_SPAN;
  const parent = rt.tracing.extract({
    traceparent: metadataValue(metadata, MD.traceparent),
    tracestate: metadataValue(metadata, MD.tracestate),
  });
  return rt.tracing.startSpan(`module.invoke ${operation}`, {
    kind: SpanKind.SERVER,
    parent,
    attributes: { "outrig.module.id": rt.def.id, "outrig.operation": operation },
  });
}

/** Checks that an invocation may start; throws the refusal otherwise. */
function admit(
  rt: ModuleRuntime,
  req: InvokeRequestPb | InvokeStreamRequestPb,
  streaming: boolean,
): Operation {
  if (!rt.lifecycle.accepting) {
    throw OutrigError.fromCode(
      rt.lifecycle.draining ? "spi.invoke.draining" : "spi.lifecycle.not_initialized",
      {
        origin: "module",
      },
    );
  }
  const op = Object.hasOwn(rt.def.operations, req.operation) ? rt.def.operations[req.operation] : undefined;
  if (!op) {
    throw OutrigError.fromCode("spi.invoke.unknown_operation", {
      origin: "module",
      message: `Unknown operation ${JSON.stringify(req.operation.slice(0, 128))}.`,
    });
  }
  if ((op.streaming === true) !== streaming)
    throw OutrigError.fromCode("spi.invoke.wrong_rpc", { origin: "module" });
  const maxBytes = rt.def.limits?.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  if (req.payload.byteLength > maxBytes)
    throw OutrigError.fromCode("spi.invoke.payload_too_large", { origin: "module" });
  const maxConcurrency = rt.def.limits?.maxConcurrency ?? 0;
  if (maxConcurrency > 0 && rt.lifecycle.inFlight >= maxConcurrency) {
    throw OutrigError.fromCode("spi.invoke.overloaded", { origin: "module", retryAfterMs: 100 });
  }
  return op;
}

function abortError(ctx: InvokeContext): OutrigError {
  const reason = ctx.signal.reason as CancelReason;
  if (reason === "deadline")
    return OutrigError.fromCode("spi.invoke.deadline_exceeded", { origin: "module" });
  if (reason === "shutdown") {
    return OutrigError.fromCode("spi.invoke.stopped_by_drain", { origin: "module" });
  }
  return OutrigError.fromCode("spi.invoke.cancelled", { origin: "module" });
}

/** Maps what a handler threw to a client-safe error, logging the original. */
function handlerError(error: unknown, ctx: InvokeContext): OutrigError {
  let outrig: OutrigError;
  if (ctx.signal.aborted && !(error instanceof OutrigError)) outrig = abortError(ctx);
  else {
    outrig = toOutrigError(error, "spi.handler.failed");
    if (!(error instanceof OutrigError)) ctx.logger.error({ err: error }, "handler failed");
  }
  outrig.correlationId ??= ctx.correlationId;
  outrig.traceId ??= ctx.traceId;
  return outrig;
}

/**
 * Runs a streaming handler under the streaming contract: `started`, chunks numbered
 * 1, 2, 3…, exactly one terminal event, nothing after it, and no chunk once the call
 * is cancelled. Resolves true when the stream ended without an error.
 */
async function runStream(
  op: Extract<Operation, { streaming: true }>,
  req: InvokeStreamRequestPb,
  call: StreamCall,
  ctx: InvokeContext,
): Promise<boolean> {
  const send = (event: StreamEvent["event"]) => writeEvent(call, { event }, ctx.signal);
  await send({ case: "started", value: { contentType: op.contentType ?? JSON_TYPE } });
  let iterator: AsyncIterator<unknown> | Iterator<unknown> | undefined;
  let sequence = 0n;
  let usage: Usage | undefined;
  try {
    const input = decodeInput(req.payload, req.contentType, op.input);
    const iterable = op.handler({ payload: req.payload, contentType: req.contentType, input }, ctx);
    iterator =
      Symbol.asyncIterator in iterable
        ? (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator]()
        : (iterable as Iterable<unknown>)[Symbol.iterator]();
    for (;;) {
      if (ctx.signal.aborted) break;
      const step = await iterator.next();
      if (ctx.signal.aborted) break;
      if (step.done) {
        usage = (step.value as { usage?: Usage } | undefined)?.usage;
        break;
      }
      sequence++;
      await send({ case: "chunk", value: { sequence, payload: encodeReply(step.value).payload } });
    }
  } catch (error) {
    if (!ctx.signal.aborted) {
      await send({ case: "error", value: envelopeToPb(handlerError(error, ctx).toEnvelope()) });
      return false;
    }
  }
  if (ctx.signal.aborted) {
    // Let the handler's finally blocks run (free the sequence, close the upstream).
    await Promise.resolve(iterator?.return?.()).catch(() => {});
    if ((ctx.signal.reason as CancelReason) === "shutdown" && !call.cancelled) {
      await send({ case: "error", value: envelopeToPb(abortError(ctx).toEnvelope()) });
    }
    return false;
  }
  await send({
    case: "end",
    value: {
      cancelled: false,
      usage: {
        inputTokens: BigInt(usage?.inputTokens ?? 0),
        outputTokens: BigInt(usage?.outputTokens ?? 0),
        counters: Object.fromEntries(Object.entries(usage?.counters ?? {}).map(([k, v]) => [k, BigInt(v)])),
      },
    },
  });
  return true;
}

/** Writes one event, waiting for HTTP/2 flow control when the buffer is full. */
async function writeEvent(call: StreamCall, event: StreamEvent, signal: AbortSignal): Promise<void> {
  if (call.cancelled || call.destroyed) return;
  if (call.write(event)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      call.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    call.on("drain", done);
    signal.addEventListener("abort", done, { once: true });
  });
}

function safeStats(rt: ModuleRuntime): Record<string, number> {
  try {
    const stats = rt.def.stats?.() ?? {};
    return Object.fromEntries(
      Object.entries(stats).filter(([, v]) => typeof v === "number" && Number.isFinite(v)),
    );
  } catch (error) {
    rt.logger.warn({ err: error }, "stats hook failed");
    return {};
  }
}
