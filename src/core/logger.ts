import pino, { type Logger } from "pino";
import { REDACT_PATHS } from "../sdk/logger.ts";
import type { SecretScrubber } from "./secrets.ts";

export type LogFormat = "json" | "pretty";

export interface CoreLoggerOptions {
  level: string;
  format: LogFormat;
  scrubber: SecretScrubber;
  /** Defaults to stdout. */
  destination?: NodeJS.WritableStream & { write(chunk: string): boolean };
}

const LEVEL_NAMES: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};
const RESERVED = new Set([
  "level",
  "time",
  "msg",
  "pid",
  "hostname",
  "module_id",
  "instance_id",
  "component",
]);

/** One JSON log line as a short human line, for a terminal. */
function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof entry.time === "string" ? entry.time.slice(11, 23) : "";
  const level =
    typeof entry.level === "string" ? entry.level.toUpperCase() : (LEVEL_NAMES[entry.level as number] ?? "");
  const who = entry.instance_id ?? entry.module_id ?? entry.component ?? "core";
  const extras = Object.entries(entry)
    .filter(([k]) => !RESERVED.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${time} ${level.padEnd(5)} [${who}] ${String(entry.msg ?? "")}${extras ? `  ${extras}` : ""}\n`;
}

/**
 * The core's logger: pino JSON lines with standard fields, key-based redaction, and a
 * last pass that removes every known secret value from each serialized line.
 */
export function createCoreLogger(options: CoreLoggerOptions): Logger {
  const out = options.destination ?? process.stdout;
  return pino(
    {
      level: options.level,
      base: { component: "core" },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        streamWrite: (line) => {
          const clean = options.scrubber.scrub(line);
          return options.format === "pretty" ? prettyLine(clean) : clean;
        },
      },
    },
    { write: (chunk: string) => out.write(chunk) },
  );
}
