import { createHash } from "node:crypto";
import { createClient } from "redis";
import type { BucketSpec, RateLimitStore, TakeResult } from "./store.ts";

/**
 * The token bucket as one Lua script, so a take is atomic across every core that
 * shares the Redis server. Time comes from Redis (`TIME`), not from the cores, so
 * replicas with skewed clocks still agree. Keys expire once the bucket would be full.
 */
export const TOKEN_BUCKET_SCRIPT = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
if now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate)
  ts = now
end
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
elseif rate > 0 then
  retry = math.ceil((cost - tokens) / rate)
else
  retry = -1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
local ttl = 86400000
if rate > 0 then ttl = math.ceil((capacity - tokens) / rate) + 1000 end
redis.call('PEXPIRE', KEYS[1], ttl)
return {allowed, tostring(tokens), retry}
`;

const SCRIPT_SHA = createHash("sha1").update(TOKEN_BUCKET_SCRIPT).digest("hex");

/** The two commands the store needs; a node-redis client satisfies it. */
export interface RedisScriptClient {
  scriptLoad(script: string): Promise<unknown>;
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

export interface RedisRateLimitStoreOptions {
  /** Prefix of every key. Default `outrig:rl:`. */
  keyPrefix?: string;
  /** A take that has no answer by then fails (and the limiter fails closed). Default 500 ms. */
  timeoutMs?: number;
}

export class RedisRateLimitStore implements RateLimitStore {
  readonly #client: RedisScriptClient;
  readonly #prefix: string;
  readonly #onClose: (() => Promise<void>) | undefined;
  readonly #timeoutMs: number;

  constructor(
    client: RedisScriptClient,
    options: RedisRateLimitStoreOptions & { onClose?: () => Promise<void> } = {},
  ) {
    this.#client = client;
    this.#prefix = options.keyPrefix ?? "outrig:rl:";
    this.#onClose = options.onClose;
    this.#timeoutMs = options.timeoutMs ?? 500;
  }

  /** Connects its own client (closed by `close()`). */
  static async connect(url: string, options: RedisRateLimitStoreOptions = {}): Promise<RedisRateLimitStore> {
    const client = createClient({
      url,
      // Fail fast while disconnected instead of queueing: a rate check is on the request path.
      disableOfflineQueue: true,
      socket: { connectTimeout: 2_000, reconnectStrategy: (retries) => Math.min(retries * 100, 2_000) },
    });
    // Without a listener an 'error' event would crash the process; takes fail on their own.
    client.on("error", () => undefined);
    await client.connect();
    return new RedisRateLimitStore(client as unknown as RedisScriptClient, {
      ...options,
      onClose: async () => {
        await client.close();
      },
    });
  }

  async take(key: string, bucket: BucketSpec, cost: number): Promise<TakeResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("rate limit store timed out")), this.#timeoutMs);
    });
    try {
      return await Promise.race([this.#take(key, bucket, cost), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #take(key: string, bucket: BucketSpec, cost: number): Promise<TakeResult> {
    const args = {
      keys: [`${this.#prefix}${key}`],
      arguments: [String(bucket.capacity), String(bucket.refillPerSecond / 1000), String(cost)],
    };
    let reply: unknown;
    try {
      reply = await this.#client.evalSha(SCRIPT_SHA, args);
    } catch (error) {
      if (!String((error as { message?: unknown })?.message).includes("NOSCRIPT")) throw error;
      await this.#client.scriptLoad(TOKEN_BUCKET_SCRIPT);
      reply = await this.#client.evalSha(SCRIPT_SHA, args);
    }
    if (!Array.isArray(reply) || reply.length !== 3) throw new Error("unexpected rate limit script reply");
    const [allowed, remaining, retry] = reply as [number, string, number];
    return {
      allowed: Number(allowed) === 1,
      remaining: Number(remaining),
      retryAfterMs: Number(retry) < 0 ? Number.MAX_SAFE_INTEGER : Number(retry),
    };
  }

  async close(): Promise<void> {
    await this.#onClose?.();
  }
}
