/** Deadlines and cancellation travel from the client through the core to the module's handler. */

import type { StreamEvent } from "../../src/core/types.ts";
import { coreFetch, echoModule, startCore, type TestCore, waitFor } from "../support/harness.ts";

let c: TestCore | undefined;
beforeAll(async () => {
  c = await startCore({ modules: [echoModule()] });
  await c.core.waitReady(10_000);
});
afterAll(async () => {
  await c?.stop();
});

async function moduleStats() {
  const instance = c!.core.supervisor.group("echo")!.descriptorSource!;
  return instance.client!.unary("getStats", {});
}

test("a client deadline reaches the module: the handler observes it and the caller gets a 504", async () => {
  const started = Date.now();
  const res = await coreFetch(`${c!.url}/v1/modules/echo/invoke/sleep`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-outrig-timeout-ms": "300" },
    body: JSON.stringify({ ms: 10_000 }),
  });
  const elapsed = Date.now() - started;
  expect(res.status).toBe(504);
  expect(((await res.json()) as { error: { code: string; category: string } }).error).toMatchObject({
    code: "core.invoke.deadline_exceeded",
    category: "UNAVAILABLE",
  });
  expect(elapsed).toBeGreaterThanOrEqual(290);
  expect(elapsed).toBeLessThan(3000);
  await waitFor(
    async () => (await moduleStats()).custom.observed_deadline === 1,
    "the module to observe the deadline",
  );
});

test("a client that goes away cancels the module call: the handler observes the cancel", async () => {
  const controller = new AbortController();
  const request = coreFetch(`${c!.url}/v1/modules/echo/invoke/sleep`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ms: 10_000 }),
    signal: controller.signal,
  }).catch(() => "aborted");
  await waitFor(async () => (await moduleStats()).inFlight === 1, "the call to reach the module");
  controller.abort();
  expect(await request).toBe("aborted");
  await waitFor(
    async () => (await moduleStats()).custom.observed_cancelled === 1,
    "the module to observe the cancel",
  );
  expect((await moduleStats()).inFlight).toBe(0);
});

test("a cancelled stream stops at the module and yields no chunk after the cancel", async () => {
  const cancelledBefore = (await moduleStats()).custom.observed_cancelled ?? 0;
  const controller = new AbortController();
  const events: StreamEvent[] = [];
  let chunksAfterCancel = 0;
  let cancelledAt = -1;
  for await (const event of c!.core.router.invokeStream({
    moduleId: "echo",
    operation: "echo.stream",
    payload: new TextEncoder().encode(JSON.stringify({ count: 1_000_000, delay_ms: 1 })),
    contentType: "application/json",
    signal: controller.signal,
  })) {
    events.push(event);
    if (cancelledAt >= 0 && event.type === "chunk") chunksAfterCancel++;
    if (event.type === "chunk" && event.sequence === 20) {
      controller.abort();
      cancelledAt = events.length;
    }
  }
  expect(events[0]?.type).toBe("started");
  expect(chunksAfterCancel).toBe(0);
  expect(events.slice(cancelledAt)).toEqual([
    { type: "end", cancelled: true, usage: { inputTokens: 0, outputTokens: 0, counters: {} } },
  ]);
  await waitFor(async () => (await moduleStats()).inFlight === 0, "the module to stop generating");
  await waitFor(
    async () => (await moduleStats()).custom.observed_cancelled === cancelledBefore + 1,
    "the stream handler to observe the cancel",
  );
});
