import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Latency buckets from 50 µs to 10 s: SPI hops are sub-millisecond, LLM calls are seconds. */
const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The core's Prometheus metrics, on a registry of its own (one per core). */
export class CoreMetrics {
  readonly registry = new Registry();

  /** Per module and SPI RPC, as seen by the core's client. */
  readonly spiDuration = new Histogram({
    name: "outrig_spi_request_duration_seconds",
    help: "Duration of SPI calls from the core to modules.",
    labelNames: ["module", "rpc", "outcome"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly restarts = new Counter({
    name: "outrig_module_restarts_total",
    help: "Module instance restarts by the supervisor.",
    labelNames: ["module", "reason"] as const,
    registers: [this.registry],
  });

  readonly instances = new Gauge({
    name: "outrig_module_instances",
    help: "Module instances by lifecycle state.",
    labelNames: ["module", "state"] as const,
    registers: [this.registry],
  });

  readonly moduleUp = new Gauge({
    name: "outrig_module_ready",
    help: "1 when the module has at least one ready instance.",
    labelNames: ["module"] as const,
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: "outrig_module_in_flight",
    help: "Invocations the core has outstanding at each module.",
    labelNames: ["module"] as const,
    registers: [this.registry],
  });

  readonly retries = new Counter({
    name: "outrig_invoke_retries_total",
    help: "Invocations the router sent again after a retryable failure.",
    labelNames: ["module", "code"] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: "outrig_http_request_duration_seconds",
    help: "Duration of HTTP requests at the core's public listener.",
    labelNames: ["route", "method", "status"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: "outrig_core_" });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
