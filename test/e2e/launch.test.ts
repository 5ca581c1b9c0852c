/**
 * Supervised launch, with real module processes over real Unix sockets: handshake and
 * first request, SPI mismatch before any traffic, broken handshakes and invalid
 * descriptors reported by name.
 */
import { statSync } from "node:fs";
import {
  coreFetch,
  echoModule,
  fixtureCalls,
  fixtureLog,
  invokeJson,
  rawModule,
  useCores,
  waitForState,
} from "../support/harness.ts";

const core = useCores();

test("handshake, descriptor, SPI negotiation, proof of wiring, then the first request", async () => {
  const c = await core({ modules: [echoModule()] });
  await c.core.waitReady(10_000);
  const status = c.core.supervisor.get("echo")!;
  expect(status.state).toBe("ready");
  expect(status.spiVersion).toBe("1.0");
  expect(status.instances[0]?.pid).toBeGreaterThan(0);

  const res = await invokeJson(c.url, "echo", "echo", { hello: "outrig" });
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ echo: { hello: "outrig" }, instance: status.instances[0]!.id });
  expect(res.headers.get("x-outrig-instance")).toBe(status.instances[0]!.id);
});

test("a body sent the way curl -d sends it is read as JSON", async () => {
  const c = await core({ modules: [echoModule()] });
  await c.core.waitReady(10_000);
  const res = await coreFetch(`${c.url}/v1/modules/echo/invoke/echo`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: '{"hello":"outrig"}',
  });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { echo: unknown }).echo).toEqual({ hello: "outrig" });
  const notJson = await coreFetch(`${c.url}/v1/modules/echo/invoke/echo`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "a=1&b=2",
  });
  expect(notJson.status).toBe(400);
  expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe(
    "core.request.invalid_json",
  );
});

test("private socket directory is 0700 and every socket 0600", async () => {
  const c = await core({ modules: [echoModule()] });
  await c.core.waitReady(10_000);
  expect(statSync(c.core.runDir).mode & 0o777).toBe(0o700);
  const coreSocket = c.core.spiAddress.unix.slice("unix://".length);
  expect(statSync(coreSocket).mode & 0o777).toBe(0o600);
  const moduleAddress = c.core.supervisor.get("echo")!.instances[0]!.address!;
  expect(statSync(moduleAddress.slice("unix://".length)).mode & 0o777).toBe(0o600);
});

test("an SPI version mismatch fails before any traffic, naming both sides' versions", async () => {
  const log = fixtureLog();
  const c = await core({ modules: [rawModule("oldspi", "wrong-spi", { env: { FIXTURE_LOG: log } })] });
  const status = await waitForState(c, "oldspi", "failed");
  expect(status.lastError?.message).toMatch(
    /SPI version mismatch: the core supports \[1\.0\], module "oldspi" .* supports \[9\.0\]/,
  );
  // Only the descriptor was read: no Initialize, no Invoke ever reached the module.
  expect(fixtureCalls(log)).toEqual(["GetDescriptor"]);
  expect(c.logs()).toContain("SPI version mismatch");
});

test.each([
  ["garbage-handshake", /unrecognized handshake line "Starting up\.\.\. hello world"/],
  ["exit-early", /exited with code 3 before its handshake; last stderr: "fatal: missing model file"/],
])("a module with a broken handshake (%s) is reported by name", async (mode, expected) => {
  const c = await core({
    modules: [rawModule("broken", mode, { restart: { max_restarts: 0, window_ms: 1000 } })],
  });
  const status = await waitForState(c, "broken", "failed");
  expect(status.lastError?.message).toMatch(/module "broken" \(instance broken-1\)/);
  expect(status.lastError?.message).toMatch(expected);
  expect(c.entries().some((e) => (e.level === "warn" || e.level === "error") && expected.test(e.msg))).toBe(
    true,
  );
});

test("a module that prints no handshake within its startup timeout is reported by name", async () => {
  const c = await core({
    modules: [
      rawModule("mute", "silent", {
        health: { startup_timeout_ms: 300 },
        restart: { max_restarts: 0, window_ms: 1000 },
      }),
    ],
  });
  const status = await waitForState(c, "mute", "failed");
  expect(status.lastError?.message).toMatch(
    /module "mute" \(instance mute-1\) printed no handshake line within 300 ms/,
  );
});

test("an invalid descriptor is refused with its validation errors", async () => {
  const log = fixtureLog();
  const c = await core({
    modules: [rawModule("baddesc", "invalid-descriptor", { env: { FIXTURE_LOG: log } })],
  });
  const status = await waitForState(c, "baddesc", "failed");
  const message = status.lastError!.message;
  expect(message).toContain('module "baddesc" (instance baddesc-1) sent an invalid descriptor');
  expect(message).toContain('module_version: "1.0" is not a SemVer 2.0.0 version');
  expect(message).toContain("profile: must be set");
  expect(message).toContain('operations[0].name: "Bad Name!" does not match');
  expect(fixtureCalls(log)).toEqual(["GetDescriptor"]);
});

test("a module that describes itself under another id is refused", async () => {
  const c = await core({ modules: [rawModule("mine", "wrong-id")] });
  const status = await waitForState(c, "mine", "failed");
  expect(status.lastError?.message).toContain(
    'describes itself as "someone-else", but is configured as "mine"',
  );
});

test("a module that accepts calls without the core's secret never gets traffic", async () => {
  const log = fixtureLog();
  const c = await core({ modules: [rawModule("open", "no-auth", { env: { FIXTURE_LOG: log } })] });
  const status = await waitForState(c, "open", "failed");
  expect(status.lastError?.message).toContain("accepted an SPI call without the core's credential");
  // The only Invoke it saw was the anonymous probe; no routed request followed.
  expect(fixtureCalls(log).filter((l) => l.startsWith("Invoke"))).toEqual(["Invoke outrig.wiring.probe"]);
  const res = await invokeJson(c.url, "open", "ping", {});
  expect(res.status).toBe(503);
  expect((res.body.error as { code: string }).code).toBe("core.invoke.module_failed");
});

test("a raw-SPI module written without the SDK is served like any other", async () => {
  const c = await core({ modules: [rawModule("raw", "healthy")] });
  await c.core.waitReady(10_000);
  const res = await invokeJson(c.url, "raw", "ping", { x: 1 });
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ x: 1 });
});
