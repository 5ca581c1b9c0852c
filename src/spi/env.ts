/**
 * Environment variables of the launch contract. The core sets them for a supervised
 * module; an operator sets the attached-mode ones for a module started by compose or
 * Kubernetes. See docs/spi.md, "Launch".
 */
export const ENV = {
  /** Constant cookie: tells a module binary it was started by an Outrig core. */
  cookie: "OUTRIG_MODULE_COOKIE",
  /** Module id the core configured. */
  moduleId: "OUTRIG_MODULE_ID",
  /** Instance id the core assigned (supervised) or the operator chose (attached). */
  instanceId: "OUTRIG_INSTANCE_ID",
  /** Comma-separated SPI versions the core supports, for example `1.0`. */
  spiVersions: "OUTRIG_SPI_VERSIONS",
  /** Where the module must serve ModuleService: `unix:///path` or `host:port`. */
  listen: "OUTRIG_LISTEN",
  /** Per-launch secret the core presents on every call (`authorization: Bearer …`). */
  launchSecret: "OUTRIG_LAUNCH_SECRET",
  /** Attached mode: the core's SPI address to register with. */
  coreAddress: "OUTRIG_CORE_ADDRESS",
  /** Attached mode: bootstrap credential for RegistrationService. */
  bootstrapToken: "OUTRIG_BOOTSTRAP_TOKEN",
  /** Attached mode: address the core should dial, when it differs from the listen address. */
  advertiseAddress: "OUTRIG_ADVERTISE_ADDRESS",
  /** Log level for the module: trace, debug, info, warn, error. */
  logLevel: "OUTRIG_LOG_LEVEL",
  /** `stdin`: the core holds the module's stdin open; EOF means the core died, so exit. */
  lifeline: "OUTRIG_LIFELINE",
  /** Attached mode over TCP: PEM files for mutual TLS (all three, or none). */
  tlsCert: "OUTRIG_TLS_CERT",
  tlsKey: "OUTRIG_TLS_KEY",
  tlsCa: "OUTRIG_TLS_CA",
} as const;

/** Value of OUTRIG_MODULE_COOKIE; not a secret, only a guard against running a module by hand. */
export const MODULE_COOKIE_VALUE = "d3b1c7e0-outrig-module-v1";
