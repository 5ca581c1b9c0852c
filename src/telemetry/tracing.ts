import {
  type Attributes,
  type Context,
  context as contextApi,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
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
  /** Extra span processors' exporter (tests pass an in-memory one). */
  exporter?: import("@opentelemetry/sdk-trace-base").SpanExporter;
  /** When false and nothing is exported, skip the SDK entirely (saves memory in modules). */
  generateIds?: boolean;
}

/** One started span and the W3C headers that carry it onward. */
export interface SpanHandle {
  readonly span: Span;
  readonly context: Context;
  readonly traceId: string | undefined;
  /** `traceparent` (and `tracestate`) for an outgoing call that is a child of this span. */
  headers(): Record<string, string>;
  end(error?: { code: string; category: string }): void;
}

/**
 * Trace context for the core and modules: W3C `traceparent` in, child spans, W3C
 * `traceparent` out. Nothing is registered globally, so a core and a module can live
 * in one process (tests) without sharing a provider.
 */
export class Tracing {
  private constructor(
    private readonly tracer: Tracer,
    private readonly propagator: Propagator | undefined,
    private readonly shutdownFn: () => Promise<void>,
  ) {}

  /** No spans, no propagation: what a module uses until Initialize asks for traces. */
  static disabled(): Tracing {
    return new Tracing(trace.getTracer("outrig-noop"), undefined, async () => {});
  }

  static async create(config: TracingConfig): Promise<Tracing> {
    const exporting = Boolean(config.otlpEndpoint || config.exporter);
    if (!exporting && config.generateIds === false) return Tracing.disabled();
    const { W3CTraceContextPropagator } = await import("@opentelemetry/core");
    const base = await import("@opentelemetry/sdk-trace-base");
    const { resourceFromAttributes } = await import("@opentelemetry/resources");
    const processors: import("@opentelemetry/sdk-trace-base").SpanProcessor[] = [];
    if (config.exporter) processors.push(new base.SimpleSpanProcessor(config.exporter));
    if (config.otlpEndpoint) {
      const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
      processors.push(
        new base.BatchSpanProcessor(new OTLPTraceExporter({ url: config.otlpEndpoint }), {
          scheduledDelayMillis: 500,
        }),
      );
    }
    const ratio = exporting ? (config.sampleRatio ?? 1) : 0;
    const provider = new base.BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": config.serviceName }),
      sampler: new base.ParentBasedSampler({ root: new base.TraceIdRatioBasedSampler(ratio) }),
      spanProcessors: processors,
    });
    return new Tracing(provider.getTracer("outrig"), new W3CTraceContextPropagator(), () =>
      provider.shutdown(),
    );
  }

  /** Context carried by incoming W3C headers (empty when absent or malformed). */
  extract(headers: { traceparent?: string | undefined; tracestate?: string | undefined }): Context {
    if (!this.propagator || !headers.traceparent) return ROOT_CONTEXT;
    const carrier: Record<string, string> = { traceparent: headers.traceparent };
    if (headers.tracestate) carrier.tracestate = headers.tracestate;
    return this.propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
  }

  startSpan(
    name: string,
    options: { kind: SpanKind; parent?: Context; attributes?: Attributes },
  ): SpanHandle {
    const parent = options.parent ?? ROOT_CONTEXT;
    const span = this.tracer.startSpan(name, { kind: options.kind, attributes: options.attributes }, parent);
    const ctx = trace.setSpan(parent, span);
    const spanContext = span.spanContext();
    const valid = trace.isSpanContextValid(spanContext);
    const propagator = this.propagator;
    return {
      span,
      context: ctx,
      traceId: valid ? spanContext.traceId : undefined,
      headers() {
        const carrier: Record<string, string> = {};
        propagator?.inject(ctx, carrier, defaultTextMapSetter);
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

export { contextApi, SpanKind };
