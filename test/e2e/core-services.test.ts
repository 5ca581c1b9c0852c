/**
 * The core's side of the SPI as a module sees it, and what crosses from the public
 * request into the module call.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromGrpcError } from "../../src/errors/index.ts";
import { AuthPolicyService } from "../../src/gen/outrig/core/v1/auth_policy_pb.ts";
import { CatalogService } from "../../src/gen/outrig/core/v1/catalog_pb.ts";
import { PluginService } from "../../src/gen/outrig/core/v1/plugin_pb.ts";
import { SessionService } from "../../src/gen/outrig/core/v1/session_pb.ts";
import { H2ServiceClient } from "../../src/spi/h2/client.ts";
import { coreFetch, rawModule, startCore, type TestCore } from "../support/harness.ts";

const log = join(mkdtempSync(join(tmpdir(), "cs-")), "calls.log");
let c: TestCore;
beforeAll(async () => {
  c = await startCore({ modules: [rawModule("raw", "healthy", { env: { FIXTURE_LOG: log } })] });
  await c.core.waitReady(10_000);
});
afterAll(() => c.stop());

test("services not implemented yet answer UNSUPPORTED in the envelope, to an authenticated module", async () => {
  const instance = [...c.core.supervisor.group("raw")!.instances][0]!;
  // A credential the core issued, registered for this test's client.
  c.core.supervisor.credentials.register("test-credential-0123456789", instance);
  const options = { metadata: { authorization: "Bearer test-credential-0123456789" } };
  const address = c.core.spiAddress.unix;
  const calls = [
    new H2ServiceClient(CatalogService, address, options).unary("listEntries", { entityType: "tool" }),
    new H2ServiceClient(PluginService, address, options).unary("executeHook", {}),
    new H2ServiceClient(SessionService, address, options).unary("getSession", { sessionId: "s" }),
  ];
  for (const call of calls) {
    const error = fromGrpcError(await call.catch((e) => e), "core");
    expect(error).toMatchObject({
      category: "UNSUPPORTED",
      code: "spi.method.unimplemented",
      origin: "core",
    });
  }
  const anonymous = new H2ServiceClient(AuthPolicyService, address);
  const denied = fromGrpcError(await anonymous.unary("resolveCaller", {}).catch((e) => e), "core");
  expect(denied.category).toBe("UNAUTHENTICATED");
});

test("the caller's correlation id reaches the module and comes back on the answer", async () => {
  const res = await coreFetch(`${c.url}/v1/modules/raw/invoke/ping`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-correlation-id": "order-4711" },
    body: "{}",
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("x-correlation-id")).toBe("order-4711");
  expect(readFileSync(log, "utf8")).toContain("Invoke ping correlation=order-4711");
});

test("module stderr is captured into the core's log with the module and instance ids", async () => {
  await coreFetch(`${c.url}/v1/modules/raw/invoke/ping`, { method: "POST", body: "{}" });
  const entry = c.entries().find((e) => e.msg === "pinged with 2 bytes");
  expect(entry).toMatchObject({ module_id: "raw", instance_id: "raw-1", stream: "stderr", level: "warn" });
});
