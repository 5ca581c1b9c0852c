import { z } from "zod";
import type { AuthorityConfig } from "../../authority/config.ts";
import type { ManifestIssue } from "../../manifest/codes.ts";
import { BackoffSchema, HealthSchema, type Manifest, RestartSchema } from "../../manifest/schema.ts";
import { MODULE_ID_PATTERN } from "../../spi/descriptor.ts";

const ms = (min = 0) => z.number().int().min(min);

/** Where a secret comes from; literal values are for tests and demos only. */
export const secretRefSchema = z.union([
  z.strictObject({ env: z.string().min(1).describe("Name of an environment variable of the core") }),
  z.strictObject({ file: z.string().min(1).describe("Path of a file holding the secret") }),
  z.strictObject({ value: z.string().min(1).describe("The secret itself (avoid outside tests)") }),
]);
export type SecretRef = z.infer<typeof secretRefSchema>;

/**
 * Health and restart share their shape, defaults and ranges with the manifest
 * (src/manifest/schema.ts is the one definition); the config only makes them strict,
 * because a typo in an operator's config is an error, not a warning.
 */
export const healthSchema = z
  .strictObject(HealthSchema.shape)
  .describe("Health checking; keys not set here come from the module's manifest, then the defaults");

export const restartSchema = z
  .strictObject({ ...RestartSchema.shape, backoff: z.strictObject(BackoffSchema.shape).prefault({}) })
  .describe("Restart budget; keys not set here come from the module's manifest, then the defaults");

export const timeoutsSchema = z
  .strictObject({
    invoke_ms: ms(1).default(30_000).describe("Default deadline of one invocation"),
    drain_ms: ms().default(10_000).describe("How long in-flight work may take during a drain"),
    shutdown_ms: ms().default(5_000).describe("After Shutdown, how long before SIGKILL"),
    registration_ms: ms(1).default(60_000).describe("Attached modules must register within this"),
  })
  .describe("Deadlines of calls to the module, in milliseconds");

const moduleIdSchema = z
  .string()
  .regex(MODULE_ID_PATTERN, `must match ${MODULE_ID_PATTERN.source}`)
  .describe("Module id: the one its descriptor reports and its manifest declares");

const moduleBase = {
  id: moduleIdSchema,
  manifest: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Path of the module's manifest (relative to this file). Its entrypoint, health and restart apply unless set here; the descriptor is checked against it at launch",
    ),
  required: z.boolean().default(true).describe("The core is ready only when this module is"),
  access: z
    .strictObject({
      visibility: z.enum(["public", "team", "private"]).default("public"),
      team: z.string().min(1).optional(),
      owner: z.string().min(1).optional(),
      hidden: z.boolean().default(false),
    })
    .prefault({})
    .describe("What policies see of this module: callers who may not see it get NOT_FOUND"),
  config: z
    .record(z.string(), z.unknown())
    .default({})
    .describe("Module-scoped configuration, sent in Initialize"),
  secrets: z.record(z.string(), secretRefSchema).default({}).describe("Secrets this module may resolve"),
  timeouts: timeoutsSchema.prefault({}),
  health: healthSchema.prefault({}),
  retry: z
    .strictObject({ max_attempts: z.number().int().min(1).max(10).default(3) })
    .prefault({})
    .describe("Attempts for idempotent operations on retryable errors"),
};

export const supervisedModuleSchema = z
  .strictObject({
    ...moduleBase,
    launch: z
      .literal("supervised")
      .default("supervised")
      .describe("The core spawns and supervises the module"),
    command: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Executable; `node` means the Node.js running the core. Required unless `manifest` gives the entrypoint",
      ),
    args: z
      .array(z.string())
      .default([])
      .describe("Arguments; default: the manifest's entrypoint.args, else none"),
    env: z
      .record(z.string(), z.string())
      .default({})
      .describe("Extra environment; merged over the manifest's entrypoint.env"),
    inherit_env: z
      .union([z.boolean(), z.array(z.string())])
      .default(["PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR"])
      .describe("Environment variables of the core the module sees: true (all), false (none), or a list"),
    workdir: z
      .string()
      .optional()
      .describe(
        "Working directory; default: the manifest's entrypoint.workdir, else the manifest's directory",
      ),
    replicas: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(1)
      .describe("Instances to run; requests go to the least busy"),
    restart: restartSchema.prefault({}),
  })
  .describe("A module the core launches (the default)");

export const attachedModuleSchema = z
  .strictObject({
    ...moduleBase,
    launch: z.literal("attached").describe("The module is started elsewhere and registers with the core"),
    replicas: z.number().int().min(1).max(64).default(1).describe("Instances expected to register"),
  })
  .describe("A module started by docker compose or Kubernetes that registers itself");

export const moduleSchema = z.discriminatedUnion("launch", [supervisedModuleSchema, attachedModuleSchema]);

export const securitySchema = z
  .strictObject({
    require_signed: z
      .boolean()
      .default(false)
      .describe(
        "Refuse any module without a manifest whose detached signature (<manifest>.sig) verifies against trusted_signers",
      ),
    trusted_signers: z
      .string()
      .min(1)
      .optional()
      .describe("Path of the signer registry (relative to this file); required with require_signed"),
  })
  .describe("Module admission: signed manifests");

export const configSchema = z.strictObject({
  $schema: z.string().optional().describe("JSON Schema reference for editors; ignored"),
  server: z
    .strictObject({
      host: z
        .string()
        .min(1)
        .default("127.0.0.1")
        .describe("Public address; anything but loopback needs authority.jwt or authority.api_keys"),
      tls: z
        .strictObject({
          cert_file: z.string().min(1).describe("PEM certificate of the public listener"),
          key_file: z.string().min(1).describe("PEM private key of the public listener"),
          client_ca_file: z
            .string()
            .min(1)
            .optional()
            .describe("PEM CA bundle client certificates are verified against (mTLS identities)"),
          require_client_cert: z
            .boolean()
            .default(false)
            .describe("Refuse connections without a client certificate that chains to client_ca_file"),
        })
        .optional()
        .describe(
          "HTTPS (HTTP/1.1 and HTTP/2 by ALPN) on the public listener, optionally with client certificates",
        ),
      port: z.number().int().min(0).max(65535).default(8080).describe("Public port; 0 picks a free one"),
      max_body_bytes: z
        .number()
        .int()
        .min(1)
        .default(1024 * 1024)
        .describe("Largest request body accepted, in bytes"),
    })
    .prefault({})
    .describe("The public HTTP listener (ingress, admin API, /metrics, /healthz, /readyz)"),
  logging: z
    .strictObject({
      level: z
        .enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"])
        .default("info")
        .describe("Lowest level logged; modules get the same level in Initialize"),
      format: z
        .enum(["auto", "json", "pretty"])
        .default("auto")
        .describe("auto: pretty on a terminal, JSON lines otherwise"),
    })
    .prefault({})
    .describe("The core's log (modules' output is forwarded into it)"),
  telemetry: z
    .strictObject({
      otlp_endpoint: z.string().default("").describe("OTLP/HTTP traces endpoint; empty disables export"),
      sample_ratio: z.number().min(0).max(1).default(1).describe("Fraction of traces sampled, 0 to 1"),
      service_name: z.string().default("outrig-core").describe("service.name of the core's spans"),
    })
    .prefault({})
    .describe("OpenTelemetry tracing"),
  spi: z
    .strictObject({
      tcp_listen: z
        .string()
        .default("")
        .describe("host:port where attached modules reach the SPI; empty: UDS only"),
      advertise_address: z
        .string()
        .default("")
        .describe(
          "host:port attached modules are told to call back on (default: the bound tcp_listen address)",
        ),
      tls: z
        .strictObject({
          cert_file: z.string().min(1).describe("PEM certificate of the core (server and client)"),
          key_file: z.string().min(1).describe("PEM private key of the core"),
          ca_file: z.string().min(1).describe("PEM CA bundle that module certificates must chain to"),
        })
        .optional()
        .describe("mTLS for the TCP SPI listener and for calls to attached modules over TCP"),
      bootstrap_token: secretRefSchema.optional().describe("Credential attached modules register with"),
      heartbeat_interval_ms: ms(100)
        .default(5000)
        .describe("How often attached modules are told to confirm they are alive"),
    })
    .prefault({})
    .describe("The core's SPI server, which modules call"),
  security: securitySchema.prefault({}),
  authority: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      "Authentication (JWT, API keys), Cedar policies and roles, context references, rate limits, audit: docs/authority.md",
    ),
  modules: z.array(moduleSchema).default([]).describe("The modules this core runs"),
});

/** A module's manifest as the config loader read and validated it (not a config key). */
export interface LoadedManifest {
  /** Absolute path of the manifest file. */
  path: string;
  /** Validated, defaults applied. */
  manifest: Manifest;
  /** The data as written: what a signature covers. */
  document: unknown;
  /** What validation found; none of it an error. */
  issues: ManifestIssue[];
}

/** Config keys of a supervised module that override the manifest's entrypoint. */
export const ENTRYPOINT_KEYS = ["command", "args", "env", "workdir"] as const;

type ParsedSupervised = z.infer<typeof supervisedModuleSchema>;
/** After loading, `command` is always set (from the config or the manifest). */
export type SupervisedModuleConfig = Omit<ParsedSupervised, "command"> & {
  command: string;
  loadedManifest?: LoadedManifest;
};
export type AttachedModuleConfig = z.infer<typeof attachedModuleSchema> & { loadedManifest?: LoadedManifest };
export type ModuleConfig = SupervisedModuleConfig | AttachedModuleConfig;
export type OutrigConfig = Omit<z.infer<typeof configSchema>, "modules"> & {
  modules: ModuleConfig[];
  /** The `authority` section converted and validated for the authority library (not a config key). */
  authorityConfig?: AuthorityConfig;
};
export type SecurityConfig = z.infer<typeof securitySchema>;
export type HealthConfig = z.infer<typeof healthSchema>;
export type RestartConfig = z.infer<typeof restartSchema>;
