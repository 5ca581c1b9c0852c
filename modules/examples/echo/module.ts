/**
 * The echo module: the smallest useful Outrig module, and the one `outrig up` runs by
 * default. It echoes JSON, streams numbered chunks, sleeps until its deadline or a
 * cancel (to show both reach the handler), and demonstrates typed errors.
 */
import { CATEGORIES, type Category } from "outrig/errors";
import { defineModule, fail } from "outrig/sdk";

const observed = { cancelled: 0, deadline: 0, shutdown: 0 };

function asObject(input: unknown): Record<string, unknown> {
  return typeof input === "object" && input !== null && !Array.isArray(input)
    ? (input as Record<string, unknown>)
    : {};
}

function boundedInt(value: unknown, fallback: number, min: number, max: number, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(
      "INVALID_ARGUMENT",
      "echo.input.out_of_range",
      `${field} must be an integer from ${min} to ${max}.`,
      {
        details: { field },
      },
    );
  }
  return value;
}

export const echoModule = defineModule({
  id: "echo",
  version: "0.1.0",
  profile: "custom",
  description: "Echoes requests; the reference TypeScript module.",
  capabilities: ["echo", "streaming"],
  operations: {
    echo: {
      description: "Returns the JSON input as it came, with the instance that answered.",
      idempotent: true,
      handler: (req, ctx) => ({
        echo: req.input instanceof Uint8Array ? Buffer.from(req.input).toString("utf8") : req.input,
        instance: ctx.instanceId,
      }),
    },
    "echo.stream": {
      streaming: true,
      description: "Streams `count` chunks (default 3, at most 1,000,000), `delay_ms` apart.",
      idempotent: true,
      async *handler(req, ctx) {
        const input = asObject(req.input);
        const count = boundedInt(input.count, 3, 0, 1_000_000, "count");
        const delayMs = boundedInt(input.delay_ms, 0, 0, 60_000, "delay_ms");
        const message = typeof input.message === "string" ? input.message : "";
        try {
          for (let index = 1; index <= count; index++) {
            if (delayMs > 0) await sleep(delayMs, ctx.signal);
            yield { index, message };
          }
        } finally {
          // Runs on a cancel too: the SDK closes the generator once the signal fires.
          if (ctx.signal.aborted) observe(ctx.signal);
        }
        return { usage: { outputTokens: count } };
      },
    },
    sleep: {
      description: "Waits `ms` milliseconds, or until the call is cancelled or its deadline passes.",
      handler: async (req, ctx) => {
        const ms = boundedInt(asObject(req.input).ms, 1000, 0, 600_000, "ms");
        try {
          await sleep(ms, ctx.signal);
        } catch (error) {
          ctx.logger.info({ reason: observe(ctx.signal) }, "sleep interrupted");
          throw error;
        }
        return { slept_ms: ms };
      },
    },
    fail: {
      description: "Fails with the requested category, to show the error model end to end.",
      idempotent: true,
      handler: (req) => {
        const category = asObject(req.input).category;
        if (typeof category !== "string" || !(CATEGORIES as readonly string[]).includes(category)) {
          fail(
            "INVALID_ARGUMENT",
            "echo.input.unknown_category",
            "category must be one of the eleven error categories.",
          );
        }
        fail(
          category as Category,
          `echo.fail.${category.toLowerCase()}`,
          `Failed on request with ${category}.`,
          {
            retryAfterMs: category === "RATE_LIMITED" ? 1000 : undefined,
          },
        );
      },
    },
  },
  stats: () => ({
    observed_cancelled: observed.cancelled,
    observed_deadline: observed.deadline,
    observed_shutdown: observed.shutdown,
  }),
});

/** Counts why a call was interrupted (a `CancelReason`), for `getStats`; returns the reason. */
function observe(signal: AbortSignal): unknown {
  const reason = signal.reason as keyof typeof observed;
  if (reason in observed) observed[reason]++;
  return reason;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
