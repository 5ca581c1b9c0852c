/**
 * Crashes and restarts with real processes: kill -9 of a module, requests while it is
 * down, a crash loop that exhausts the restart budget while other modules keep serving.
 */
import {
  CRASH_MODULE,
  coreFetch,
  echoModule,
  FAST,
  invokeJson,
  isAlive,
  startCore,
  type TestCore,
  waitFor,
  waitForState,
} from "../support/harness.ts";

let c: TestCore | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

test("kill -9 of a module: requests get a retryable UNAVAILABLE (never a hang), then it is back", async () => {
  c = await startCore({
    modules: [
      echoModule({
        restart: { ...FAST.restart, backoff: { initial_ms: 400, max_ms: 400, multiplier: 1, jitter: 0 } },
      }),
    ],
  });
  await c.core.waitReady(10_000);
  const first = c.core.supervisor.get("echo")!.instances[0]!;
  process.kill(first.pid!, "SIGKILL");

  // While it is down, every request answers fast with a retryable UNAVAILABLE.
  const outcomes: Array<{ status: number; ms: number; error?: Record<string, unknown> }> = [];
  const until = Date.now() + 10_000;
  for (;;) {
    const started = Date.now();
    const res = await invokeJson(c.url, "echo", "echo", { n: outcomes.length });
    outcomes.push({
      status: res.status,
      ms: Date.now() - started,
      error: res.body.error as Record<string, unknown>,
    });
    if (res.status === 200 && outcomes.some((o) => o.status === 503)) break;
    if (Date.now() > until)
      throw new Error(`module did not come back: ${JSON.stringify(outcomes.slice(-3))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const failures = outcomes.filter((o) => o.status !== 200);
  expect(failures.length).toBeGreaterThan(0);
  for (const f of failures) {
    expect(f.status).toBe(503);
    expect(f.error).toMatchObject({ category: "UNAVAILABLE", retryable: true });
    expect(f.ms).toBeLessThan(2000);
  }
  // While the restart is pending, the hint is the supervisor's backoff (400 ms), else 1 s.
  expect(failures.some((f) => f.error?.retryAfterMs === 400)).toBe(true);
  expect(failures.every((f) => [400, 1000].includes(f.error?.retryAfterMs as number))).toBe(true);
  const now = c.core.supervisor.get("echo")!;
  expect(now.state).toBe("ready");
  expect(now.restarts.total).toBe(1);
  expect(now.instances[0]!.pid).not.toBe(first.pid);
  expect(isAlive(first.pid!)).toBe(false);
});

test("a crash loop exhausts the restart budget: the module fails, the core and other modules keep serving", async () => {
  c = await startCore({
    modules: [
      echoModule(),
      {
        id: "crashy",
        command: "node",
        args: [CRASH_MODULE],
        env: { CRASH_AFTER_MS: "50" },
        ...FAST,
        restart: {
          max_restarts: 3,
          window_ms: 60_000,
          backoff: { initial_ms: 20, max_ms: 100, multiplier: 2, jitter: 0 },
        },
      },
    ],
  });
  const status = await waitForState(c!, "crashy", "failed", 20_000);
  expect(status.restarts).toMatchObject({ total: 3, inWindow: 3, max: 3 });
  expect(status.lastError?.message).toMatch(/restart budget exhausted \(3 restarts within 60000 ms\)/);
  expect(
    c
      .entries()
      .some((e) => e.level === "error" && /module "crashy" failed: restart budget exhausted/.test(e.msg)),
  ).toBe(true);

  const failed = await invokeJson(c.url, "crashy", "ping", {});
  expect(failed.status).toBe(503);
  expect(failed.body.error).toMatchObject({ code: "core.invoke.module_failed", retryable: false });

  const echo = await invokeJson(c.url, "echo", "echo", { still: "serving" });
  expect(echo.status).toBe(200);
  const ready = await coreFetch(`${c.url}/readyz`);
  expect(ready.status).toBe(503);
  const body = (await ready.json()) as { modules: Array<{ id: string; state: string }> };
  expect(body.modules).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ id: "echo", state: "ready" }),
      expect.objectContaining({ id: "crashy", state: "failed" }),
    ]),
  );
});

test("a hung module fails its health checks and is restarted", async () => {
  c = await startCore({ modules: [echoModule()] });
  await c.core.waitReady(10_000);
  const first = c.core.supervisor.get("echo")!.instances[0]!;
  process.kill(first.pid!, "SIGSTOP");
  try {
    await waitFor(
      () => {
        const s = c!.core.supervisor.get("echo")!;
        return s.state === "ready" && s.instances[0]?.pid !== first.pid ? s : undefined;
      },
      "a replacement instance",
      15_000,
    );
  } finally {
    if (isAlive(first.pid!)) process.kill(first.pid!, "SIGCONT");
  }
  await waitFor(() => !isAlive(first.pid!), "the hung process to be gone");
  expect(c.core.supervisor.get("echo")!.restarts.total).toBe(1);
});
