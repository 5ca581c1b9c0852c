import { request as h1request } from "node:http";
import { connect as h2connect } from "node:http2";
import type { RouteRequest, StreamEvent } from "../../src/core/types.ts";
import { OutrigError } from "../../src/errors/index.ts";
import { waitFor } from "../support/wait.ts";
import { CLIENTS, parseSse, startServer, type TestServer } from "./helpers.ts";

let t: TestServer;
beforeEach(async () => {
  t = await startServer({ maxBodyBytes: 1024 });
});
afterEach(() => t.close());

const STREAM = "/v1/modules/echo/stream/count";

function started(request: RouteRequest, contentType = "application/json"): StreamEvent {
  return {
    type: "started",
    contentType,
    instanceId: "echo-2",
    correlationId: request.correlationId!,
    traceId: undefined,
  };
}

describe.each(CLIENTS)("SSE over %s", (_name, client) => {
  it("sends started, chunks in order, then end", async () => {
    const r = await client(t.port, {
      method: "POST",
      path: STREAM,
      headers: { "content-type": "application/json", "x-correlation-id": "s-1" },
      body: '{"n":3}',
    });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(r.headers["cache-control"]).toBe("no-cache");
    expect(r.headers["x-accel-buffering"]).toBe("no");
    expect(r.headers["x-outrig-instance"]).toBe("echo-1");
    expect(r.headers["x-correlation-id"]).toBe("s-1");
    expect(parseSse(r.text())).toEqual([
      {
        event: "started",
        data: { contentType: "application/json", instanceId: "echo-1", correlationId: "s-1" },
      },
      { event: "chunk", data: { sequence: 1, data: { n: 1 } } },
      { event: "chunk", data: { sequence: 2, data: { n: 2 } } },
      { event: "chunk", data: { sequence: 3, data: { n: 3 } } },
      { event: "end", data: { cancelled: false, usage: { inputTokens: 1, outputTokens: 3, counters: {} } } },
    ]);
  });

  it("sends non-JSON content, and JSON chunks that do not parse, as base64", async () => {
    t.invoker.stream = async function* (request) {
      yield started(request, "application/octet-stream");
      yield { type: "chunk", sequence: 1, payload: new Uint8Array([0, 255, 10]) };
      yield {
        type: "end",
        cancelled: false,
        usage: { inputTokens: 0, outputTokens: 0, counters: { bytes: 3 } },
      };
    };
    const bin = parseSse((await client(t.port, { method: "POST", path: STREAM, body: "{}" })).text());
    expect(bin[1]).toEqual({ event: "chunk", data: { sequence: 1, data_base64: "AP8K" } });

    t.invoker.stream = async function* (request) {
      yield started(request, "application/json; charset=utf-8");
      yield { type: "chunk", sequence: 1, payload: Buffer.from('{\n  "multi": "line"\n}') };
      yield { type: "chunk", sequence: 2, payload: Buffer.from("not json") };
      yield { type: "end", cancelled: false, usage: { inputTokens: 0, outputTokens: 0, counters: {} } };
    };
    const mixed = parseSse((await client(t.port, { method: "POST", path: STREAM, body: "{}" })).text());
    expect(mixed.slice(1, 3)).toEqual([
      { event: "chunk", data: { sequence: 1, data: { multi: "line" } } },
      { event: "chunk", data: { sequence: 2, data_base64: Buffer.from("not json").toString("base64") } },
    ]);
  });

  it("a failure before started is a plain HTTP error, not SSE", async () => {
    t.invoker.stream = async function* () {
      yield {
        type: "error",
        error: OutrigError.fromCode("core.invoke.module_unavailable", { retryAfterMs: 1000 }),
      };
    };
    const r = await client(t.port, { method: "POST", path: STREAM, body: "{}" });
    expect(r.status).toBe(503);
    expect(r.headers["content-type"]).toBe("application/json");
    expect(r.headers["retry-after"]).toBe("1");
    expect(r.json().error).toMatchObject({ code: "core.invoke.module_unavailable", retryable: true });

    t.invoker.stream = () => ({
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.reject(new Error("socket hang up at /internal/path.ts:1:1")),
      }),
    });
    const thrown = await client(t.port, { method: "POST", path: STREAM, body: "{}" });
    expect(thrown.status).toBe(500);
    expect(thrown.text()).not.toContain("hang up");
  });

  it("an error after started is one terminal error event, nothing after it", async () => {
    t.invoker.stream = async function* (request) {
      yield started(request);
      yield { type: "chunk", sequence: 1, payload: Buffer.from("1") };
      yield { type: "error", error: OutrigError.fromCode("spi.invoke.deadline_exceeded") };
      yield { type: "chunk", sequence: 2, payload: Buffer.from("2") };
    };
    const r = await client(t.port, {
      method: "POST",
      path: STREAM,
      headers: { "x-correlation-id": "e-1" },
      body: "{}",
    });
    expect(r.status).toBe(200);
    const events = parseSse(r.text());
    expect(events.map((e) => e.event)).toEqual(["started", "chunk", "error"]);
    expect(events[2]!.data).toMatchObject({
      code: "spi.invoke.deadline_exceeded",
      category: "UNAVAILABLE",
      correlationId: "e-1",
    });
  });

  it("a stream that throws or stops without a terminal event ends with an error event", async () => {
    t.invoker.stream = async function* (request) {
      yield started(request);
      throw new Error("ECONNRESET secret-internal-detail");
    };
    const thrown = parseSse((await client(t.port, { method: "POST", path: STREAM, body: "{}" })).text());
    expect(thrown.map((e) => e.event)).toEqual(["started", "error"]);
    expect(thrown[1]!.data).toMatchObject({ category: "INTERNAL", message: "Internal error." });
    expect(JSON.stringify(thrown)).not.toContain("secret-internal-detail");

    t.invoker.stream = async function* (request) {
      yield started(request);
    };
    const cut = parseSse((await client(t.port, { method: "POST", path: STREAM, body: "{}" })).text());
    expect(cut.map((e) => e.event)).toEqual(["started", "error"]);
    expect(cut[1]!.data.code).toBe("spi.stream.protocol_violation");
  });

  it("validates the request like a unary invoke", async () => {
    const r = await client(t.port, { method: "POST", path: STREAM, body: "{broken" });
    expect(r.status).toBe(400);
    expect(r.json().error.code).toBe("core.request.invalid_json");
    expect(t.invoker.calls).toHaveLength(0);
  });
});

/** A stream that sends a chunk every few ms until its signal is aborted, then end{cancelled}. */
function endless(observed: { signal?: AbortSignal; finished: boolean }) {
  return async function* (request: RouteRequest): AsyncGenerator<StreamEvent> {
    observed.signal = request.signal;
    try {
      yield started(request);
      let sequence = 0;
      while (!request.signal!.aborted) {
        yield { type: "chunk", sequence: ++sequence, payload: Buffer.from(String(sequence)) };
        await new Promise((r) => setTimeout(r, 5));
      }
      yield { type: "end", cancelled: true, usage: { inputTokens: 0, outputTokens: 0, counters: {} } };
    } finally {
      observed.finished = true;
    }
  };
}

describe("SSE client disconnect", () => {
  it("HTTP/1.1: aborts the signal passed to the invoker", async () => {
    const observed: { signal?: AbortSignal; finished: boolean } = { finished: false };
    t.invoker.stream = endless(observed);
    await new Promise<void>((resolve, reject) => {
      const req = h1request({ host: "127.0.0.1", port: t.port, method: "POST", path: STREAM }, (res) => {
        let seen = 0;
        res.on("data", () => {
          if (++seen === 3) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on("error", (e) => (observed.finished ? undefined : reject(e)));
      req.end("{}");
    });
    await waitFor(
      () => observed.signal?.aborted === true && observed.finished,
      "the stream to be aborted and finish",
    );
    expect(observed.signal!.aborted).toBe(true);
  });

  it("HTTP/2: a reset stream aborts the signal, the session keeps working", async () => {
    const observed: { signal?: AbortSignal; finished: boolean } = { finished: false };
    t.invoker.stream = endless(observed);
    const session = h2connect(`http://127.0.0.1:${t.port}`);
    try {
      const stream = session.request({ ":method": "POST", ":path": STREAM });
      stream.on("error", () => {});
      stream.end("{}");
      let seen = 0;
      await new Promise<void>((resolve) =>
        stream.on("data", () => {
          if (++seen === 3) resolve();
        }),
      );
      stream.close();
      await waitFor(
        () => observed.signal?.aborted === true && observed.finished,
        "the stream to be aborted and finish",
      );
      const again = session.request({ ":path": "/healthz" });
      const status = await new Promise((resolve) => again.on("response", (h) => resolve(h[":status"])));
      again.resume();
      expect(status).toBe(200);
    } finally {
      session.destroy();
    }
  });
});

describe("SSE backpressure", () => {
  it("stops pulling events while the client does not read, and loses nothing", async () => {
    const total = 4000;
    let pulled = 0;
    t.invoker.stream = async function* (request) {
      yield started(request, "application/octet-stream");
      for (let i = 1; i <= total; i++) {
        pulled = i;
        yield { type: "chunk", sequence: i, payload: Buffer.alloc(16 * 1024, i % 256) };
      }
      yield { type: "end", cancelled: false, usage: { inputTokens: 0, outputTokens: 0, counters: {} } };
    };
    const text = await new Promise<string>((resolve, reject) => {
      const req = h1request({ host: "127.0.0.1", port: t.port, method: "POST", path: STREAM }, (res) => {
        res.pause();
        // While the client reads nothing, the producer must stall well short of the end.
        setTimeout(() => {
          try {
            expect(pulled).toBeGreaterThan(0);
            expect(pulled).toBeLessThan(total / 2);
          } catch (e) {
            reject(e);
            return;
          }
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
          res.resume();
        }, 300);
      });
      req.on("error", reject);
      req.end("{}");
    });
    const events = parseSse(text);
    expect(events).toHaveLength(total + 2);
    const sequences = events.filter((e) => e.event === "chunk").map((e) => e.data.sequence);
    expect(sequences).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(events.at(-1)!.event).toBe("end");
  });
});
