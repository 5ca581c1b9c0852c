import type { BucketSpec, RateLimitStore, TakeResult } from "./store.ts";
import { type BucketState, msUntilFull, takeFromBucket } from "./token-bucket.ts";

/** Buckets in this process. Full buckets are swept, so idle keys cost nothing. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #buckets = new Map<string, BucketState & { forgetAtMs: number }>();
  readonly #now: () => number;
  readonly #maxKeys: number;
  #sweepAtMs = 0;

  constructor(options: { now?: () => number; maxKeys?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxKeys = options.maxKeys ?? 1_000_000;
  }

  get size(): number {
    return this.#buckets.size;
  }

  async take(key: string, bucket: BucketSpec, cost: number): Promise<TakeResult> {
    const now = this.#now();
    this.#sweep(now);
    const { state, result } = takeFromBucket(this.#buckets.get(key), bucket, cost, now);
    this.#buckets.delete(key);
    this.#buckets.set(key, { ...state, forgetAtMs: now + msUntilFull(bucket, state.tokens) });
    if (this.#buckets.size > this.#maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (!oldest.done) this.#buckets.delete(oldest.value);
    }
    return result;
  }

  #sweep(now: number): void {
    if (now < this.#sweepAtMs) return;
    this.#sweepAtMs = now + 10_000;
    for (const [key, b] of this.#buckets) if (b.forgetAtMs <= now) this.#buckets.delete(key);
  }
}
