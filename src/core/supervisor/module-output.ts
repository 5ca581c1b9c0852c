import type { Logger } from "pino";
import type { OutputSink } from "./process-launch.ts";

const LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal"]);
const PINO_NUMERIC: Record<number, string> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "fatal",
};
const OWN_FIELDS = new Set(["level", "time", "msg", "pid", "hostname", "v", "module_id", "instance_id"]);

/**
 * Re-emits a module's stdout/stderr through the core's logger, tagged with the module
 * and instance ids. JSON lines keep their level, message and fields; other lines are
 * info (stdout) or warn (stderr). The core logger's last pass scrubs secrets.
 */
export function forwardModuleOutput(logger: Logger): OutputSink {
  return {
    line(stream, line) {
      if (line.trim() === "") return;
      if (line.startsWith("{")) {
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          const raw = entry.level;
          const level =
            typeof raw === "number" ? PINO_NUMERIC[raw] : typeof raw === "string" ? raw : undefined;
          const fields: Record<string, unknown> = { stream };
          for (const [k, v] of Object.entries(entry)) if (!OWN_FIELDS.has(k)) fields[k] = v;
          const method =
            level && LEVELS.has(level) ? (level as "info") : stream === "stderr" ? "warn" : "info";
          logger[method](fields, typeof entry.msg === "string" ? entry.msg : "");
          return;
        } catch {
          // Not JSON after all: log it as text.
        }
      }
      logger[stream === "stderr" ? "warn" : "info"]({ stream }, line);
    },
  };
}
