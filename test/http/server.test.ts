import { connect as netConnect } from "node:net";
import { OutrigError } from "../../src/errors/index.ts";
import { CLIENTS, moduleStatus, startServer, type TestServer } from "./helpers.ts";

let t: TestServer;
beforeEach(async () => {
  t = await startServer();
});
afterEach(() => t.close());

describe.each(CLIENTS)("over %s", (_name, client) => {
  it("GET /healthz is ok", async () => {
    const r = await client(t.port, { path: "/healthz" });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ status: "ok" });
    expect(r.headers["content-type"]).toBe("application/json");
  });

  it("GET /readyz is 200 when ready and 503 when not", async () => {
    const ok = await client(t.port, { path: "/readyz" });
    expect(ok.status).toBe(200);
    expect(ok.json()).toEqual(t.readiness.value);
    t.readiness.value = {
      ready: false,
      modules: [{ id: "echo", required: true, state: "unavailable", reason: "restarting after exit 1" }],
    };
    const down = await client(t.port, { path: "/readyz" });
    expect(down.status).toBe(503);
    expect(down.json().modules[0]).toEqual({
      id: "echo",
      required: true,
      state: "unavailable",
      reason: "restarting after exit 1",
    });
  });

  it("logs each request at debug level with its route template and status", async () => {
    await client(t.port, { path: "/admin/modules/echo", headers: { "x-correlation-id": "debug-line-1" } });
    const line = t.logs.map((l) => JSON.parse(l)).find((e) => e.correlation_id === "debug-line-1");
    expect(line).toMatchObject({ msg: "http request", route: "/admin/modules/:module", status: 200 });
    expect(line.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it("HEAD answers like GET without a body", async () => {
    const r = await client(t.port, { method: "HEAD", path: "/healthz" });
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(0);
  });

  it("GET /metrics serves the registry with its content type", async () => {
    await client(t.port, { path: "/healthz" });
    const r = await client(t.port, { path: "/metrics" });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe(t.metrics.contentType);
    expect(r.text()).toMatch(
      /outrig_http_request_duration_seconds_count\{route="\/healthz",method="GET",status="200"\} 1/,
    );
  });

  it("404 for an unknown route, with the envelope and the correlation id", async () => {
    const r = await client(t.port, { path: "/nope", headers: { "x-correlation-id": "abc-123" } });
    expect(r.status).toBe(404);
    expect(r.headers["x-correlation-id"]).toBe("abc-123");
    expect(r.json()).toEqual({
      error: {
        category: "NOT_FOUND",
        code: "core.route.not_found",
        message: "No such route.",
        origin: "core",
        retryable: false,
        correlationId: "abc-123",
      },
    });
  });

  it("405 with Allow for a known route and a wrong method", async () => {
    const r = await client(t.port, { method: "DELETE", path: "/healthz" });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe("GET, HEAD");
    expect(r.json().error.code).toBe("core.route.method_not_allowed");
    const post = await client(t.port, { method: "GET", path: "/v1/modules/echo/invoke/say" });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("POST");
  });

  it("metrics label unmatched routes by template, never by raw path", async () => {
    await client(t.port, { path: "/random/a1b2c3" });
    await client(t.port, { method: "BREW", path: "/healthz" }).catch(() => undefined);
    const text = await t.metrics.text();
    expect(text).not.toContain("a1b2c3");
    expect(text).toMatch(/route="unmatched",method="GET",status="404"/);
  });

  it("GET /admin/modules lists the modules", async () => {
    const r = await client(t.port, { path: "/admin/modules" });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ modules: [moduleStatus("echo")] });
  });

  it("GET /admin/modules/:id is one module, or 404", async () => {
    const r = await client(t.port, { path: "/admin/modules/echo" });
    expect(r.json()).toEqual({ module: moduleStatus("echo") });
    const missing = await client(t.port, { path: "/admin/modules/ghost" });
    expect(missing.status).toBe(404);
    expect(missing.json().error.code).toBe("core.invoke.module_not_found");
    const bad = await client(t.port, { path: "/admin/modules/%00evil" });
    expect(bad.status).toBe(404);
  });

  it("POST restart waits and answers 200 with the status", async () => {
    const r = await client(t.port, { method: "POST", path: "/admin/modules/echo/restart" });
    expect(r.status).toBe(200);
    expect(r.json().module.id).toBe("echo");
    expect(t.admin.restarts).toEqual(["echo"]);
  });

  it("POST restart?wait=false answers 202 while the operation runs", async () => {
    let release!: () => void;
    t.admin.gate = () => new Promise<void>((r) => (release = r));
    const r = await client(t.port, { method: "POST", path: "/admin/modules/echo/restart?wait=false" });
    expect(r.status).toBe(202);
    expect(r.json()).toMatchObject({ accepted: true, module: { id: "echo" } });
    release();
    const bad = await client(t.port, { method: "POST", path: "/admin/modules/echo/restart?wait=soon" });
    expect(bad.status).toBe(400);
    expect(bad.json().error.code).toBe("core.admin.invalid");
  });

  it("maps an OutrigError from the admin with toHttpError", async () => {
    t.admin.gate = async () => {
      throw OutrigError.fromCode("core.admin.conflict");
    };
    const r = await client(t.port, { method: "POST", path: "/admin/modules/echo/restart?wait=false" });
    expect(r.status).toBe(409);
    expect(r.json().error.code).toBe("core.admin.conflict");
    t.admin.gate = async () => {
      throw new Error("ECONNREFUSED /var/run/secret.sock at Object.<anonymous> (/src/x.ts:1:1)");
    };
    const internal = await client(t.port, { method: "POST", path: "/admin/modules/echo/restart" });
    expect(internal.status).toBe(500);
    expect(internal.json().error).toMatchObject({
      code: "core.internal.unexpected",
      message: "Internal error.",
    });
    expect(internal.text()).not.toContain("secret.sock");
  });

  it("POST upgrade validates its body strictly", async () => {
    const ok = await client(t.port, {
      method: "POST",
      path: "/admin/modules/echo/upgrade",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ command: "node", args: ["v2.js"], env: { API_TOKEN: "hunter2-very-secret" } }),
    });
    expect(ok.status).toBe(200);
    expect(t.admin.upgrades).toEqual([
      { id: "echo", spec: { command: "node", args: ["v2.js"], env: { API_TOKEN: "hunter2-very-secret" } } },
    ]);
    expect(t.logs.join("")).not.toContain("hunter2");

    const cases: Array<[string | undefined, string, number, string]> = [
      ["application/json", JSON.stringify({ command: "node", extra: 1 }), 400, "core.admin.invalid"],
      ["application/json", JSON.stringify({ args: "not-a-list" }), 400, "core.admin.invalid"],
      ["application/json", JSON.stringify({ env: { "BAD NAME": "x" } }), 400, "core.admin.invalid"],
      ["application/json", JSON.stringify([1, 2]), 400, "core.admin.invalid"],
      ["application/json", "{not json", 400, "core.request.invalid_json"],
      ["text/plain", "{}", 415, "core.request.unsupported_media_type"],
    ];
    for (const [type, body, status, code] of cases) {
      const r = await client(t.port, {
        method: "POST",
        path: "/admin/modules/echo/upgrade",
        headers: type ? { "content-type": type } : {},
        body,
      });
      expect([body, r.status, r.json().error.code]).toEqual([body, status, code]);
    }
    const extra = await client(t.port, {
      method: "POST",
      path: "/admin/modules/echo/upgrade",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ command: "node", extra: 1 }),
    });
    expect(extra.json().error.message).toContain("extra");
    expect(t.admin.upgrades).toHaveLength(1);
  });

  it("POST revocations validates its body like upgrade", async () => {
    const ok = await client(t.port, {
      method: "POST",
      path: "/admin/revocations",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jti: "t-1", subject: "alice" }),
    });
    expect(ok.status).toBe(200);
    expect(ok.json()).toEqual({ revoked: true });
    expect(t.authorityAdmin.revoked).toEqual([{ jti: "t-1", subject: "alice" }]);

    const cases: Array<[string | undefined, string | Buffer, number, string]> = [
      ["application/json", JSON.stringify({}), 400, "core.admin.invalid"],
      ["application/json", JSON.stringify({ jti: "t-2", extra: 1 }), 400, "core.admin.invalid"],
      ["application/json", "", 400, "core.request.invalid_json"],
      ["application/json", "{not json", 400, "core.request.invalid_json"],
      ["application/json", Buffer.from([0x22, 0xff, 0x22]), 400, "core.request.invalid_json"],
      ["text/plain", JSON.stringify({ jti: "t-3" }), 415, "core.request.unsupported_media_type"],
    ];
    for (const [type, body, status, code] of cases) {
      const r = await client(t.port, {
        method: "POST",
        path: "/admin/revocations",
        headers: type ? { "content-type": type } : {},
        body,
      });
      expect([body, r.status, r.json().error.code]).toEqual([body, status, code]);
    }
    const invalid = await client(t.port, {
      method: "POST",
      path: "/admin/revocations",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(invalid.json().error.message).toBe("Invalid revocation: (body): give jti, api_key_id or subject");
    expect(t.authorityAdmin.revoked).toHaveLength(1);
  });

  it("POST policies/reload answers a refusal with the code's status, diagnostics and the correlation id", async () => {
    const { OutrigError } = await import("../../src/errors/index.ts");
    await import("../../src/authority/codes.ts");
    const ok = await client(t.port, { method: "POST", path: "/admin/policies/reload" });
    expect([ok.status, ok.json()]).toEqual([200, { epoch: 2, policies: 3 }]);
    const cases: Array<[string, number]> = [
      ["policy.set.invalid", 400],
      ["policy.source.unreadable", 412],
    ];
    for (const [code, status] of cases) {
      const diagnostics = code === "policy.set.invalid" ? [{ message: "unexpected token" }] : [];
      t.authorityAdmin.reload = { ok: false, error: OutrigError.fromCode(code), diagnostics };
      const r = await client(t.port, {
        method: "POST",
        path: "/admin/policies/reload",
        headers: { "x-correlation-id": `reload-${status}` },
      });
      expect(r.status).toBe(status);
      expect(r.headers["x-correlation-id"]).toBe(`reload-${status}`);
      expect(r.json()).toMatchObject({ error: { code, correlationId: `reload-${status}` }, diagnostics });
    }
  });

  it("POST drain checks the instance", async () => {
    const ok = await client(t.port, { method: "POST", path: "/admin/modules/echo/instances/echo-1/drain" });
    expect(ok.status).toBe(200);
    expect(t.admin.drains).toEqual([{ id: "echo", instance: "echo-1" }]);
    const missing = await client(t.port, {
      method: "POST",
      path: "/admin/modules/echo/instances/echo-9/drain",
    });
    expect(missing.status).toBe(404);
    expect(missing.json().error.code).toBe("core.admin.instance_not_found");
  });
});

describe("access decisions", () => {
  it("asks the gate before every admin call and answers a deny with its challenge", async () => {
    t.gate.deny = { category: "UNAUTHENTICATED", wwwAuthenticate: 'Bearer realm="outrig"' };
    for (const [method, path] of [
      ["GET", "/admin/modules"],
      ["POST", "/admin/modules/echo/restart"],
    ] as const) {
      const r = await fetch(`${t.base}${path}`, { method });
      expect(r.status).toBe(401);
      expect(r.headers.get("www-authenticate")).toBe('Bearer realm="outrig"');
    }
    expect(t.admin.restarts).toEqual([]);
    expect(t.gate.requests.map((r) => [r.kind, r.moduleId])).toEqual([
      ["admin", undefined],
      ["admin", "echo"],
    ]);
    // Health and metrics stay open.
    expect((await fetch(`${t.base}/healthz`)).status).toBe(200);
  });

  it("refuses a denied invoke before the body is read or the module is called", async () => {
    t.gate.deny = { category: "PERMISSION_DENIED" };
    const r = await fetch(`${t.base}/v1/modules/echo/invoke/op`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(r.status).toBe(403);
    expect(r.headers.get("www-authenticate")).toBeNull();
    expect(t.invoker.calls).toHaveLength(0);
    expect(t.gate.requests.at(-1)).toMatchObject({ kind: "invoke", moduleId: "echo", operation: "op" });
  });

  it("hands the context reference of an allow to the module call", async () => {
    t.gate.deny = undefined;
    await fetch(`${t.base}/v1/modules/echo/invoke/op`, { method: "POST", body: "{}" });
    expect(t.invoker.calls.at(-1)?.contextRef).toBe("ctxref-for-echo");
  });
});

describe("hostile HTTP/1 input", () => {
  function raw(port: number, data: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = netConnect(port, "127.0.0.1");
      let out = "";
      socket.on("data", (c) => (out += c.toString("latin1")));
      socket.on("end", () => resolve(out));
      socket.on("close", () => resolve(out));
      socket.on("error", reject);
      socket.write(data);
    });
  }

  it("a request Node cannot parse gets the envelope and a closed connection", async () => {
    const out = await raw(t.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
    expect(out).toMatch(/^HTTP\/1\.1 400 /);
    expect(out).toMatch(/x-correlation-id: [0-9a-f-]{36}/);
    expect(JSON.parse(out.slice(out.indexOf("\r\n\r\n") + 4)).error.code).toBe("core.request.malformed");
  });

  it("oversized headers are 431", async () => {
    const out = await raw(t.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 431 /);
    expect(out).toContain("core.request.headers_too_large");
  });

  it("a bad Content-Length is refused, never a crash", async () => {
    const out = await raw(
      t.port,
      "POST /v1/modules/echo/invoke/say HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    );
    expect(out).toMatch(/^HTTP\/1\.1 400 /);
    const still = await fetch(`${t.base}/healthz`);
    expect(still.status).toBe(200);
  });

  it("pipelined keep-alive requests on one connection are all answered", async () => {
    const socket = netConnect(t.port, "127.0.0.1");
    let out = "";
    socket.on("data", (c) => (out += c.toString("latin1")));
    socket.write(
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    await new Promise((r) => socket.on("close", r));
    expect(out.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
  });
});
