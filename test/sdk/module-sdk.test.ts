/**
 * The TypeScript SDK's duties, checked against a real module process over its real
 * socket, with the test playing the core.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { fromGrpcError } from "../../src/errors/index.ts";
import {
  Health,
  HealthCheckResponse_ServingStatus as Serving,
} from "../../src/gen/grpc/health/v1/health_pb.ts";
import {
  type InvokeStreamResponse,
  ModuleService,
  ModuleState,
} from "../../src/gen/outrig/module/v1/module_service_pb.ts";
import { MODULE_COOKIE_VALUE } from "../../src/spi/env.ts";
import { credentialMetadata, ServiceClient } from "../../src/spi/grpc-service.ts";
import { parseHandshake } from "../../src/spi/handshake.ts";
import { isAlive, NODE, SDK_BEHAVIOURS_MODULE, waitFor } from "../support/harness.ts";

const SECRET = "launch-secret-for-sdk-tests-0123456789";
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const dec = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as unknown;

interface Launched {
  child: ChildProcess;
  client: ServiceClient<typeof ModuleService>;
  health: ServiceClient<typeof Health>;
  stderr: string[];
  dir: string;
}

async function launch(): Promise<Launched> {
  const dir = mkdtempSync(join(tmpdir(), "sdk-"));
  const child = spawn(NODE, [SDK_BEHAVIOURS_MODULE], {
    env: {
      OUTRIG_MODULE_COOKIE: MODULE_COOKIE_VALUE,
      OUTRIG_LAUNCH_SECRET: SECRET,
      OUTRIG_LISTEN: `unix://${join(dir, "m.sock")}`,
      OUTRIG_INSTANCE_ID: "behaviours-1",
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (l) => stderr.push(l));
  const line = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout! }).once("line", resolve),
  );
  const { address } = parseHandshake(line);
  const metadata = () => credentialMetadata(SECRET);
  const client = new ServiceClient(ModuleService, address, { metadata });
  const health = new ServiceClient(Health, address, { metadata, channel: client.channel });
  return { child, client, health, stderr, dir };
}

async function initialize(m: Launched, spiVersion = "1.0") {
  return m.client.unary("initialize", {
    spiVersion,
    instanceId: "behaviours-1",
    core: { address: "unix:///nowhere" },
  });
}

async function errorOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return fromGrpcError(error, "module");
  }
  throw new Error("expected a failure");
}

async function stream(m: Launched, operation: string) {
  const events: InvokeStreamResponse["event"][] = [];
  const call = m.client.serverStream("invokeStream", {
    operation,
    payload: enc({}),
    contentType: "application/json",
  });
  for await (const message of call as AsyncIterable<InvokeStreamResponse>) events.push(message.event);
  return events;
}

let m: Launched;
beforeEach(async () => {
  m = await launch();
});
afterEach(async () => {
  m.client.close();
  m.child.kill("SIGKILL");
  rmSync(m.dir, { recursive: true, force: true });
});

describe("lifecycle", () => {
  test("health answers NOT_FOUND (spi.health.unknown_service) for a service it does not serve", async () => {
    const error = await errorOf(m.health.unary("check", { service: "no.such.Service" }));
    expect(error).toMatchObject({ code: "spi.health.unknown_service", category: "NOT_FOUND" });
  });

  test("health is NOT_SERVING until Initialize, SERVING after, NOT_SERVING while draining", async () => {
    const check = async () => (await m.health.unary("check", { service: ModuleService.typeName })).status;
    expect(await check()).toBe(Serving.NOT_SERVING);
    expect((await errorOf(m.client.unary("invoke", { operation: "validated" }))).code).toBe(
      "spi.lifecycle.not_initialized",
    );
    const init = await initialize(m);
    expect(init.state).toBe(ModuleState.READY);
    expect(await check()).toBe(Serving.SERVING);
    await m.client.unary("drain", { deadlineMs: 100 });
    expect(await check()).toBe(Serving.NOT_SERVING);
    const draining = await errorOf(
      m.client.unary("invoke", { operation: "validated", payload: enc({ name: "x", count: 1 }) }),
    );
    expect(draining).toMatchObject({ code: "spi.invoke.draining", category: "UNAVAILABLE", retryable: true });
  });

  test("an unsupported SPI version is refused, naming both sides; Initialize runs once", async () => {
    const refused = await errorOf(initialize(m, "9.0"));
    expect(refused.category).toBe("FAILED_PRECONDITION");
    expect(refused.message).toBe(
      'SPI version "9.0" is not supported by module behaviours (it supports 1.0).',
    );
    await initialize(m);
    expect((await errorOf(initialize(m))).code).toBe("spi.lifecycle.already_initialized");
  });

  test("the descriptor is built from the definition", async () => {
    const { descriptor } = await m.client.unary("getDescriptor", {});
    expect(descriptor).toMatchObject({
      moduleId: "behaviours",
      moduleVersion: "1.2.3",
      spiVersions: ["1.0"],
    });
    expect(descriptor!.operations.find((o) => o.name === "stream.endless")?.streaming).toBe(true);
    expect(descriptor!.build).toMatchObject({ sdk: "outrig-sdk-typescript" });
  });

  test("Shutdown drains and exits the process; a stuck handler is stopped at the drain deadline", async () => {
    await initialize(m);
    const stuck = m.client.unary("invoke", { operation: "wait", payload: enc({ ms: 60_000 }) });
    await waitFor(
      async () => (await m.client.unary("getStats", {})).inFlight === 1,
      "the call to be in flight",
    );
    await m.client.unary("shutdown", { deadlineMs: 300 });
    const error = await errorOf(stuck);
    expect(error.code).toBe("spi.invoke.stopped_by_drain");
    await waitFor(() => m.child.exitCode !== null, "the module to exit");
    expect(m.child.exitCode).toBe(0);
  });

  test("SIGTERM drains in-flight work before the process exits", async () => {
    await initialize(m);
    const call = m.client.unary("invoke", { operation: "wait", payload: enc({ ms: 150 }) });
    await waitFor(
      async () => (await m.client.unary("getStats", {})).inFlight === 1,
      "the call to be in flight",
    );
    m.child.kill("SIGTERM");
    expect(dec((await call).payload)).toEqual({ waited: 150 });
    await waitFor(() => !isAlive(m.child.pid!), "the module to exit");
  });
});

describe("invocation", () => {
  beforeEach(async () => {
    await initialize(m);
  });

  test("input is validated before the handler runs", async () => {
    const ok = await m.client.unary("invoke", {
      operation: "validated",
      payload: enc({ name: "ada", count: 2 }),
      contentType: "application/json",
    });
    expect(dec(ok.payload)).toEqual({ hello: "ada", times: 2 });
    const bad = await errorOf(
      m.client.unary("invoke", { operation: "validated", payload: enc({ name: "ada", count: 0 }) }),
    );
    expect(bad).toMatchObject({ category: "INVALID_ARGUMENT", code: "spi.invoke.invalid_payload" });
    expect(bad.details).toEqual({ field: "count" });
    const notJson = await errorOf(
      m.client.unary("invoke", {
        operation: "validated",
        payload: new TextEncoder().encode("{nope"),
        contentType: "application/json",
      }),
    );
    expect(notJson.message).toBe("The request payload is not valid UTF-8 JSON.");
  });

  test("unknown operations, the wrong RPC and oversized payloads are refused", async () => {
    expect((await errorOf(m.client.unary("invoke", { operation: "nope" }))).category).toBe("NOT_FOUND");
    expect((await errorOf(m.client.unary("invoke", { operation: "stream.endless" }))).code).toBe(
      "spi.invoke.wrong_rpc",
    );
    const big = await errorOf(
      m.client.unary("invoke", { operation: "validated", payload: new Uint8Array(2048) }),
    );
    expect(big.code).toBe("spi.invoke.payload_too_large");
  });

  test("an exception never reaches the caller: INTERNAL with a generic message, details only in the module's log", async () => {
    const error = await errorOf(m.client.unary("invoke", { operation: "plain-error" }));
    expect(error).toMatchObject({ category: "INTERNAL", message: "Internal error.", origin: "core" });
    expect(JSON.stringify(error.toEnvelope())).not.toContain("hunter2");
    await waitFor(() => m.stderr.some((l) => l.includes("handler failed")), "the module to log the failure");
  });

  test("the concurrency limit answers UNAVAILABLE overloaded (retryable)", async () => {
    const slow = [1, 2].map(() => m.client.unary("invoke", { operation: "wait", payload: enc({ ms: 300 }) }));
    await waitFor(async () => (await m.client.unary("getStats", {})).inFlight === 2, "two calls in flight");
    const third = await errorOf(m.client.unary("invoke", { operation: "wait", payload: enc({ ms: 1 }) }));
    expect(third).toMatchObject({ code: "spi.invoke.overloaded", retryable: true });
    await Promise.all(slow);
  });

  test("the deadline reaches the handler as an abort, and the caller gets DEADLINE_EXCEEDED", async () => {
    const error = await errorOf(
      m.client.unary(
        "invoke",
        { operation: "wait", payload: enc({ ms: 10_000 }) },
        { deadline: Date.now() + 200 },
      ),
    );
    expect(error.code).toBe("spi.invoke.deadline_exceeded");
    await waitFor(async () => (await m.client.unary("getStats", {})).inFlight === 0, "the handler to stop");
  });
});

describe("streaming contract", () => {
  beforeEach(async () => {
    await initialize(m);
  });

  test("started first, chunks 1..n, exactly one terminal: an exception mid-stream becomes the error event", async () => {
    const events = await stream(m, "stream.throws");
    expect(events.map((e) => e.case)).toEqual(["started", "chunk", "chunk", "chunk", "error"]);
    expect(
      events.filter((e) => e.case === "chunk").map((e) => (e.value as { sequence: bigint }).sequence),
    ).toEqual([1n, 2n, 3n]);
    const last = events.at(-1)!;
    expect(last.case === "error" && last.value.message).toBe("Internal error.");
    expect(JSON.stringify(last.value, (_k, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain(
      "hunter2",
    );
  });

  test("usage from the handler's return value travels in the end event", async () => {
    const events = await stream(m, "stream.usage");
    const end = events.at(-1)!;
    expect(end.case).toBe("end");
    expect(end.case === "end" && end.value.usage).toMatchObject({
      inputTokens: 5n,
      outputTokens: 1n,
      counters: { cache_hits: 2n },
    });
  });

  test("a cancel stops pulling from the handler and runs its finally block", async () => {
    const controller = new AbortController();
    const call = m.client.serverStream(
      "invokeStream",
      { operation: "stream.endless", payload: enc({}) },
      { signal: controller.signal },
    );
    let chunks = 0;
    let ended: unknown;
    try {
      for await (const message of call as AsyncIterable<InvokeStreamResponse>) {
        if (message.event.case === "chunk" && ++chunks === 10) controller.abort();
      }
    } catch (error) {
      ended = error;
    }
    // The stream ran until the cancel, and the cancel is what ended it.
    expect(chunks).toBeGreaterThanOrEqual(10);
    expect((ended as { code?: number } | undefined)?.code).toBe(GrpcStatus.CANCELLED);
    await waitFor(
      async () => (await m.client.unary("getStats", {})).custom.finally_ran === 1,
      "the handler's finally block",
    );
    const stats = await m.client.unary("getStats", {});
    expect(stats.custom.pulls_after_cancel).toBe(0);
    expect(stats.inFlight).toBe(0);
  });
});
