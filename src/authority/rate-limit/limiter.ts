import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { OutrigError } from "../../errors/outrig-error.ts";
import { authorityError } from "../codes.ts";
import type { Principal } from "../principal.ts";
import type { BucketSpec, RateLimitStore } from "./store.ts";

/**
 * A limit for the requests it matches. Every field of `match` that is set must
 * match; `action` may end in `*` (`mcp.*`). The first matching rule wins.
 */
export interface RateLimitRule extends BucketSpec {
  readonly match?: { readonly action?: string; readonly module?: string; readonly subject?: string };
  /** Tokens one request costs. Default 1. */
  readonly cost?: number;
}

export type RateLimitResult =
  | { readonly allowed: true; readonly remaining: number }
  | { readonly allowed: false; readonly error: OutrigError };

export interface RateLimiterOptions {
  store: RateLimitStore;
  rules: readonly RateLimitRule[];
  /**
   * When the store fails (Redis down): deny with UNAVAILABLE (default, fail closed)
   * or let the request through.
   */
  failOpen?: boolean;
  logger?: Logger;
}

/** A bucket that never refills still gets a finite hint. */
const MAX_RETRY_AFTER_MS = 86_400_000;

const callerKeys = new WeakMap<Principal, string>();

/** The bucket key's caller part: hashed, so no identity reaches a shared store. Memoized per frozen principal. */
function callerKey(principal: Principal): string {
  let key = callerKeys.get(principal);
  if (key === undefined) {
    key = createHash("sha256")
      .update(`${principal.authMethod}\u0000${principal.subject}`)
      .digest("base64url")
      .slice(0, 22);
    if (Object.isFrozen(principal)) callerKeys.set(principal, key);
  }
  return key;
}

function matches(pattern: string | undefined, value: string): boolean {
  if (pattern === undefined) return true;
  return pattern.endsWith("*") ? value.startsWith(pattern.slice(0, -1)) : pattern === value;
}

/**
 * Token buckets per (principal, module, action). The key hashes the subject, so no
 * identity (an e-mail address, say) is written into a shared store.
 */
export class RateLimiter {
  readonly #options: RateLimiterOptions;

  constructor(options: RateLimiterOptions) {
    for (const rule of options.rules) {
      const cost = rule.cost ?? 1;
      if (!(rule.capacity > 0) || !(rule.refillPerSecond >= 0) || !(cost > 0) || cost > rule.capacity) {
        throw new RangeError(
          "a rate limit rule needs capacity > 0, refillPerSecond ≥ 0 and 0 < cost ≤ capacity",
        );
      }
    }
    this.#options = options;
  }

  ruleFor(principal: Principal, module: string, action: string): RateLimitRule | undefined {
    return this.#options.rules.find(
      (r) =>
        matches(r.match?.action, action) &&
        matches(r.match?.module, module) &&
        matches(r.match?.subject, principal.subject),
    );
  }

  async check(principal: Principal, target: { module: string; action: string }): Promise<RateLimitResult> {
    const rule = this.ruleFor(principal, target.module, target.action);
    if (!rule) return { allowed: true, remaining: Number.POSITIVE_INFINITY };
    const key = `${callerKey(principal)}:${target.module}:${target.action}`;
    try {
      const result = await this.#options.store.take(key, rule, rule.cost ?? 1);
      if (result.allowed) return { allowed: true, remaining: result.remaining };
      return {
        allowed: false,
        error: authorityError("rate.limit.exceeded", {
          retryAfterMs: Math.min(MAX_RETRY_AFTER_MS, Math.max(1, result.retryAfterMs)),
        }),
      };
    } catch (error) {
      this.#options.logger?.warn({ err: { name: (error as Error)?.name } }, "rate limit store failed");
      if (this.#options.failOpen) return { allowed: true, remaining: 0 };
      return { allowed: false, error: authorityError("rate.store.unavailable", { retryAfterMs: 1000 }) };
    }
  }
}
