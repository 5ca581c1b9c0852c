import {
  type Attributes,
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";

/** A W3C propagator; loaded with the SDK, so a module that does not trace never loads it. */
type Propagator = import("@opentelemetry/core").W3CTraceContextPropagator;

export interface TracingConfig {
  serviceName: string;
  /** OTLP/HTTP traces endpoint; empty means no export (ids are still generated and propagated). */
  otlpEndpoint?: string;
  /** Fraction of root traces exported, 0..1. */
  sampleRatio?: number;
}

/** One started span and the W3C headers that carry it onward. */
export interface SpanHandle {
  readonly traceId: string | undefined;
  /** `traceparent` (and `tracestate`) for an outgoing call that is a child of this span. */
  headers(): Record<string, string>;
  end(error?: { code: string; category: string }): void;
}

/** The span of disabled tracing: no trace id, no headers, nothing recorded. */
export const NO_SPAN: SpanHandle = { traceId: undefined, headers: () => ({}), end() {} };

/**
 * Trace context for the core and modules: W3C `traceparent` in, child spans, W3C
 * `traceparent` out. Nothing is registered globally, so a core and a module can live
 * in one process (tests) without sharing a provider.
 */
export class Tracing {
  private constructor(
    private readonly impl: { tracer: Tracer; propagator: Propagator } | undefined,
    private readonly shutdownFn: () => Promise<void>,
  ) {}

  /** No spans, no propagation: what a module uses until Initialize asks for traces. */
  static disabled(): Tracing {
    return new Tracing(undefined, async () => {});
  }

  static async create(config: TracingConfig): Promise<Tracing> {
    const { W3CTraceContextPropagator } = await import("@opentelemetry/core");
    const base = await import("@opentelemetry/sdk-trace-base");
    const { resourceFromAttributes } = await import("@opentelemetry/resources");
    const processors: import("@opentelemetry/sdk-trace-base").SpanProcessor[] = [];
    if (config.otlpEndpoint) {
      const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
      processors.push(
        new base.BatchSpanProcessor(new OTLPTraceExporter({ url: config.otlpEndpoint }), {
          scheduledDelayMillis: 500,
        }),
      );
    }
    const ratio = config.otlpEndpoint ? (config.sampleRatio ?? 1) : 0;
    const provider = new base.BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": config.serviceName }),
      sampler: new base.ParentBasedSampler({ root: new base.TraceIdRatioBasedSampler(ratio) }),
      spanProcessors: processors,
    });
    const impl = { tracer: provider.getTracer("outrig"), propagator: new W3CTraceContextPropagator() };
    return new Tracing(impl, () => provider.shutdown());
  }

  /** False for `disabled()`: spans are NO_SPAN, so a caller may skip preparing them. */
  get enabled(): boolean {
    return this.impl !== undefined;
  }

  /** Context carried by incoming W3C headers (empty when absent or malformed). */
  extract(headers: { traceparent?: string | undefined; tracestate?: string | undefined }): Context {
    if (!this.impl || !headers.traceparent) return ROOT_CONTEXT;
    const carrier: Record<string, string> = { traceparent: headers.traceparent };
    if (headers.tracestate) carrier.tracestate = headers.tracestate;
    return this.impl.propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
  }

  startSpan(
    name: string,
    options: { kind: SpanKind; parent?: Context; attributes?: Attributes },
  ): SpanHandle {
    if (!this.impl) return NO_SPAN;
    const { tracer, propagator } = this.impl;
    const parent = options.parent ?? ROOT_CONTEXT;
    const span = tracer.startSpan(name, { kind: options.kind, attributes: options.attributes }, parent);
    const ctx = trace.setSpan(parent, span);
    const spanContext = span.spanContext();
    const valid = trace.isSpanContextValid(spanContext);
    return {
      traceId: valid ? spanContext.traceId : undefined,
      headers() {
        const carrier: Record<string, string> = {};
        propagator.inject(ctx, carrier, defaultTextMapSetter);
        return carrier;
      },
      end(error) {
        if (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
          span.setAttribute("outrig.error.category", error.category);
          span.setAttribute("outrig.error.code", error.code);
        }
        span.end();
      },
    };
  }

  shutdown(): Promise<void> {
    return this.shutdownFn();
  }
}

export { SpanKind };
