/**
 * A separate OS process standing in for one core replica: it waits for "go" on
 * stdin, then spends `count` requests against the shared Redis limit and prints
 * how many were allowed.
 */
import { createInterface } from "node:readline";
import { createPrincipal } from "../../../src/authority/principal.ts";
import { RateLimiter } from "../../../src/authority/rate-limit/limiter.ts";
import { RedisRateLimitStore } from "../../../src/authority/rate-limit/redis-store.ts";

const [url, count, capacity, prefix] = process.argv.slice(2) as [string, string, string, string];
const store = await RedisRateLimitStore.connect(url, { keyPrefix: prefix });
const limiter = new RateLimiter({
  store,
  rules: [{ match: { action: "mcp.tools.call" }, capacity: Number(capacity), refillPerSecond: 0.001 }],
});
const principal = createPrincipal({
  subject: "alice",
  authMethod: "jwt",
  teamScope: { kind: "public_only" },
});
process.stdout.write("ready\n");
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === "go") break;
let allowed = 0;
let denied = 0;
let retryAfterMs = 0;
await Promise.all(
  Array.from({ length: 8 }, async (_, lane) => {
    for (let i = lane; i < Number(count); i += 8) {
      const result = await limiter.check(principal, { module: "mcp-github", action: "mcp.tools.call" });
      if (result.allowed) allowed++;
      else {
        denied++;
        if (result.error.category !== "RATE_LIMITED") throw new Error(`unexpected ${result.error.code}`);
        retryAfterMs = result.error.retryAfterMs ?? 0;
      }
    }
  }),
);
process.stdout.write(`${JSON.stringify({ pid: process.pid, allowed, denied, retryAfterMs })}\n`);
await store.close();
process.exit(0);
