/**
 * Two core processes sharing one real Redis enforce a single rate limit together: the
 * same caller spending against core A and core B draws from one bucket.
 */
import { rmSync } from "node:fs";
import { type RedisServer, startRedis } from "../authority/support/redis.ts";
import { type CoreProcess, ECHO_MAIN, spawnCoreProcess } from "../support/harness.ts";

let redis: RedisServer;
const cores: CoreProcess[] = [];

async function startCoreProcess(redisUrl: string): Promise<CoreProcess> {
  const core = await spawnCoreProcess({
    args: ["core"],
    config: {
      server: { port: 0 },
      logging: { format: "json", level: "warn" },
      authority: {
        rate_limits: {
          redis_url: redisUrl,
          rules: [{ match: { module: "echo" }, capacity: 5, refill_per_second: 0.001 }],
        },
      },
      modules: [{ id: "echo", command: "node", args: [ECHO_MAIN] }],
    },
  });
  cores.push(core);
  return core;
}

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  for (const core of cores) {
    core.child.kill("SIGTERM");
    await new Promise((r) => core.child.once("exit", r));
    rmSync(core.home, { recursive: true, force: true });
  }
  await redis?.stop();
});

test("two cores enforce one limit together through Redis", async () => {
  const [a, b] = await Promise.all([startCoreProcess(redis.url), startCoreProcess(redis.url)]);
  const call = async (core: { url: string; token: string }) =>
    (
      await fetch(`${core.url}/v1/modules/echo/invoke/echo`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${core.token}` },
        body: "{}",
      })
    ).status;
  // Both cores' development tokens are the same principal (dev:admin): one bucket of 5.
  const statuses = [];
  for (const core of [a!, b!, a!, b!, a!, b!, a!, b!]) statuses.push(await call(core));
  expect(statuses.filter((s) => s === 200)).toHaveLength(5);
  expect(statuses.slice(5)).toEqual([429, 429, 429]);
});
