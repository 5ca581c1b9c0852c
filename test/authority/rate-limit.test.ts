import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { createClient } from "redis";
import { createPrincipal } from "../../src/authority/principal.ts";
import { RateLimiter } from "../../src/authority/rate-limit/limiter.ts";
import { MemoryRateLimitStore } from "../../src/authority/rate-limit/memory-store.ts";
import { RedisRateLimitStore } from "../../src/authority/rate-limit/redis-store.ts";
import { takeFromBucket } from "../../src/authority/rate-limit/token-bucket.ts";
import { type RedisServer, startRedis } from "./support/redis.ts";

const WORKER = fileURLToPath(new URL("./support/rate-limit-worker.ts", import.meta.url));
const alice = createPrincipal({ subject: "alice", authMethod: "jwt", teamScope: { kind: "public_only" } });
const bob = createPrincipal({ subject: "bob", authMethod: "jwt", teamScope: { kind: "public_only" } });
const target = { module: "mcp-github", action: "mcp.tools.call" };

describe("token bucket", () => {
  it("never allows more than capacity plus what was refilled (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 100 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 200 }),
        (capacity, refillPerSecond, gaps) => {
          const bucket = { capacity, refillPerSecond };
          let state: ReturnType<typeof takeFromBucket>["state"] | undefined;
          let now = 0;
          let allowed = 0;
          for (const gap of gaps) {
            now += gap;
            const step = takeFromBucket(state, bucket, 1, now);
            state = step.state;
            if (step.result.allowed) allowed++;
            else if (refillPerSecond > 0 && step.result.retryAfterMs <= 0) return false;
          }
          return allowed <= capacity + Math.floor((now * refillPerSecond) / 1000) + 1;
        },
      ),
    );
  });

  it("tells how long to wait", () => {
    const bucket = { capacity: 2, refillPerSecond: 4 };
    let state = takeFromBucket(undefined, bucket, 1, 0).state;
    state = takeFromBucket(state, bucket, 1, 0).state;
    const denied = takeFromBucket(state, bucket, 1, 0);
    expect(denied.result).toEqual({ allowed: false, remaining: 0, retryAfterMs: 250 });
    expect(takeFromBucket(denied.state, bucket, 1, 250).result.allowed).toBe(true);
  });
});

describe("RateLimiter with the memory store", () => {
  it("limits per principal, module and action, and answers RATE_LIMITED with retryAfterMs", async () => {
    let now = 0;
    const limiter = new RateLimiter({
      store: new MemoryRateLimitStore({ now: () => now }),
      rules: [
        { match: { action: "mcp.*", module: "mcp-github" }, capacity: 2, refillPerSecond: 1 },
        { match: { subject: "bob" }, capacity: 1, refillPerSecond: 1 },
      ],
    });
    expect((await limiter.check(alice, target)).allowed).toBe(true);
    expect((await limiter.check(alice, target)).allowed).toBe(true);
    const denied = await limiter.check(alice, target);
    expect(denied.allowed).toBe(false);
    if (denied.allowed) return;
    expect(denied.error.category).toBe("RATE_LIMITED");
    expect(denied.error.code).toBe("rate.limit.exceeded");
    expect(denied.error.retryAfterMs).toBe(1000);
    expect(denied.error.toEnvelope()).toMatchObject({ retryable: true, retryAfterMs: 1000 });
    // Other action, other module, other principal: other buckets.
    expect((await limiter.check(alice, { ...target, action: "mcp.tools.list" })).allowed).toBe(true);
    expect((await limiter.check(bob, target)).allowed).toBe(true);
    expect((await limiter.check(alice, { module: "llm", action: "llm.chat" })).allowed).toBe(true); // no rule
    now += 1000;
    expect((await limiter.check(alice, target)).allowed).toBe(true);
  });

  it("fails closed when its store fails, unless told otherwise", async () => {
    const broken = { take: async () => Promise.reject(new Error("connection refused")) };
    const rules = [{ capacity: 1, refillPerSecond: 1 }];
    const closed = await new RateLimiter({ store: broken, rules }).check(alice, target);
    expect(closed.allowed || closed.error.code).toBe("rate.store.unavailable");
    expect(
      (await new RateLimiter({ store: broken, rules, failOpen: true }).check(alice, target)).allowed,
    ).toBe(true);
  });

  it("refuses nonsensical rules", () => {
    const store = new MemoryRateLimitStore();
    expect(() => new RateLimiter({ store, rules: [{ capacity: 0, refillPerSecond: 1 }] })).toThrow();
    expect(() => new RateLimiter({ store, rules: [{ capacity: 1, refillPerSecond: 1, cost: 2 }] })).toThrow();
  });
});

describe("RedisRateLimitStore on a real redis-server", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("enforces one limit across two separate OS processes", async () => {
    const prefix = `two-proc-${Date.now()}:`;
    const capacity = 50;
    const perProcess = 100;
    const workers = [0, 1].map(() =>
      spawn(
        process.execPath,
        [
          "--experimental-transform-types",
          "--no-warnings",
          WORKER,
          redis.url,
          String(perProcess),
          String(capacity),
          prefix,
        ],
        { stdio: ["pipe", "pipe", "inherit"] },
      ),
    );
    const outputs = workers.map((w) => createInterface({ input: w.stdout! })[Symbol.asyncIterator]());
    for (const out of outputs) expect((await out.next()).value).toBe("ready");
    for (const w of workers) w.stdin!.write("go\n");
    const results = await Promise.all(
      outputs.map(
        async (out) =>
          JSON.parse((await out.next()).value as string) as {
            pid: number;
            allowed: number;
            denied: number;
            retryAfterMs: number;
          },
      ),
    );
    await Promise.all(
      workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once("exit", r)))),
    );
    expect(results[0]!.pid).not.toBe(results[1]!.pid);
    // Separate limits would admit 2 × 50; one shared limit admits 50 in all.
    expect(results[0]!.allowed + results[1]!.allowed).toBe(capacity);
    expect(results[0]!.denied + results[1]!.denied).toBe(2 * perProcess - capacity);
    for (const r of results) if (r.denied > 0) expect(r.retryAfterMs).toBeGreaterThan(0);
  }, 30_000);

  it("keeps bucket keys only as long as needed, and hashes the subject", async () => {
    const store = await RedisRateLimitStore.connect(redis.url, { keyPrefix: "ttl-test:" });
    const limiter = new RateLimiter({ store, rules: [{ capacity: 10, refillPerSecond: 5 }] });
    await limiter.check(alice, target);
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const keys = await client.keys("ttl-test:*");
      expect(keys).toHaveLength(1);
      expect(keys[0]).not.toContain("alice");
      const ttl = await client.pTTL(keys[0]!);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(1200); // (10 - 9) / 5 per s = 200 ms, plus a 1 s margin
      await client.scriptFlush(); // a restarted Redis forgets scripts: the store reloads it
      expect((await limiter.check(alice, target)).allowed).toBe(true);
    } finally {
      await client.close();
      await store.close();
    }
  });

  it("answers UNAVAILABLE when Redis goes away", async () => {
    const extra = await startRedis();
    const store = await RedisRateLimitStore.connect(extra.url);
    try {
      const limiter = new RateLimiter({ store, rules: [{ capacity: 10, refillPerSecond: 5 }] });
      expect((await limiter.check(alice, target)).allowed).toBe(true);
      await extra.stop();
      const result = await limiter.check(alice, target);
      expect(result.allowed || result.error.category).toBe("UNAVAILABLE");
    } finally {
      await extra.stop();
      await store.close().catch(() => undefined);
    }
  });

  it("fails loudly, never skips, when redis-server is not installed", async () => {
    await expect(startRedis({ searchPath: "/nonexistent" })).rejects.toThrow(/redis-server is not installed/);
  });
});
