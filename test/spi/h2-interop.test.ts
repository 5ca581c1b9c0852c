/**
 * Wire compatibility of the lean HTTP/2 gRPC client and server with grpc-js: one suite,
 * run over every pairing of client and server implementation, on a real Unix socket.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { fromGrpcError, GrpcStatus, OutrigError } from "../../src/errors/index.ts";
import {
  type InvokeStreamResponse,
  ModuleService,
} from "../../src/gen/outrig/module/v1/module_service_pb.ts";
import { addService, ServiceClient } from "../../src/spi/grpc-service.ts";
import { ClientError, H2ServiceClient } from "../../src/spi/h2/client.ts";
import { H2GrpcServer } from "../../src/spi/h2/server.ts";
import {
  decodeGrpcMessage,
  decodeTimeout,
  encodeGrpcMessage,
  encodeTimeout,
  frame,
  MessageReader,
} from "../../src/spi/h2/wire.ts";
import { waitFor } from "../support/harness.ts";

interface Observed {
  /** Handler calls begun, so a test can wait until a call has reached the server. */
  started: number;
  cancelled: number;
  lastAuthorization: string | undefined;
  lastCorrelation: string | undefined;
}

type AnyCall = {
  metadata: { get(key: string): unknown[] };
  on(event: "cancelled", listener: () => void): unknown;
  write(message: unknown): boolean;
};

/** One implementation of the test service, mounted on either server. */
function handlers(observed: Observed) {
  return {
    invoke: async (req: { operation: string; payload: Uint8Array }, call: AnyCall) => {
      observed.started++;
      observed.lastAuthorization = call.metadata.get("authorization")[0] as string | undefined;
      observed.lastCorrelation = call.metadata.get("x-correlation-id")[0] as string | undefined;
      if (req.operation === "fail") {
        throw new OutrigError(
          "PERMISSION_DENIED",
          "test.interop.denied",
          "No, with ünïcode and 100% symbols.",
          {
            origin: "module",
            retryAfterMs: 1234,
          },
        );
      }
      if (req.operation === "hang") {
        await new Promise<void>((resolve) =>
          call.on("cancelled", () => {
            observed.cancelled++;
            resolve();
          }),
        );
        return { payload: new Uint8Array() };
      }
      return { payload: req.payload, contentType: "application/octet-stream" };
    },
    invokeStream: async (req: { payload: Uint8Array }, call: AnyCall) => {
      observed.started++;
      const count = Number(new TextDecoder().decode(req.payload));
      for (let i = 1; i <= count; i++) {
        const ok = call.write({
          event: { case: "chunk", value: { sequence: BigInt(i), payload: new Uint8Array(8) } },
        });
        if (!ok) await new Promise((r) => (call as unknown as NodeJS.EventEmitter).once("drain", r));
      }
    },
  };
}

type Client = Pick<H2ServiceClient<typeof ModuleService>, "unary" | "close"> & {
  serverStream(name: "invokeStream", req: object, options?: object): AsyncIterable<InvokeStreamResponse>;
};

const servers = {
  lean: async (address: string, observed: Observed) => {
    const server = new H2GrpcServer({ maxMessageBytes: 8 * 1024 * 1024 });
    server.addService(ModuleService, handlers(observed) as never);
    await server.listen(address);
    return () => server.close(100);
  },
  "grpc-js": async (address: string, observed: Observed) => {
    const server = new grpc.Server({ "grpc.max_receive_message_length": 8 * 1024 * 1024 });
    addService(server, ModuleService, handlers(observed) as never);
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
    );
    return async () => void server.forceShutdown();
  },
};

const clients = {
  lean: (address: string): Client =>
    new H2ServiceClient(ModuleService, address, {
      metadata: { authorization: "Bearer interop" },
    }) as unknown as Client,
  "grpc-js": (address: string): Client =>
    new ServiceClient(ModuleService, address, {
      channelOptions: { "grpc.max_receive_message_length": 8 * 1024 * 1024 },
      metadata: () => {
        const md = new grpc.Metadata();
        md.set("authorization", "Bearer interop");
        return md;
      },
    }) as unknown as Client,
};

const pairs = [
  ["lean", "grpc-js"],
  ["grpc-js", "lean"],
  ["lean", "lean"],
  ["grpc-js", "grpc-js"],
] as const;

describe.each(pairs)("%s client against %s server", (clientKind, serverKind) => {
  let dir: string;
  let client: Client;
  let stop: () => Promise<void>;
  const observed = newObserved();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "interop-"));
    const address = `unix://${join(dir, "s.sock")}`;
    stop = await servers[serverKind](address, observed);
    client = clients[clientKind](address);
  });
  afterAll(async () => {
    client.close();
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("unary round trip carries payload and metadata", async () => {
    const payload = new TextEncoder().encode("hello");
    const res = await client.unary(
      "invoke",
      { operation: "echo", payload },
      { metadata: md({ "x-correlation-id": "corr-1" }) },
    );
    expect(new TextDecoder().decode(res.payload)).toBe("hello");
    expect(res.contentType).toBe("application/octet-stream");
    expect(observed.lastAuthorization).toBe("Bearer interop");
    expect(observed.lastCorrelation).toBe("corr-1");
  });

  test("a 4 MB message round-trips", async () => {
    const payload = new Uint8Array(4 * 1024 * 1024).map((_, i) => i % 251);
    const res = await client.unary("invoke", { operation: "echo", payload });
    expect(Buffer.from(res.payload).equals(Buffer.from(payload))).toBe(true);
  });

  test("an error keeps its envelope, message encoding and retry hint", async () => {
    const error = fromGrpcError(
      await client.unary("invoke", { operation: "fail" }).catch((e) => e),
      "module",
    );
    expect(error).toMatchObject({
      category: "PERMISSION_DENIED",
      code: "test.interop.denied",
      message: "No, with ünïcode and 100% symbols.",
      retryAfterMs: 1234,
      origin: "module",
    });
  });

  test("server streaming delivers every message in order", async () => {
    const sequences: bigint[] = [];
    for await (const m of client.serverStream("invokeStream", {
      payload: new TextEncoder().encode("5000"),
    })) {
      if (m.event.case === "chunk") sequences.push(m.event.value.sequence);
    }
    expect(sequences).toHaveLength(5000);
    expect(sequences.every((s, i) => s === BigInt(i + 1))).toBe(true);
  });

  test("a deadline ends the call with DEADLINE_EXCEEDED and cancels the server side", async () => {
    const before = observed.cancelled;
    const error = await client
      .unary("invoke", { operation: "hang" }, { deadline: Date.now() + 150 })
      .catch((e) => e);
    expect(fromGrpcError(error, "module").code).toBe("spi.invoke.deadline_exceeded");
    await waitFor(() => observed.cancelled > before, "the server to see the cancel");
  });

  test("an abort cancels the call and the server observes it", async () => {
    const before = observed.cancelled;
    const startedBefore = observed.started;
    const controller = new AbortController();
    const pending = client
      .unary("invoke", { operation: "hang" }, { signal: controller.signal })
      .catch((e) => e);
    await waitFor(() => observed.started > startedBefore, "the call to reach the server");
    controller.abort();
    expect(fromGrpcError(await pending, "module").code).toBe("spi.invoke.cancelled");
    await waitFor(() => observed.cancelled > before, "the server to see the cancel");
  });
});

function newObserved(): Observed {
  return { started: 0, cancelled: 0, lastAuthorization: undefined, lastCorrelation: undefined };
}

/** What a lean-client call that never reached the wire failed with, unary and streaming alike. */
async function earlyFailure(
  client: H2ServiceClient<typeof ModuleService>,
  options: { deadline?: number; signal?: AbortSignal },
): Promise<{ unary: unknown; stream: unknown }> {
  const unary = await client.unary("invoke", { operation: "echo" }, options).catch((e) => e);
  let stream: unknown;
  try {
    for await (const _ of client.serverStream("invokeStream", { payload: new Uint8Array() }, options));
  } catch (error) {
    stream = error;
  }
  return { unary, stream };
}

describe("lean client on its own", () => {
  let dir: string;
  let address: string;
  let client: H2ServiceClient<typeof ModuleService>;
  let stop: () => Promise<void>;
  const observed = newObserved();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "interop-early-"));
    address = `unix://${join(dir, "s.sock")}`;
    stop = await servers.lean(address, observed);
    client = new H2ServiceClient(ModuleService, address);
  });
  afterAll(async () => {
    client.close();
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("an already aborted signal fails with CANCELLED and sends nothing", async () => {
    const before = observed.started;
    const { unary, stream } = await earlyFailure(client, { signal: AbortSignal.abort() });
    for (const error of [unary, stream]) {
      expect(error).toBeInstanceOf(ClientError);
      expect((error as ClientError).code).toBe(GrpcStatus.CANCELLED);
      expect(fromGrpcError(error, "module").code).toBe("spi.invoke.cancelled");
    }
    expect(observed.started).toBe(before);
  });

  test("an expired deadline fails with DEADLINE_EXCEEDED and sends nothing", async () => {
    const before = observed.started;
    const { unary, stream } = await earlyFailure(client, { deadline: Date.now() - 1 });
    for (const error of [unary, stream]) {
      expect(error).toBeInstanceOf(ClientError);
      expect((error as ClientError).code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
      expect(fromGrpcError(error, "module").code).toBe("spi.invoke.deadline_exceeded");
    }
    expect(observed.started).toBe(before);
  });

  test("a call on a closed channel fails with UNAVAILABLE", async () => {
    const before = observed.started;
    const closed = new H2ServiceClient(ModuleService, address);
    closed.close();
    expect(() => closed.serverStream("invokeStream", { payload: new Uint8Array() })).not.toThrow();
    const { unary, stream } = await earlyFailure(closed, {});
    for (const error of [unary, stream]) {
      expect(error).toBeInstanceOf(ClientError);
      expect((error as ClientError).code).toBe(GrpcStatus.UNAVAILABLE);
      expect(fromGrpcError(error, "module").code).toBe("core.invoke.module_unavailable");
    }
    expect(observed.started).toBe(before);
  });

  test("TLS options are ignored on a Unix socket", async () => {
    const client = new H2ServiceClient(ModuleService, address, { tls: { ca: "not a certificate" } });
    try {
      const res = await client.unary("invoke", { operation: "echo", payload: new Uint8Array([7]) });
      expect([...res.payload]).toEqual([7]);
    } finally {
      client.close();
    }
  });
});

function md(values: Record<string, string>): never {
  // The lean client takes a plain record; grpc-js takes Metadata.
  const m = new grpc.Metadata();
  for (const [k, v] of Object.entries(values)) m.set(k, v);
  return Object.assign(m, values) as never;
}

describe("wire helpers", () => {
  test("grpc-timeout round-trips and rejects malformed values", () => {
    for (const ms of [0, 1, 999, 86_400_000, 5_000_000_000])
      expect(decodeTimeout(encodeTimeout(ms))).toBeGreaterThanOrEqual(ms);
    expect(decodeTimeout("123456789m")).toBeUndefined();
    expect(decodeTimeout("10x")).toBeUndefined();
    expect(decodeTimeout("5S")).toBe(5000);
  });

  test("grpc-message percent-encoding round-trips any text", () => {
    for (const text of ["plain", "100%", "ünïcødé ✓", "line\nbreak", ""]) {
      const encoded = encodeGrpcMessage(text);
      expect(encoded).toMatch(/^[\x20-\x7e]*$/);
      expect(decodeGrpcMessage(encoded)).toBe(text);
    }
  });

  test("the message reader handles frames split anywhere and refuses oversized ones", () => {
    const reader = new MessageReader(100);
    const bytes = Buffer.concat([frame(new Uint8Array([1, 2, 3])), frame(new Uint8Array(10))]);
    const messages = [];
    for (const b of bytes) messages.push(...reader.push(Buffer.from([b])));
    expect(messages.map((m) => m.length)).toEqual([3, 10]);
    expect(() => new MessageReader(4).push(frame(new Uint8Array(5)))).toThrow(/exceeds the limit/);
  });
});
