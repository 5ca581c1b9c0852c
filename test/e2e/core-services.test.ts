/**
 * The core's side of the SPI as a module sees it, and what crosses from the public
 * request into the module call.
 */
import { readFileSync } from "node:fs";
import { jest } from "@jest/globals";
import { fromGrpcError } from "../../src/errors/index.ts";
import { AuthPolicyService } from "../../src/gen/outrig/core/v1/auth_policy_pb.ts";
import { CatalogService } from "../../src/gen/outrig/core/v1/catalog_pb.ts";
import { ConfigSecretsService } from "../../src/gen/outrig/core/v1/config_secrets_pb.ts";
import { PluginService } from "../../src/gen/outrig/core/v1/plugin_pb.ts";
import { SessionService } from "../../src/gen/outrig/core/v1/session_pb.ts";
import { H2ServiceClient } from "../../src/spi/h2/client.ts";
import { coreFetch, fixtureLog, rawModule, spiClient, startCore, type TestCore } from "../support/harness.ts";

const log = fixtureLog();
let c: TestCore;
beforeAll(async () => {
  c = await startCore({
    modules: [rawModule("raw", "healthy", { env: { FIXTURE_LOG: log }, config: { marker: "raw-config" } })],
  });
  await c.core.waitReady(10_000);
});
afterAll(() => c.stop());

/** Reads a server stream to its end; resolves with the error that ended it, if any. */
async function streamError(stream: AsyncIterable<unknown>): Promise<unknown> {
  try {
    for await (const _message of stream);
  } catch (error) {
    return error;
  }
  return undefined;
}

test("services not implemented yet answer UNSUPPORTED in the envelope, to an authenticated module", async () => {
  // The raw module's own clients, with the credential the core issued to its instance.
  const catalog = spiClient(c.core, "raw", CatalogService);
  const plugin = spiClient(c.core, "raw", PluginService);
  const session = spiClient(c.core, "raw", SessionService);
  const address = c.core.spiAddress.unix;
  const anonymousCatalog = new H2ServiceClient(CatalogService, address);
  const anonymous = new H2ServiceClient(AuthPolicyService, address);
  try {
    const failures = await Promise.all([
      catalog.unary("listEntries", { entityType: "tool" }).catch((e) => e),
      plugin.unary("executeHook", {}).catch((e) => e),
      session.unary("getSession", { sessionId: "s" }).catch((e) => e),
    ]);
    for (const failure of failures) {
      const error = fromGrpcError(failure, "core");
      expect(error).toMatchObject({
        category: "UNSUPPORTED",
        code: "spi.method.unimplemented",
        origin: "core",
      });
    }
    // Authentication comes first: an anonymous caller learns nothing, not even UNSUPPORTED.
    const unauthenticated = fromGrpcError(
      await anonymousCatalog.unary("listEntries", { entityType: "tool" }).catch((e) => e),
      "core",
    );
    expect(unauthenticated.category).toBe("UNAUTHENTICATED");
    const denied = fromGrpcError(await anonymous.unary("resolveCaller", {}).catch((e) => e), "core");
    expect(denied.category).toBe("UNAUTHENTICATED");
  } finally {
    for (const client of [catalog, plugin, session, anonymousCatalog, anonymous]) client.close();
  }
});

// A refused server stream must end with its status at once, not hang until the deadline.
test("a server-streaming method not implemented yet answers the same, and authenticates first", async () => {
  const catalog = spiClient(c.core, "raw", CatalogService);
  const anonymous = new H2ServiceClient(CatalogService, c.core.spiAddress.unix);
  const deadline = () => ({ deadline: Date.now() + 2000 });
  try {
    const [unsupported, unauthenticated] = await Promise.all([
      streamError(catalog.serverStream("watchCatalog", {}, deadline())),
      streamError(anonymous.serverStream("watchCatalog", {}, deadline())),
    ]);
    expect(fromGrpcError(unsupported, "core")).toMatchObject({
      category: "UNSUPPORTED",
      code: "spi.method.unimplemented",
      origin: "core",
    });
    expect(fromGrpcError(unauthenticated, "core").category).toBe("UNAUTHENTICATED");
  } finally {
    catalog.close();
    anonymous.close();
  }
});

test("a module call resolves its credential once, in authorization, and the handler sees that instance", async () => {
  const instance = [...c.core.supervisor.group("raw")!.instances][0]!;
  const credential = "test-credential-once-0123456789";
  c.core.supervisor.credentials.register(credential, instance);
  const lookup = jest.spyOn(c.core.supervisor.credentials, "lookup");
  const client = new H2ServiceClient(ConfigSecretsService, c.core.spiAddress.unix, {
    metadata: { authorization: `Bearer ${credential}` },
  });
  try {
    // The handler answers with the calling module's own configuration.
    expect((await client.unary("getConfig", {})).config).toEqual({ marker: "raw-config" });
    expect(lookup.mock.calls.filter(([presented]) => presented === credential)).toHaveLength(1);
  } finally {
    client.close();
    lookup.mockRestore();
    c.core.supervisor.credentials.unregister(credential);
  }
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
