import { request as h1request } from "node:http";
import { connect as h2connect } from "node:http2";
import { OutrigError } from "../../src/errors/index.ts";
import { waitFor } from "../support/wait.ts";
import { CLIENTS, startServer, type TestServer } from "./helpers.ts";

let t: TestServer;
beforeEach(async () => {
  t = await startServer({ maxBodyBytes: 1024 });
});
afterEach(() => t.close());

const INVOKE = "/v1/modules/echo/invoke/say";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe.each(CLIENTS)("unary invoke over %s", (_name, client) => {
  it("passes the payload through and answers with the module's payload and instance", async () => {
    t.invoker.unary = async (request) => ({
      payload: Buffer.from(`{"echo":${Buffer.from(request.payload).toString()}}`),
      contentType: "application/vnd.echo+json",
      instanceId: "echo-7",
    });
    const r = await client(t.port, {
      method: "POST",
      path: INVOKE,
      headers: {
        "content-type": "application/json",
        "x-correlation-id": "req-42",
        "x-outrig-timeout-ms": "1500",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        tracestate: "congo=t61rcWkgMzE",
      },
      body: '{"text":"hi"}',
    });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ echo: { text: "hi" } });
    expect(r.headers["content-type"]).toBe("application/vnd.echo+json");
    expect(r.headers["x-outrig-instance"]).toBe("echo-7");
    expect(r.headers["x-correlation-id"]).toBe("req-42");
    const seen = t.invoker.calls[0]!;
    expect(seen).toMatchObject({
      moduleId: "echo",
      operation: "say",
      contentType: "application/json",
      correlationId: "req-42",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      tracestate: "congo=t61rcWkgMzE",
      attributes: { client_ip: "127.0.0.1" },
    });
    expect(Buffer.from(seen.payload).toString()).toBe('{"text":"hi"}');
    expect(seen.deadline! - Date.now()).toBeGreaterThan(1000);
    expect(seen.deadline! - Date.now()).toBeLessThanOrEqual(1500);
    expect(seen.signal).toBeInstanceOf(AbortSignal);
  });

  it("defaults the content type to application/json and passes others through unchecked", async () => {
    await client(t.port, { method: "POST", path: INVOKE, body: "[1,2]" });
    expect(t.invoker.calls[0]!.contentType).toBe("application/json");
    const r = await client(t.port, {
      method: "POST",
      path: INVOKE,
      headers: { "content-type": "text/plain; charset=latin1" },
      body: "{not json but fine",
    });
    expect(r.status).toBe(200);
    expect(t.invoker.calls[1]!.contentType).toBe("text/plain; charset=latin1");
    expect(r.text()).toBe("{not json but fine");
  });

  it("accepts an empty body as no input", async () => {
    const r = await client(t.port, { method: "POST", path: INVOKE });
    expect(r.status).toBe(200);
    expect(t.invoker.calls[0]!.payload.length).toBe(0);
  });

  it("refuses invalid JSON before the module is called", async () => {
    for (const body of ["{oops", '{"a":1', Buffer.from([0x22, 0xff, 0x22])]) {
      const r = await client(t.port, {
        method: "POST",
        path: INVOKE,
        headers: { "content-type": "application/json" },
        body,
      });
      expect(r.status).toBe(400);
      expect(r.json().error).toMatchObject({
        category: "INVALID_ARGUMENT",
        code: "core.request.invalid_json",
      });
    }
    const plus = await client(t.port, {
      method: "POST",
      path: INVOKE,
      headers: { "content-type": "application/problem+json" },
      body: "nope",
    });
    expect(plus.status).toBe(400);
    expect(t.invoker.calls).toHaveLength(0);
  });

  it("refuses malformed content types and non-UTF-8 JSON with 415", async () => {
    for (const type of ["json", "application/", "a b/c", "application/json; charset=latin1"]) {
      const r = await client(t.port, {
        method: "POST",
        path: INVOKE,
        headers: { "content-type": type },
        body: "{}",
      });
      expect([type, r.status, r.json().error.code]).toEqual([
        type,
        415,
        "core.request.unsupported_media_type",
      ]);
    }
    expect(t.invoker.calls).toHaveLength(0);
  });

  it("validates X-Outrig-Timeout-Ms", async () => {
    for (const value of ["0", "-5", "abc", "1.5", "600001", "99999999", "1e3", "+5", "0x10"]) {
      const r = await client(t.port, {
        method: "POST",
        path: INVOKE,
        headers: { "x-outrig-timeout-ms": value },
        body: "{}",
      });
      expect([value, r.status, r.json().error.code]).toEqual([value, 400, "core.request.invalid_header"]);
    }
    const max = await client(t.port, {
      method: "POST",
      path: INVOKE,
      headers: { "x-outrig-timeout-ms": "600000" },
      body: "{}",
    });
    expect(max.status).toBe(200);
    expect(t.invoker.calls).toHaveLength(1);
  });

  it("generates a correlation id when absent or invalid, and echoes it on errors too", async () => {
    const none = await client(t.port, { method: "POST", path: INVOKE, body: "{}" });
    expect(none.headers["x-correlation-id"]).toMatch(UUID);
    expect(t.invoker.calls[0]!.correlationId).toBe(none.headers["x-correlation-id"]);
    const bad = await client(t.port, {
      method: "POST",
      path: INVOKE,
      headers: { "x-correlation-id": "has spaces and <script>", "content-type": "application/json" },
      body: "{oops",
    });
    expect(bad.status).toBe(400);
    expect(bad.headers["x-correlation-id"]).toMatch(UUID);
    expect(bad.json().error.correlationId).toBe(bad.headers["x-correlation-id"]);
    const long = await client(t.port, { path: "/healthz", headers: { "x-correlation-id": "a".repeat(129) } });
    expect(long.headers["x-correlation-id"]).toMatch(UUID);
  });

  it("drops a malformed traceparent instead of forwarding it", async () => {
    await client(t.port, {
      method: "POST",
      path: INVOKE,
      headers: { traceparent: "00-xyz-1-01", tracestate: "a=b" },
      body: "{}",
    });
    expect(t.invoker.calls[0]!.traceparent).toBeUndefined();
    expect(t.invoker.calls[0]!.tracestate).toBeUndefined();
  });

  it.each([
    ["core.invoke.module_not_found", 404, "NOT_FOUND"],
    ["core.invoke.module_unavailable", 503, "UNAVAILABLE"],
    ["core.invoke.deadline_exceeded", 504, "UNAVAILABLE"],
    ["spi.invoke.unknown_operation", 404, "NOT_FOUND"],
    ["spi.invoke.payload_too_large", 413, "INVALID_ARGUMENT"],
  ])("maps %s to %i", async (code, status, category) => {
    t.invoker.unary = async () => {
      throw OutrigError.fromCode(code, { retryAfterMs: 1500, traceId: "0af7651916cd43dd8448eb211c80319c" });
    };
    const r = await client(t.port, { method: "POST", path: INVOKE, body: "{}" });
    expect(r.status).toBe(status);
    expect(r.headers["retry-after"]).toBe("2");
    expect(r.json().error).toMatchObject({
      code,
      category,
      retryAfterMs: 1500,
      traceId: "0af7651916cd43dd8448eb211c80319c",
    });
  });

  it("keeps module errors' origin and never leaks internal text", async () => {
    t.invoker.unary = async () => {
      throw new OutrigError("UPSTREAM_ERROR", "llm.upstream.bad_gateway", "The upstream model failed.", {
        origin: "upstream",
      });
    };
    const up = await client(t.port, { method: "POST", path: INVOKE, body: "{}" });
    expect(up.status).toBe(502);
    expect(up.json().error).toMatchObject({ origin: "upstream", code: "llm.upstream.bad_gateway" });

    t.invoker.unary = async () => {
      throw new TypeError(
        "Cannot read properties of undefined (reading 'x') at /work/main/src/core/router/x.ts:10:5",
      );
    };
    const boom = await client(t.port, { method: "POST", path: INVOKE, body: "{}" });
    expect(boom.status).toBe(500);
    expect(boom.json().error).toMatchObject({
      category: "INTERNAL",
      code: "core.internal.unexpected",
      message: "Internal error.",
    });
    expect(boom.text()).not.toMatch(/TypeError|router|reading/);
    expect(t.logs.join("")).toContain("request failed");
  });

  it("replaces a module content type that is not a safe header value", async () => {
    t.invoker.unary = async () => ({
      payload: new Uint8Array([1, 2, 3]),
      contentType: "text/plain\r\nset-cookie: x=1",
      instanceId: "echo-1",
    });
    const r = await client(t.port, { method: "POST", path: INVOKE, body: "{}" });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/octet-stream");
    expect(r.headers["set-cookie"]).toBeUndefined();
  });

  it("refuses a body over the limit by Content-Length without calling the module", async () => {
    const r = await client(t.port, {
      method: "POST",
      path: INVOKE,
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.alloc(4096, 1),
    });
    expect(r.status).toBe(413);
    expect(r.json().error).toMatchObject({
      category: "INVALID_ARGUMENT",
      code: "core.request.body_too_large",
    });
    expect(t.invoker.calls).toHaveLength(0);
  });

  it("a body exactly at the limit passes", async () => {
    const r = await client(t.port, {
      method: "POST",
      path: INVOKE,
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.alloc(1024, 7),
    });
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(1024);
  });

  it("rejects unknown module ids and odd operations without calling the router", async () => {
    const bad = await client(t.port, { method: "POST", path: "/v1/modules/Echo%20x/invoke/say", body: "{}" });
    expect(bad.status).toBe(404);
    expect(bad.json().error.code).toBe("core.invoke.module_not_found");
    const op = await client(t.port, { method: "POST", path: "/v1/modules/echo/invoke/a%0Ab", body: "{}" });
    expect(op.json().error.code).toBe("core.invoke.operation_not_found");
    // Printable but outside the descriptor rule (uppercase): no module could declare it.
    const upper = await client(t.port, { method: "POST", path: "/v1/modules/echo/invoke/Say", body: "{}" });
    expect(upper.status).toBe(404);
    expect(upper.json().error.code).toBe("core.invoke.operation_not_found");
    const enc = await client(t.port, { method: "POST", path: "/v1/modules/echo/invoke/%ZZ", body: "{}" });
    expect(enc.status).toBe(400);
    expect(enc.json().error.code).toBe("core.request.invalid_path");
    expect(t.invoker.calls).toHaveLength(0);
  });
});

describe("streamed request bodies without Content-Length", () => {
  it("HTTP/1.1 chunked: 413 as soon as the limit is passed", async () => {
    const status = await new Promise<{ status: number; body: string; connection?: string }>(
      (resolve, reject) => {
        const req = h1request(
          {
            host: "127.0.0.1",
            port: t.port,
            method: "POST",
            path: INVOKE,
            headers: { "content-type": "text/plain" },
          },
          (res) => {
            let body = "";
            res.on("data", (c) => (body += c));
            res.on("end", () =>
              resolve({ status: res.statusCode!, body, connection: res.headers.connection }),
            );
          },
        );
        req.on("error", reject);
        // Keeps sending until answered: the server must not wait for the end of the body.
        const timer = setInterval(() => req.write(Buffer.alloc(512, 1)), 5);
        req.on("response", () => clearInterval(timer));
        req.on("close", () => clearInterval(timer));
      },
    );
    expect(status.status).toBe(413);
    expect(status.connection).toBe("close");
    expect(JSON.parse(status.body).error.code).toBe("core.request.body_too_large");
    expect(t.invoker.calls).toHaveLength(0);
  });

  it("HTTP/2 DATA frames without content-length: 413", async () => {
    const session = h2connect(`http://127.0.0.1:${t.port}`);
    try {
      const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":path": INVOKE, "content-type": "text/plain" });
        let status = 0;
        let body = "";
        stream.on("response", (h) => (status = Number(h[":status"])));
        stream.on("data", (c) => (body += c));
        stream.on("end", () => resolve({ status, body }));
        stream.on("error", reject);
        const timer = setInterval(() => {
          if (!stream.writableEnded && !stream.destroyed) stream.write(Buffer.alloc(512, 1));
        }, 5);
        stream.on("close", () => clearInterval(timer));
      });
      expect(result.status).toBe(413);
      expect(JSON.parse(result.body).error.code).toBe("core.request.body_too_large");
      expect(t.invoker.calls).toHaveLength(0);
    } finally {
      session.destroy();
    }
  });
});

describe("Expect: 100-continue", () => {
  function expectContinue(length: number): Promise<{ continued: boolean; status: number }> {
    return new Promise((resolve, reject) => {
      let continued = false;
      const body = Buffer.alloc(length, 1);
      const req = h1request({
        host: "127.0.0.1",
        port: t.port,
        method: "POST",
        path: INVOKE,
        headers: {
          expect: "100-continue",
          "content-type": "application/octet-stream",
          "content-length": length,
        },
      });
      req.on("continue", () => {
        continued = true;
        req.end(body);
      });
      req.on("response", (res) => {
        res.resume();
        res.on("end", () => resolve({ continued, status: res.statusCode! }));
      });
      req.on("error", reject);
      req.flushHeaders();
    });
  }

  it("invites a body within the limit", async () => {
    expect(await expectContinue(100)).toEqual({ continued: true, status: 200 });
  });

  it("refuses an oversized one before it is sent", async () => {
    expect(await expectContinue(5000)).toEqual({ continued: false, status: 413 });
    expect(t.invoker.calls).toHaveLength(0);
  });
});

describe("client disconnect during a unary call", () => {
  it.each(CLIENTS)("aborts the signal passed to the invoker (%s)", async (name) => {
    let seen: AbortSignal | undefined;
    t.invoker.unary = (request) =>
      new Promise((_resolve, reject) => {
        seen = request.signal;
        request.signal!.addEventListener("abort", () =>
          reject(OutrigError.fromCode("core.invoke.cancelled")),
        );
      });
    if (name === "HTTP/1.1") {
      const req = h1request({ host: "127.0.0.1", port: t.port, method: "POST", path: INVOKE });
      req.on("error", () => {});
      req.end("{}");
      await waitFor(() => seen !== undefined, "the call to reach the module");
      req.destroy();
    } else {
      const session = h2connect(`http://127.0.0.1:${t.port}`);
      const stream = session.request({ ":method": "POST", ":path": INVOKE });
      stream.on("error", () => {});
      stream.end("{}");
      await waitFor(() => seen !== undefined, "the call to reach the module");
      stream.close();
      session.close();
    }
    await waitFor(() => seen!.aborted, "the module call to be aborted");
    expect(seen!.aborted).toBe(true);
    // The server is fine afterwards.
    expect((await fetch(`${t.base}/healthz`)).status).toBe(200);
  });
});
