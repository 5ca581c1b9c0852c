/** A token bucket: `capacity` tokens at most, refilled continuously at `refillPerSecond`. */
export interface BucketSpec {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

export interface TakeResult {
  readonly allowed: boolean;
  /** Tokens left after this take (fractional). */
  readonly remaining: number;
  /** When denied: how long until `cost` tokens are there again. 0 when allowed. */
  readonly retryAfterMs: number;
}

/**
 * Where bucket state lives. `take` must be atomic per key: two concurrent takes on
 * one key never both spend the last token. Memory for one core; Redis for several.
 */
export interface RateLimitStore {
  take(key: string, bucket: BucketSpec, cost: number): Promise<TakeResult>;
  close?(): Promise<void>;
}
