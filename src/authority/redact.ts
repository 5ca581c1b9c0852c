import type { LoggerOptions } from "pino";

/**
 * Scrubs credentials from text bound for logs, audit records and error details:
 * bearer tokens, JWT/JWS-looking strings, Outrig API keys and dev tokens, private
 * keys, and `secret=value` pairs. Over-redaction is acceptable; a leak is not.
 */
const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
    "[REDACTED_PRIVATE_KEY]",
  ],
  // Three base64url segments starting with a JSON header: a JWT, a JWS or a context reference.
  [/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g, "[REDACTED_JWT]"],
  // Outrig API keys keep their public id, which helps operators and is not secret.
  [/\b(ork_[a-z0-9]{16})_[A-Za-z0-9_-]+/g, "$1_[REDACTED]"],
  [/\bordev_[A-Za-z0-9_-]+/g, "[REDACTED_DEV_TOKEN]"],
  [/\b(Bearer|Basic|Token)(\s+)[^\s"',;]+/gi, "$1$2[REDACTED]"],
  [
    /\b(api[_-]?key|access[_-]?token|refresh[_-]?token|token|secret|password|passwd|authorization|client[_-]?secret)(["']?\s*[:=]\s*["']?)[^\s"',;&}]+/gi,
    "$1$2[REDACTED]",
  ],
];

/** Object keys whose values are replaced wholesale, whatever they contain. */
const SECRET_KEYS =
  /^(authorization|proxy-authorization|x-api-key|api[_-]?key|cookie|set-cookie|password|passwd|secret|client[_-]?secret|token|access[_-]?token|refresh[_-]?token|private[_-]?key|credential|context[_-]?ref)$/i;

export const REDACTED = "[REDACTED]";

export function redactString(value: string): string {
  let out = value;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

const MAX_DEPTH = 8;

/** Deep copy of `value` with every string scrubbed and secret-named keys replaced. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactString(value);
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[TRUNCATED]";
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value instanceof Error) {
    // Only the name and a scrubbed message: library errors can carry token payloads in `cause`.
    return { name: value.name, message: redactString(value.message) };
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEYS.test(key) && v !== undefined && v !== null ? REDACTED : redactValue(v, depth + 1);
  }
  return out;
}

/**
 * pino options that scrub every log object and message string. Spread them into the
 * options of any logger that may see request data.
 */
export function redactingLoggerOptions(): Pick<LoggerOptions, "formatters" | "hooks"> {
  return {
    formatters: { log: (object) => redactValue(object) as Record<string, unknown> },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === "string" ? redactString(a) : a)) as typeof args;
        method.apply(this, scrubbed);
      },
    },
  };
}
