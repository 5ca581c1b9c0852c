import { z } from "zod";

const ms = (min = 0) => z.number().int().min(min);

/** Where a secret comes from; literal values are for tests and demos only. */
export const secretRefSchema = z.union([
  z.strictObject({ env: z.string().min(1).describe("Name of an environment variable of the core") }),
  z.strictObject({ file: z.string().min(1).describe("Path of a file holding the secret") }),
  z.strictObject({ value: z.string().min(1).describe("The secret itself (avoid outside tests)") }),
]);
export type SecretRef = z.infer<typeof secretRefSchema>;

export const healthSchema = z.strictObject({
  poll_interval_ms: ms(50).default(5000).describe("Health poll interval"),
  failure_threshold: z.number().int().min(1).default(3).describe("Consecutive failed polls before a restart"),
  grace_period_ms: ms().default(10_000).describe("Failed polls are not counted this long after ready"),
  startup_timeout_ms: ms(100).default(30_000).describe("Handshake to ready must finish within this"),
});

export const restartSchema = z.strictObject({
  max_restarts: z.number().int().min(0).default(3).describe("Restarts allowed within window_ms"),
  window_ms: ms(1).default(600_000).describe("Sliding window of the restart budget"),
  backoff: z
    .strictObject({
      initial_ms: ms().default(500),
      max_ms: ms().default(30_000),
      multiplier: z.number().min(1).default(2),
      jitter: z.number().min(0).max(1).default(0.2),
    })
    .prefault({}),
});

export const timeoutsSchema = z.strictObject({
  invoke_ms: ms(1).default(30_000).describe("Default deadline of one invocation"),
  drain_ms: ms().default(10_000).describe("How long in-flight work may take during a drain"),
  shutdown_ms: ms().default(5_000).describe("After Shutdown, how long before SIGKILL"),
  registration_ms: ms(1).default(60_000).describe("Attached modules must register within this"),
});

const moduleIdSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "must match ^[a-z0-9][a-z0-9._-]{0,63}$");

const moduleBase = {
  id: moduleIdSchema,
  required: z.boolean().default(true).describe("The core is ready only when this module is"),
  config: z.record(z.string(), z.unknown()).default({}).describe("Module-scoped configuration, sent in Initialize"),
  secrets: z.record(z.string(), secretRefSchema).default({}).describe("Secrets this module may resolve"),
  timeouts: timeoutsSchema.prefault({}),
  health: healthSchema.prefault({}),
  retry: z
    .strictObject({ max_attempts: z.number().int().min(1).max(10).default(3) })
    .prefault({})
    .describe("Attempts for idempotent operations on retryable errors"),
};

export const supervisedModuleSchema = z.strictObject({
  ...moduleBase,
  launch: z.literal("supervised").default("supervised"),
  command: z.string().min(1).describe("Executable; `node` means the Node.js running the core"),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  inherit_env: z
    .union([z.boolean(), z.array(z.string())])
    .default(["PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR"])
    .describe("Environment variables of the core the module sees: true (all), false (none), or a list"),
  workdir: z.string().optional(),
  replicas: z.number().int().min(1).max(64).default(1),
  restart: restartSchema.prefault({}),
});

export const attachedModuleSchema = z.strictObject({
  ...moduleBase,
  launch: z.literal("attached"),
  replicas: z.number().int().min(1).max(64).default(1).describe("Instances expected to register"),
});

export const moduleSchema = z.discriminatedUnion("launch", [supervisedModuleSchema, attachedModuleSchema]);

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|\[::1\]|localhost)$/;

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  server: z
    .strictObject({
      host: z
        .string()
        .default("127.0.0.1")
        .refine((h) => LOOPBACK.test(h), {
          message:
            "must be a loopback address (127.0.0.1, ::1, localhost): the public endpoints have no authentication yet",
        }),
      port: z.number().int().min(0).max(65535).default(8080),
      max_body_bytes: z.number().int().min(1).default(1024 * 1024),
    })
    .prefault({}),
  logging: z
    .strictObject({
      level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
      format: z.enum(["auto", "json", "pretty"]).default("auto"),
    })
    .prefault({}),
  telemetry: z
    .strictObject({
      otlp_endpoint: z.string().default("").describe("OTLP/HTTP traces endpoint; empty disables export"),
      sample_ratio: z.number().min(0).max(1).default(1),
      service_name: z.string().default("outrig-core"),
    })
    .prefault({}),
  spi: z
    .strictObject({
      tcp_listen: z.string().default("").describe("host:port where attached modules reach the SPI; empty: UDS only"),
      bootstrap_token: secretRefSchema.optional().describe("Credential attached modules register with"),
      heartbeat_interval_ms: ms(100).default(5000),
    })
    .prefault({}),
  modules: z.array(moduleSchema).default([]),
});

export type OutrigConfig = z.infer<typeof configSchema>;
export type ModuleConfig = z.infer<typeof moduleSchema>;
export type SupervisedModuleConfig = z.infer<typeof supervisedModuleSchema>;
export type AttachedModuleConfig = z.infer<typeof attachedModuleSchema>;
export type HealthConfig = z.infer<typeof healthSchema>;
export type RestartConfig = z.infer<typeof restartSchema>;
