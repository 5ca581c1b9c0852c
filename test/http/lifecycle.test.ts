import { Agent, request as h1request } from "node:http";
import { connect as h2connect } from "node:http2";
import { connect as netConnect } from "node:net";
import pino from "pino";
import { createHttpServer } from "../../src/core/http/server.ts";
import type { RouteResult } from "../../src/core/types.ts";
import { OutrigError } from "../../src/errors/index.ts";
import { waitFor } from "../support/wait.ts";
import { FakeGate, http1, startServer, type TestServer } from "./helpers.ts";

let t: TestServer;
beforeEach(async () => {
  t = await startServer();
});
afterEach(() => t.close());

const INVOKE = "/v1/modules/echo/invoke/slow";

/** Makes the fake hold each unary call until released; records the signals it saw. */
function holdCalls() {
  const held: Array<{ release: () => void; signal: AbortSignal }> = [];
  t.invoker.unary = (request) =>
    new Promise<RouteResult>((resolve, reject) => {
      request.signal!.addEventListener("abort", () => reject(OutrigError.fromCode("core.invoke.cancelled")));
      held.push({
        signal: request.signal!,
        release: () =>
          resolve({
            payload: Buffer.from('{"done":true}'),
            contentType: "application/json",
            instanceId: "echo-1",
          }),
      });
    });
  return held;
}

function settled(p: Promise<unknown>): () => boolean {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  return () => done;
}

describe("graceful close", () => {
  it("waits for an in-flight HTTP/1.1 request and refuses new connections", async () => {
    const held = holdCalls();
    const response = http1(t.port, { method: "POST", path: INVOKE, body: "{}" });
    await waitFor(() => held.length === 1, "the call to reach the module");
    const closing = t.server.close(5000);
    const closed = settled(closing);
    await new Promise((r) => setTimeout(r, 150));
    expect(closed()).toBe(false);
    await expect(fetch(`${t.base}/healthz`)).rejects.toThrow();
    held[0]!.release();
    const r = await response;
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ done: true });
    await closing;
    expect(held[0]!.signal.aborted).toBe(false);
  });

  it("waits for an in-flight HTTP/2 stream (GOAWAY, then the stream completes)", async () => {
    const held = holdCalls();
    const session = h2connect(t.base);
    const goaway = new Promise((r) => session.once("goaway", r));
    const stream = session.request({ ":method": "POST", ":path": INVOKE });
    stream.end("{}");
    let body = "";
    stream.on("data", (c) => (body += c));
    const status = new Promise((r) => stream.on("response", (h) => r(h[":status"])));
    const ended = new Promise((r) => stream.on("end", r));
    await waitFor(() => held.length === 1, "the call to reach the module");
    const closing = t.server.close(5000);
    await goaway;
    held[0]!.release();
    expect(await status).toBe(200);
    await ended;
    expect(JSON.parse(body)).toEqual({ done: true });
    await closing;
    session.destroy();
  });

  it("destroys what is left at the deadline, which aborts the module call", async () => {
    const held = holdCalls();
    const response = http1(t.port, { method: "POST", path: INVOKE, body: "{}" }).catch((e: Error) => e);
    await waitFor(() => held.length === 1, "the call to reach the module");
    const started = Date.now();
    await t.server.close(200);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2000);
    expect(String(await response)).toMatch(/socket hang up|ECONNRESET/);
    await waitFor(() => held[0]!.signal.aborted, "the module call to be aborted");
  });

  it("does not wait for idle keep-alive or silent connections", async () => {
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      const req = h1request({ host: "127.0.0.1", port: t.port, path: "/healthz", agent }, (res) => {
        res.resume();
        res.on("end", resolve);
      });
      req.on("error", reject);
      req.end();
    });
    const silent = netConnect(t.port, "127.0.0.1");
    silent.on("error", () => {});
    await new Promise((r) => silent.on("connect", r));
    const session = h2connect(t.base);
    await new Promise((r) => session.on("connect", r));
    const started = Date.now();
    await t.server.close(5000);
    expect(Date.now() - started).toBeLessThan(1000);
    agent.destroy();
    session.destroy();
  });

  it("while closing, /readyz is 503 and keep-alive requests get Connection: close", async () => {
    const held = holdCalls();
    const socket = netConnect(t.port, "127.0.0.1");
    let out = "";
    socket.on("data", (c) => (out += c.toString("latin1")));
    socket.write(`POST ${INVOKE} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`);
    await waitFor(() => held.length === 1, "the call to reach the module");
    const closing = t.server.close(5000);
    // Pipelined behind the held request on the same connection: answered in order.
    socket.write("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise((r) => setTimeout(r, 50));
    held[0]!.release();
    await new Promise((r) => socket.on("close", r));
    await closing;
    const answers = out.split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(2);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 200 /);
    expect(answers[1]).toMatch(/^HTTP\/1\.1 503 /);
    expect(answers[1]).toMatch(/connection: close/i);
    expect(answers[1]).toContain('"reason":"the core is shutting down"');
  });

  it("close is idempotent", async () => {
    await Promise.all([t.server.close(1000), t.server.close(1000)]);
    await t.server.close(1000);
  });
});

describe("protocol detection", () => {
  it("a first byte that could start the HTTP/2 preface, then HTTP/1, is HTTP/1", async () => {
    const socket = netConnect(t.port, "127.0.0.1");
    let out = "";
    socket.on("data", (c) => (out += c.toString("latin1")));
    socket.write("P");
    await new Promise((r) => setTimeout(r, 30));
    socket.write("UT /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await new Promise((r) => socket.on("close", r));
    expect(out).toMatch(/^HTTP\/1\.1 405 /);
    expect(out).toMatch(/allow: GET, HEAD/i);
  });

  it("HTTP/1.1 and HTTP/2 share the port and the metrics", async () => {
    await http1(t.port, { path: "/healthz" });
    const session = h2connect(t.base);
    const s = session.request({ ":path": "/healthz" });
    s.resume();
    await new Promise((r) => s.on("end", r));
    session.close();
    expect(await t.metrics.text()).toMatch(/route="\/healthz",method="GET",status="200"\} 2/);
  });

  it("listen reports a port already in use", async () => {
    const other = createHttpServer({
      invoker: t.invoker,
      admin: t.admin,
      readiness: () => ({ ready: true, modules: [] }),
      metrics: t.metrics,
      logger: pino({ level: "silent" }),
      maxBodyBytes: 10,
      gate: new FakeGate(),
      authorityAdmin: t.authorityAdmin,
    });
    await expect(other.listen("127.0.0.1", t.port)).rejects.toMatchObject({ code: "EADDRINUSE" });
    await other.close(100);
  });
});
