/**
 * Two core processes sharing one real Redis enforce a single rate limit together: the
 * same caller spending against core A and core B draws from one bucket.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RedisServer, startRedis } from "../authority/support/redis.ts";
import { ECHO_MAIN, NODE, ROOT, waitFor } from "../support/harness.ts";

let redis: RedisServer;
const cores: Array<{ process: ChildProcess; home: string; url: string; token: string }> = [];

async function startCoreProcess(redisUrl: string): Promise<(typeof cores)[number]> {
  const home = mkdtempSync(join(tmpdir(), "shared-"));
  const config = join(home, "outrig.json");
  writeFileSync(
    config,
    JSON.stringify({
      server: { port: 0 },
      logging: { format: "json", level: "warn" },
      authority: {
        rate_limits: {
          redis_url: redisUrl,
          rules: [{ match: { module: "echo" }, capacity: 5, refill_per_second: 0.001 }],
        },
      },
      modules: [{ id: "echo", command: "node", args: [ECHO_MAIN] }],
    }),
  );
  const child = spawn(NODE, [join(ROOT, "bin/outrig.js"), "core", "--config", config], {
    env: { ...process.env, OUTRIG_HOME: home },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const state = await waitFor(() => {
    try {
      return JSON.parse(readFileSync(join(home, "core.json"), "utf8")) as { url: string };
    } catch {
      return undefined;
    }
  }, "core.json");
  const token = readFileSync(join(home, "dev-token"), "utf8").trim();
  await waitFor(
    async () => (await fetch(`${state.url}/readyz`).catch(() => undefined))?.status === 200,
    "readiness",
    20_000,
  );
  const core = { process: child, home, url: state.url, token };
  cores.push(core);
  return core;
}

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  for (const core of cores) {
    core.process.kill("SIGTERM");
    await new Promise((r) => core.process.once("exit", r));
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
