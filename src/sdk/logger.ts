import pino, { type Logger } from "pino";

/** Keys whose values never reach a log line. */
export const REDACT_PATHS = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "secret",
  "*.secret",
  "token",
  "*.token",
  "password",
  "*.password",
  "credential",
  "*.credential",
  "api_key",
  "*.api_key",
];

/**
 * The module's logger: JSON lines on stderr (stdout carries the handshake line), with
 * the module and instance ids on every line. The core captures and re-emits them.
 */
export function createModuleLogger(moduleId: string, instanceId: string, level: string): Logger {
  return pino(
    {
      level,
      base: { module_id: moduleId, instance_id: instanceId },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];
