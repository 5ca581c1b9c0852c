/**
 * Attached launch (docker compose, Kubernetes): modules the core did not start
 * register through RegistrationService with a bootstrap credential, in any start
 * order, and a required module that never registers is a loud, named error.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  coreFetch,
  ECHO_MAIN,
  FAST,
  freePort,
  invokeJson,
  NODE,
  startCore,
  type TestCore,
  waitFor,
  waitForState,
} from "../support/harness.ts";

const BOOTSTRAP = "attached-bootstrap-token-0123456789";
let c: TestCore | undefined;
let modules: ChildProcess[] = [];
afterEach(async () => {
  for (const m of modules) m.kill("SIGKILL");
  modules = [];
  await c?.stop();
  c = undefined;
});

function startAttachedEcho(coreAddress: string, instanceId: string): ChildProcess {
  const child = spawn(NODE, [ECHO_MAIN], {
    env: {
      PATH: process.env.PATH,
      OUTRIG_CORE_ADDRESS: coreAddress,
      OUTRIG_BOOTSTRAP_TOKEN: BOOTSTRAP,
      OUTRIG_LISTEN: "127.0.0.1:0",
      OUTRIG_INSTANCE_ID: instanceId,
      OUTRIG_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "ignore"],
  });
  modules.push(child);
  return child;
}

function attachedConfig(port: number, registrationMs = 10_000): Record<string, unknown> {
  return {
    spi: {
      tcp_listen: `127.0.0.1:${port}`,
      bootstrap_token: { value: BOOTSTRAP },
      heartbeat_interval_ms: 200,
    },
    modules: [
      {
        id: "echo",
        launch: "attached",
        health: FAST.health,
        timeouts: { ...FAST.timeouts, registration_ms: registrationMs },
      },
    ],
  };
}

test("core first, then the module: it registers, passes the start sequence and serves", async () => {
  const port = await freePort();
  c = await startCore(attachedConfig(port));
  expect(c.core.supervisor.get("echo")!.state).toBe("waiting");
  startAttachedEcho(`127.0.0.1:${port}`, "echo-pod-a");
  await c.core.waitReady(10_000);
  const status = c.core.supervisor.get("echo")!;
  expect(status.instances).toEqual([
    expect.objectContaining({ id: "echo-pod-a", deployment: "attached", state: "ready" }),
  ]);
  const res = await invokeJson(c.url, "echo", "echo", { via: "attached" });
  expect(res.status).toBe(200);
  expect(res.body.instance).toBe("echo-pod-a");
});

test("module first, then the core: the module retries until the core answers", async () => {
  const port = await freePort();
  startAttachedEcho(`127.0.0.1:${port}`, "echo-pod-b");
  await new Promise((r) => setTimeout(r, 700));
  c = await startCore(attachedConfig(port));
  await c.core.waitReady(10_000);
  expect((await invokeJson(c.url, "echo", "echo", {})).body.instance).toBe("echo-pod-b");
});

test("a restarted core is found again: the module registers anew when the core stops calling", async () => {
  const port = await freePort();
  c = await startCore(attachedConfig(port));
  startAttachedEcho(`127.0.0.1:${port}`, "echo-pod-c");
  await c.core.waitReady(10_000);
  await c.stop();
  c = await startCore(attachedConfig(port));
  await c.core.waitReady(10_000);
  expect((await invokeJson(c.url, "echo", "echo", {})).status).toBe(200);
});

test("a required module that never registers is a loud, named error in status and logs", async () => {
  const port = await freePort();
  c = await startCore(attachedConfig(port, 300));
  const status = await waitForState(c!, "echo", "failed");
  expect(status.lastError?.message).toBe(
    'required module "echo" has not registered within 300 ms; check that it runs and can reach the core\'s SPI address',
  );
  expect(c.entries().some((e) => e.level === "error" && e.msg === status.lastError?.message)).toBe(true);
  const ready = await coreFetch(`${c.url}/readyz`);
  expect(ready.status).toBe(503);
  // A late arrival still recovers the module.
  startAttachedEcho(`127.0.0.1:${port}`, "echo-late");
  await waitFor(
    async () => (await coreFetch(`${c!.url}/readyz`)).status === 200,
    "the late module to make the core ready",
  );
  expect(c.core.supervisor.get("echo")!.state).toBe("ready");
});
