/**
 * The SPI's trust boundaries with real processes and sockets: credential checks on
 * both sides, a module sees only its own config and secrets, and no secret reaches a
 * log line.
 */
import { fromGrpcError } from "../../src/errors/index.ts";
import { ConfigSecretsService } from "../../src/gen/outrig/core/v1/config_secrets_pb.ts";
import { RegistrationService } from "../../src/gen/outrig/core/v1/registration_pb.ts";
import { ModuleService } from "../../src/gen/outrig/module/v1/module_service_pb.ts";
import { credentialMetadata, ServiceClient } from "../../src/spi/grpc-service.ts";
import {
  echoModule,
  FAST,
  invokeJson,
  SECRETS_PROBE_MODULE,
  startCore,
  type TestCore,
  waitForState,
} from "../support/harness.ts";

let c: TestCore | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

async function category(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "OK";
  } catch (error) {
    return fromGrpcError(error, "core").category;
  }
}

test("a process that connects to the core's SPI socket without the credential is rejected", async () => {
  c = await startCore({
    spi: { bootstrap_token: { value: "bootstrap-token-for-tests-0123456789" } },
    modules: [echoModule()],
  });
  await c.core.waitReady(10_000);
  const address = c.core.spiAddress.unix;
  const anonymous = new ServiceClient(ConfigSecretsService, address);
  const forged = new ServiceClient(ConfigSecretsService, address, {
    metadata: () => credentialMetadata("forged-0123456789abcdef"),
  });
  const register = new ServiceClient(RegistrationService, address, {
    metadata: () => credentialMetadata("wrong-bootstrap"),
  });
  try {
    expect(await category(anonymous.unary("getConfig", {}))).toBe("UNAUTHENTICATED");
    expect(await category(forged.unary("resolveSecrets", { names: ["x"] }))).toBe("UNAUTHENTICATED");
    expect(await category(register.unary("register", { moduleId: "echo" }))).toBe("UNAUTHENTICATED");
  } finally {
    anonymous.close();
    forged.close();
    register.close();
  }
});

test("a module refuses callers without the core's launch secret", async () => {
  c = await startCore({ modules: [echoModule()] });
  await c.core.waitReady(10_000);
  const address = c.core.supervisor.get("echo")!.instances[0]!.address!;
  const anonymous = new ServiceClient(ModuleService, address);
  const forged = new ServiceClient(ModuleService, address, {
    metadata: () => credentialMetadata("not-the-secret"),
  });
  try {
    expect(await category(anonymous.unary("invoke", { operation: "echo" }))).toBe("UNAUTHENTICATED");
    expect(await category(forged.unary("getDescriptor", {}))).toBe("UNAUTHENTICATED");
    expect(await category(forged.unary("shutdown", {}))).toBe("UNAUTHENTICATED");
  } finally {
    anonymous.close();
    forged.close();
  }
  // The module is unharmed by the forged Shutdown.
  expect((await invokeJson(c.url, "echo", "echo", {})).status).toBe(200);
});

test("a module gets its own config and secrets, never another module's, and no secret is logged", async () => {
  const secretA = "s3cret-of-module-a-7f1d2e9c";
  const secretB = "s3cret-of-module-b-0aa41c55";
  const probe = (id: string, secret: string) => ({
    id,
    command: "node",
    args: [SECRETS_PROBE_MODULE],
    config: { greeting: `hello from ${id}` },
    secrets: { api_key: { value: secret } },
    ...FAST,
  });
  c = await startCore({ modules: [probe("a", secretA), probe("b", secretB)] });
  await c.core.waitReady(10_000);
  const res = await invokeJson(c.url, "a", "probe", { secrets: ["api_key", "missing"] });
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    config: { greeting: "hello from a" },
    secrets: { api_key: secretA },
    errors: { missing: "NOT_FOUND core.config.secret_not_found" },
  });
  // The degraded report reached the core.
  await waitForState(c!, "a", "degraded");
  expect(c.core.supervisor.get("a")!.instances[0]!.condition).toEqual({
    code: "probe.upstream.down",
    reason: "the upstream is down",
  });
  expect(c.core.supervisor.get("b")!.state).toBe("ready");
  const logs = c.logs();
  expect(logs).not.toContain(secretA);
  expect(logs).not.toContain(secretB);
});
