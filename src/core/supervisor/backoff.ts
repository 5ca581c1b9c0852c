export interface BackoffPolicy {
  initial_ms: number;
  max_ms: number;
  multiplier: number;
  /** Fraction of the delay randomized either way, 0..1. */
  jitter: number;
}

/** Delay before restart number `attempt` (1-based): exponential, capped, with jitter. */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponential = policy.initial_ms * policy.multiplier ** Math.max(0, attempt - 1);
  const capped = Math.min(policy.max_ms, exponential);
  const spread = capped * policy.jitter;
  return Math.max(0, Math.round(capped - spread + random() * 2 * spread));
}
