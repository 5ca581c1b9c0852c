/**
 * The one schema of a module manifest. The validator, the TypeScript types and the
 * JSON Schema in `schemas/` all come from here; rules that span fields live in
 * rules.ts. Keys are snake_case; durations are integer milliseconds named `*_ms`.
 */
import { z } from "zod";
import { CAPABILITY_PATTERN, MODULE_ID_PATTERN, SEMVER_PATTERN } from "../spi/descriptor.ts";
import { SPI_VERSION_PATTERN } from "../spi/versions.ts";
import {
  ACCELERATOR_ALIASES,
  ACCELERATORS,
  type Accelerator,
  CONSENT_CAPABILITY_NAMES,
  INGRESS_MODES,
  isAcceleratorAlias,
  LISTEN_TRANSPORTS,
  METRIC_TYPES,
  MODALITIES,
  PROFILES,
} from "./vocabulary.ts";

export const TAG_PATTERN = /^[a-z0-9][a-z0-9._-]{0,31}$/;
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Prometheus metric names. */
export const METRIC_NAME_PATTERN = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** host:port where host is a DNS name (optionally `*.`-prefixed), IPv4, or [IPv6]. */
export const EGRESS_PATTERN =
  /^(?:(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/;

const HOUR_MS = 3_600_000;

/** Health defaults; the supervisor uses the same names and values. */
export const HEALTH_DEFAULTS = {
  poll_interval_ms: 5000,
  failure_threshold: 3,
  grace_period_ms: 10_000,
  startup_timeout_ms: 30_000,
} as const;

/** Restart defaults: 3 restarts per 600 s sliding window, exponential backoff with jitter. */
export const RESTART_DEFAULTS = {
  max_restarts: 3,
  window_ms: 600_000,
  backoff: { initial_ms: 500, max_ms: 30_000, multiplier: 2, jitter: 0.2 },
} as const;

const text = (max: number) => z.string().max(max);
const ms = (min: number, max: number) => z.int().min(min).max(max);

const accelerator = z
  .enum([...ACCELERATORS, ...(Object.keys(ACCELERATOR_ALIASES) as (keyof typeof ACCELERATOR_ALIASES)[])])
  .transform((value): Accelerator => (isAcceleratorAlias(value) ? ACCELERATOR_ALIASES[value] : value))
  .describe(
    `Accelerator the module runs on. Aliases (${Object.keys(ACCELERATOR_ALIASES).join(", ")}) are normalized.`,
  );

export const SpiRangeSchema = z
  .object({
    min: z.string().regex(SPI_VERSION_PATTERN).describe("Lowest SPI version the module speaks, MAJOR.MINOR."),
    max: z
      .string()
      .regex(SPI_VERSION_PATTERN)
      .describe("Highest SPI version the module speaks, MAJOR.MINOR."),
  })
  .describe("Range of Core SPI versions the module implements, inclusive.");

export const EntrypointSchema = z
  .object({
    command: z.string().min(1).max(4096).describe("Executable to launch (absolute, or found on PATH)."),
    args: z.array(text(4096)).max(256).default([]).describe("Arguments passed to the command."),
    env: z
      .record(z.string().regex(ENV_NAME_PATTERN), text(32_768))
      .prefault({})
      .describe("Extra environment variables. OUTRIG_* names are reserved for the launch contract."),
    workdir: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe("Working directory; default: the manifest's directory."),
    image: z
      .string()
      .regex(/^\S{1,512}$/)
      .optional()
      .describe("OCI image reference for container deployments (compose, Kubernetes)."),
    listen: z.enum(LISTEN_TRANSPORTS).default("unix").describe("Transport the module serves the SPI on."),
  })
  .describe("How the core (or a container runtime) starts the module.");

export const ResourcesSchema = z
  .object({
    accelerator: accelerator.prefault("cpu"),
    memory_mb: z.int().min(1).max(16_777_216).optional().describe("Memory the module needs, in MiB."),
    cpu_threads: z.int().min(1).max(1024).optional().describe("CPU threads the module needs."),
    requires_network: z
      .boolean()
      .default(false)
      .describe("Whether the module needs outbound network access; requires the net.egress consent."),
  })
  .describe("Resources the module needs.");

export const ConsentSchema = z
  .object({
    summary: text(1024).default("").describe("One paragraph an operator reads before activating the module."),
    details_url: z
      .url({ protocol: /^https$/ })
      .max(2048)
      .optional()
      .meta({ description: "HTTPS page with the full explanation.", pattern: "^https://" }),
    capabilities: z
      .array(z.enum(CONSENT_CAPABILITY_NAMES))
      .max(32)
      .default([])
      .describe("What the module may do, from a closed vocabulary."),
    egress: z
      .array(z.string().max(261).regex(EGRESS_PATTERN))
      .max(256)
      .default([])
      .describe(
        "Outbound allow list of host:port entries; empty means unrestricted when net.egress is granted.",
      ),
  })
  .describe("What the operator consents to.");

export const HealthSchema = z
  .object({
    poll_interval_ms: ms(100, HOUR_MS)
      .default(HEALTH_DEFAULTS.poll_interval_ms)
      .describe("Time between health checks."),
    failure_threshold: z
      .int()
      .min(1)
      .max(100)
      .default(HEALTH_DEFAULTS.failure_threshold)
      .describe("Consecutive failed checks before the module counts as unhealthy."),
    grace_period_ms: ms(0, HOUR_MS)
      .default(HEALTH_DEFAULTS.grace_period_ms)
      .describe("Time after the module becomes ready during which failed checks do not count."),
    startup_timeout_ms: ms(100, HOUR_MS)
      .default(HEALTH_DEFAULTS.startup_timeout_ms)
      .describe("Longest time from launch to ready before the start counts as failed."),
  })
  .describe("Health checking (gRPC health service).");

export const BackoffSchema = z
  .object({
    initial_ms: ms(1, HOUR_MS).default(RESTART_DEFAULTS.backoff.initial_ms).describe("First restart delay."),
    max_ms: ms(1, HOUR_MS).default(RESTART_DEFAULTS.backoff.max_ms).describe("Largest restart delay."),
    multiplier: z
      .number()
      .min(1)
      .max(10)
      .default(RESTART_DEFAULTS.backoff.multiplier)
      .describe("Factor applied to the delay after each restart."),
    jitter: z
      .number()
      .min(0)
      .max(1)
      .default(RESTART_DEFAULTS.backoff.jitter)
      .describe("Random fraction (±) applied to each delay."),
  })
  .describe("Exponential backoff between restarts.");

export const RestartSchema = z
  .object({
    max_restarts: z
      .int()
      .min(0)
      .max(1000)
      .default(RESTART_DEFAULTS.max_restarts)
      .describe("Restarts allowed inside the window; 0 means a crash fails the module."),
    window_ms: ms(1000, 24 * HOUR_MS)
      .default(RESTART_DEFAULTS.window_ms)
      .describe("Sliding window of the budget."),
    backoff: BackoffSchema.prefault({}),
  })
  .describe("Restart budget.");

export const MetricSchema = z.object({
  name: z.string().max(200).regex(METRIC_NAME_PATTERN).describe("Prometheus metric name."),
  type: z.enum(METRIC_TYPES).optional().describe("Prometheus metric type."),
  description: text(1024).optional().describe("Help text."),
  unit: text(64).optional().describe("Unit, for example seconds or bytes."),
});

export const ManifestSchema = z
  .object({
    $schema: z.string().max(2048).optional().describe("JSON Schema reference for editors; ignored."),
    id: z.string().regex(MODULE_ID_PATTERN).describe("Stable module id."),
    version: z.string().max(256).regex(SEMVER_PATTERN).describe("Module version, strict SemVer 2.0.0."),
    name: z.string().min(1).max(128).optional().describe("Display name."),
    description: text(4096).optional().describe("What the module does."),
    tags: z.array(z.string().regex(TAG_PATTERN)).max(32).default([]).describe("Search tags."),
    metadata: z
      .record(z.string().min(1).max(128), text(4096))
      .prefault({})
      .describe("Free-form string metadata (maintainers, homepage, ...)."),
    profile: z.enum(PROFILES).describe("Protocol family the module serves."),
    modalities: z.array(z.enum(MODALITIES)).min(1).max(8).default(["text"]).describe("Content modalities."),
    spi: SpiRangeSchema,
    entrypoint: EntrypointSchema,
    resources: ResourcesSchema.prefault({}),
    consent: ConsentSchema.prefault({}),
    health: HealthSchema.prefault({}),
    restart: RestartSchema.prefault({}),
    metrics: z.array(MetricSchema).max(512).default([]).describe("Metrics the module exports."),
    ingress: z
      .enum(INGRESS_MODES)
      .default("core-routed")
      .describe("Where the module's public traffic enters."),
    capabilities: z
      .array(z.string().regex(CAPABILITY_PATTERN))
      .max(128)
      .default([])
      .describe(
        "Protocol capabilities of the profile the module declares (the descriptor may not exceed them).",
      ),
  })
  .describe("Outrig module manifest.");

/** A manifest as written (defaults not yet applied). */
export type ManifestInput = z.input<typeof ManifestSchema>;
/** A validated manifest with every default applied. */
export type Manifest = z.output<typeof ManifestSchema>;
export type ManifestSection = keyof typeof ManifestSchema.shape;
