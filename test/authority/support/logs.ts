import pino, { type Logger } from "pino";

/**
 * A logger that keeps every line it writes, at trace level and without redaction, so
 * a test can prove the code under test never hands a secret to the logger at all.
 */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: "trace" }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}
