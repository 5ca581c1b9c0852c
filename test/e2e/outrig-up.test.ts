/**
 * `outrig up` as a user runs it: a separate process on its embedded default config.
 * Ctrl-C (SIGINT) drains and stops every module and exits 0; metrics and status show
 * the real modules.
 */
import { type ChildProcess, spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { coreFetch, isAlive, NODE, ROOT, spawnCoreProcess, waitFor } from "../support/harness.ts";

let home: string;
let up: ChildProcess;
let url: string;
let output = "";

beforeAll(async () => {
  // The embedded default, on a free port (the default 8080 may be taken on a test machine).
  ({
    child: up,
    home,
    url,
  } = await spawnCoreProcess({
    args: ["up", "--port", "0", "--log-format", "json"],
    output: (text) => {
      output += text;
    },
  }));
});

afterAll(() => {
  up?.kill("SIGKILL");
  if (home) rmSync(home, { recursive: true, force: true });
});

test("the embedded default serves the echo module end to end", async () => {
  const res = await coreFetch(`${url}/v1/modules/echo/invoke/echo`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"hello":"outrig"}',
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ echo: { hello: "outrig" }, instance: "echo-1" });
  await waitFor(() => output.includes("ready: try  curl -s"), "the ready line with the example curl");
});

test("/metrics has per-module, per-RPC latency histograms, restarts and states", async () => {
  await coreFetch(`${url}/v1/modules/echo/invoke/echo`, { method: "POST", body: "{}" });
  const text = await (await coreFetch(`${url}/metrics`)).text();
  expect(text).toMatch(
    /outrig_spi_request_duration_seconds_bucket\{[^}]*module="echo"[^}]*rpc="Invoke"[^}]*outcome="ok"/,
  );
  expect(text).toMatch(/outrig_module_instances\{module="echo",state="ready"\} 1/);
  expect(text).toMatch(/outrig_module_ready\{module="echo"\} 1/);
  expect(text).toContain("# TYPE outrig_module_restarts_total counter");
  expect(text).toMatch(
    /outrig_http_request_duration_seconds_count\{[^}]*route="\/v1\/modules\/:module\/invoke\/:operation"/,
  );
});

test("outrig status finds the core through $OUTRIG_HOME and shows the module", () => {
  const run = (...args: string[]) =>
    spawnSync(NODE, [join(ROOT, "bin/outrig.js"), "status", ...args], {
      env: { ...process.env, OUTRIG_HOME: home },
      encoding: "utf8",
    });
  const table = run();
  expect(table.status).toBe(0);
  expect(table.stdout).toMatch(/echo\s+ready\s+1\/1/);
  const json = JSON.parse(run("--json").stdout) as {
    modules: Array<{ id: string; spiVersion: string; instances: Array<{ pid: number }> }>;
  };
  expect(json.modules[0]).toMatchObject({ id: "echo", spiVersion: "1.0" });
  expect(json.modules[0]!.instances[0]!.pid).toBeGreaterThan(0);
});

test("Ctrl-C drains and stops every module, removes runtime state, and exits 0", async () => {
  const res = await coreFetch(`${url}/admin/modules/echo`);
  const { module } = (await res.json()) as { module: { instances: Array<{ pid: number }> } };
  const pids = module.instances.map((i) => i.pid);
  const exited = new Promise<number | null>((resolve) => up.once("exit", (code) => resolve(code)));
  up.kill("SIGINT");
  expect(await exited).toBe(0);
  for (const pid of pids) expect(isAlive(pid)).toBe(false);
  expect(existsSync(join(home, "core.json"))).toBe(false);
  expect(existsSync(join(home, "run", String(up.pid)))).toBe(false);
  expect(output).toContain("core stopped");
});
