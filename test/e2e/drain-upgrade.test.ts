/**
 * Drain and upgrade under load, with real module processes: every request sent while
 * instances are drained, replaced and upgraded is answered successfully.
 */
import { coreFetch, echoModule, startCore, type TestCore, waitFor } from "../support/harness.ts";

let c: TestCore | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

/** Keeps `workers` clients busy until stopped; counts what was sent and how it ended. */
function load(url: string, workers: number) {
  const counts = { sent: 0, ok: 0, failed: 0, failures: [] as string[] };
  let running = true;
  const worker = async (n: number) => {
    for (let i = 0; running; i++) {
      // A mix: quick idempotent echoes and slower non-idempotent sleeps that are in
      // flight when a drain starts.
      const slow = i % 4 === 0;
      counts.sent++;
      try {
        const res = await coreFetch(`${url}/v1/modules/echo/invoke/${slow ? "sleep" : "echo"}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(slow ? { ms: 150 } : { worker: n, i }),
        });
        const body = await res.text();
        if (res.status === 200) counts.ok++;
        else {
          counts.failed++;
          counts.failures.push(`${res.status} ${body}`);
        }
      } catch (error) {
        counts.failed++;
        counts.failures.push(String(error));
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, n) => worker(n)));
  return {
    counts,
    stop: async () => {
      running = false;
      await done;
      return counts;
    },
  };
}

async function admin(url: string, path: string, body?: unknown): Promise<Response> {
  return coreFetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

test("drain and replace an instance under load: zero requests lost", async () => {
  c = await startCore({ modules: [echoModule({ replicas: 2 })] });
  await c.core.waitReady(10_000);
  const before = c.core.supervisor.get("echo")!.instances.map((i) => i.id);
  const traffic = load(c.url, 8);
  await waitFor(() => traffic.counts.ok > 50, "traffic to flow");
  const res = await admin(c.url, `/admin/modules/echo/instances/${before[0]}/drain`);
  expect(res.status).toBeLessThan(300);
  await waitFor(
    () => !c!.core.supervisor.get("echo")!.instances.some((i) => i.id === before[0]),
    "the old instance to go",
  );
  const sentAtSwitch = traffic.counts.sent;
  await waitFor(() => traffic.counts.sent > sentAtSwitch + 50, "more traffic after the drain");
  const counts = await traffic.stop();
  expect(counts.failures).toEqual([]);
  expect(counts.ok).toBe(counts.sent);
  const after = c.core.supervisor.get("echo")!;
  expect(after.state).toBe("ready");
  expect(after.instances.map((i) => i.id)).not.toContain(before[0]);
  expect(after.instances).toHaveLength(2);
});

test("upgrade under load: the new version takes over atomically, zero requests lost", async () => {
  c = await startCore({ modules: [echoModule({ replicas: 2 })] });
  await c.core.waitReady(10_000);
  const before = c.core.supervisor.get("echo")!.instances;
  const traffic = load(c.url, 8);
  await waitFor(() => traffic.counts.ok > 50, "traffic to flow");
  const res = await admin(c.url, "/admin/modules/echo/upgrade", { env: { ECHO_RELEASE: "2" } });
  expect(res.status).toBeLessThan(300);
  await waitFor(
    () => c!.core.supervisor.get("echo")!.instances.every((i) => i.generation === 2),
    "only generation 2 to remain",
  );
  const sentAtSwitch = traffic.counts.sent;
  await waitFor(() => traffic.counts.sent > sentAtSwitch + 50, "more traffic after the upgrade");
  const counts = await traffic.stop();
  expect(counts.failures).toEqual([]);
  expect(counts.ok).toBe(counts.sent);
  const after = c.core.supervisor.get("echo")!.instances;
  expect(after).toHaveLength(2);
  for (const old of before) expect(after.map((i) => i.id)).not.toContain(old.id);
});

test("a failed upgrade keeps the previous version serving", async () => {
  c = await startCore({ modules: [echoModule()] });
  await c.core.waitReady(10_000);
  const before = c.core.supervisor.get("echo")!.instances[0]!;
  const res = await admin(c.url, "/admin/modules/echo/upgrade", { args: ["/nonexistent/module.js"] });
  expect(res.status).toBe(412);
  const body = (await res.json()) as { error: { code: string } };
  expect(body.error.code).toBe("core.admin.upgrade_failed");
  const after = c.core.supervisor.get("echo")!;
  expect(after.state).toBe("ready");
  expect(after.instances.map((i) => i.id)).toEqual([before.id]);
  const echo = await coreFetch(`${c.url}/v1/modules/echo/invoke/echo`, { method: "POST", body: "{}" });
  expect(echo.status).toBe(200);
});
