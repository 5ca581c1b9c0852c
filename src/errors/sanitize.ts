/** Longest client-visible message; longer ones are cut. */
export const MAX_MESSAGE_LENGTH = 512;

const STACK_LINE = /^\s*at\s.+(\(|:\d+)/;
const CODE_PATH = /(?:\/[\w.@-]+){2,}\.(?:[cm]?[jt]s|py|go|rs)(?::\d+(?::\d+)?)?/g;

/**
 * Makes a message safe to show a client: keeps the first line, drops anything that
 * looks like a stack frame or a source path, strips control characters and bounds the
 * length. An empty result falls back to `fallback`.
 */
export function sanitizeMessage(message: unknown, fallback: string): string {
  if (typeof message !== "string") return fallback;
  const firstLine = message.split(/\r?\n/).find((line) => line.trim() !== "" && !STACK_LINE.test(line)) ?? "";
  // A raw `TypeError: …` or an inline frame `at fn (file:1:2)` is library text, not a client message.
  if (/\bat\s+\S+\s+\([^)]*:\d+(:\d+)?\)/.test(firstLine) || /^\s*\w*Error:\s/.test(firstLine))
    return fallback;
  let clean = firstLine
    .replace(CODE_PATH, "<path>")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
    .replace(/[\u0000-\u001f\u007f]/g, " ")
    .trim();
  if (clean.length > MAX_MESSAGE_LENGTH) clean = `${clean.slice(0, MAX_MESSAGE_LENGTH - 1)}…`;
  return clean === "" ? fallback : clean;
}

const CODE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z0-9][a-z0-9_-]*){2,}$/;

/** Whether `code` follows `<family>.<operation>.<reason>` (lowercase, dot-separated, ≥ 3 parts). */
export function isValidCode(code: string): boolean {
  return code.length <= 128 && CODE_PATTERN.test(code);
}
