import type { BucketSpec, TakeResult } from "./store.ts";

export interface BucketState {
  tokens: number;
  updatedMs: number;
}

/**
 * One take from a bucket at `nowMs`, as a pure function (the Redis script does the
 * same arithmetic). A fresh bucket starts full. Time never runs backwards for a bucket.
 */
export function takeFromBucket(
  state: BucketState | undefined,
  bucket: BucketSpec,
  cost: number,
  nowMs: number,
): { state: BucketState; result: TakeResult } {
  const ratePerMs = bucket.refillPerSecond / 1000;
  let tokens = state ? state.tokens : bucket.capacity;
  const updatedMs = state ? Math.max(state.updatedMs, nowMs) : nowMs;
  if (state && nowMs > state.updatedMs)
    tokens = Math.min(bucket.capacity, tokens + (nowMs - state.updatedMs) * ratePerMs);
  if (tokens >= cost) {
    tokens -= cost;
    return { state: { tokens, updatedMs }, result: { allowed: true, remaining: tokens, retryAfterMs: 0 } };
  }
  const retryAfterMs = ratePerMs > 0 ? Math.ceil((cost - tokens) / ratePerMs) : Number.MAX_SAFE_INTEGER;
  return { state: { tokens, updatedMs }, result: { allowed: false, remaining: tokens, retryAfterMs } };
}

/** How long an idle bucket must be kept before it is full again (then it can be forgotten). */
export function msUntilFull(bucket: BucketSpec, tokens: number): number {
  const ratePerMs = bucket.refillPerSecond / 1000;
  return ratePerMs > 0 ? Math.ceil((bucket.capacity - tokens) / ratePerMs) : 86_400_000;
}
