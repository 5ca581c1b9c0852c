/**
 * The authority through the real core and real modules: the deny matrix on both ingress
 * paths (through the core, and a module that owns its public port), context references on
 * the SPI (forged, expired, another module's), session binding, revocation, rate limits,
 * the admin permission, JWT attacks over HTTP, and no credential in any log line.
 */
import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { fromGrpcError } from "../../src/errors/index.ts";
import {
  AuthPolicyService,
  Effect,
  InvalidationKind,
  type WatchInvalidationsResponse,
} from "../../src/gen/outrig/core/v1/auth_policy_pb.ts";
import { ResourceSchema } from "../../src/gen/outrig/core/v1/principal_pb.ts";
import { SessionService } from "../../src/gen/outrig/core/v1/session_pb.ts";
import { AUDIENCE, ISSUER, jwtIssuer } from "../authority/support/jwt.ts";
import {
  coreFetch,
  DIRECT_INGRESS_MODULE,
  echoModule,
  FAST,
  rawModule,
  spiClient,
  startCore,
  type TestCore,
  waitFor,
} from "../support/harness.ts";

let c: TestCore;
let idp: Awaited<ReturnType<typeof jwtIssuer>>;
const issued: string[] = [];

async function token(
  claims: Record<string, unknown>,
  options: { expiresIn?: string; audience?: string } = {},
) {
  const jwt = await idp.sign(claims, options);
  issued.push(jwt);
  return jwt;
}

const users: Record<string, string> = {};

beforeAll(async () => {
  idp = await jwtIssuer({ roles: "roles", teams: "teams" });
  c = await startCore({
    authority: {
      jwt: idp.config,
      policies: { roles: { reader: ["module.invoke"] } },
      context_refs: { ttl_sec: 1 },
      sessions: { ttl_ms: 600_000 },
      rate_limits: { rules: [{ match: { module: "limited" }, capacity: 2, refill_per_second: 0.001 }] },
    },
    modules: [
      echoModule(),
      rawModule("teamy", "healthy", { access: { visibility: "team", team: "team-a" } }),
      rawModule("secret", "healthy", { access: { hidden: true } }),
      rawModule("limited", "healthy"),
      {
        id: "direct",
        command: "node",
        args: [DIRECT_INGRESS_MODULE],
        ...FAST,
      },
    ],
  });
  await c.core.waitReady(15_000);
  users.alice = await token({ sub: "alice", roles: ["reader"], teams: ["team-a"], jti: "alice-1" });
  users.bob = await token({ sub: "bob", roles: ["reader"], teams: ["team-b"] });
  users.carol = await token({ sub: "carol", roles: ["reader"] }); // no teams claim: public only
  users.dave = await token({ sub: "dave", roles: [], teams: ["team-a"] }); // no permission
});

afterAll(async () => {
  await c?.stop();
});

async function invoke(
  moduleId: string,
  bearer: string | undefined,
  operation = moduleId === "echo" ? "echo" : "ping",
) {
  const res = await fetch(`${c.url}/v1/modules/${moduleId}/invoke/${operation}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: "{}",
  });
  const body = (await res.json()) as { error?: { category: string; code: string } } & Record<string, unknown>;
  return { status: res.status, body, headers: res.headers };
}

describe("deny matrix, ingress through the core", () => {
  test("unauthenticated and garbage credentials: 401 with a WWW-Authenticate challenge", async () => {
    for (const bearer of [undefined, "not-a-token", "eyJhbGciOiJub25lIn0.e30."]) {
      const r = await invoke("echo", bearer);
      expect(r.status).toBe(401);
      expect(r.body.error?.category).toBe("UNAUTHENTICATED");
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer realm="outrig"/);
    }
  });

  test.each([
    ["alice", "echo", 200],
    ["alice", "teamy", 200],
    ["alice", "secret", 200],
    ["bob", "echo", 200],
    ["bob", "teamy", 404], // another team's module is hidden, not forbidden
    ["carol", "teamy", 404], // a public-only token sees no team records
    ["dave", "echo", 403], // authenticated, but no role grants the action
    ["dave", "teamy", 403],
    ["dave", "secret", 404], // a hidden module's deny is NOT_FOUND
  ])("%s invoking %s gets %i", async (user, moduleId, status) => {
    const r = await invoke(moduleId, users[user]);
    expect(r.status).toBe(status);
    if (status === 404) expect(r.body.error?.category).toBe("NOT_FOUND");
    if (status === 403) expect(r.body.error?.category).toBe("PERMISSION_DENIED");
  });

  test("rate limits per principal and module: RATE_LIMITED 429 with Retry-After", async () => {
    expect((await invoke("limited", users.bob)).status).toBe(200);
    expect((await invoke("limited", users.bob)).status).toBe(200);
    const third = await invoke("limited", users.bob);
    expect(third.status).toBe(429);
    expect(third.body.error?.category).toBe("RATE_LIMITED");
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another principal has a bucket of its own.
    expect((await invoke("limited", users.alice)).status).toBe(200);
  });

  test("the admin API needs module.manage: a reader is refused, the dev token is not", async () => {
    const asReader = await fetch(`${c.url}/admin/modules`, {
      headers: { authorization: `Bearer ${users.alice}` },
    });
    expect(asReader.status).toBe(403);
    const anonymous = await fetch(`${c.url}/admin/modules`);
    expect(anonymous.status).toBe(401);
    expect((await coreFetch(`${c.url}/admin/modules`)).status).toBe(200);
  });

  test("JWT attacks over HTTP are 401 with a challenge", async () => {
    const wrongAudience = await token({ sub: "alice", roles: ["reader"] }, { audience: "someone-else" });
    const expired = await token({ sub: "alice", roles: ["reader"] }, { expiresIn: "-1m" });
    const [h, p] = users.alice!.split(".");
    const tampered = `${h}.${Buffer.from(JSON.stringify({ sub: "admin", roles: ["reader"], iss: ISSUER, aud: AUDIENCE, exp: 9e9 })).toString("base64url")}.${users.alice!.split(".")[2]}`;
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${p}.`;
    for (const bad of [wrongAudience, expired, tampered, none]) {
      const r = await invoke("echo", bad);
      expect(r.status).toBe(401);
      expect(r.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    }
  });
});

describe("deny matrix, direct ingress (a module that owns its port asks the core)", () => {
  let port: number;
  const handlerRuns = async () => {
    const instance = c.core.supervisor.group("direct")!.descriptorSource!;
    return (await instance.client!.unary("getStats", {})).custom.handler_runs ?? 0;
  };
  const direct = async (path: string, bearer?: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
  };

  beforeAll(async () => {
    const res = await coreFetch(`${c.url}/v1/modules/direct/invoke/port`, { method: "POST", body: "{}" });
    port = ((await res.json()) as { port: number }).port;
  });

  test("no credential: 401 with the core's challenge, and the handler never runs", async () => {
    const before = await handlerRuns();
    const r = await direct("/things/public");
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toMatch(/^Bearer realm="outrig"/);
    expect(await handlerRuns()).toBe(before);
  });

  test.each([
    ["alice", "/things/public", 200],
    ["alice", "/things/team", 200],
    ["bob", "/things/team", 404],
    ["carol", "/things/team", 404],
    ["dave", "/things/public", 403],
    ["dave", "/things/hidden", 404],
  ])("%s on %s gets %i, and the handler runs only on an allow", async (user, path, status) => {
    const before = await handlerRuns();
    const r = await direct(path, users[user]);
    expect(r.status).toBe(status);
    expect(await handlerRuns()).toBe(status === 200 ? before + 1 : before);
    if (status === 200) expect(r.body).toMatchObject({ hello: user, policies: ["rbac.reader"] });
  });
});

describe("context references and sessions on the SPI", () => {
  /** Clients that speak as one module, with the credential the core issued to it. */
  function as(moduleId: string) {
    return {
      auth: spiClient(c.core, moduleId, AuthPolicyService),
      sessions: spiClient(c.core, moduleId, SessionService),
    };
  }
  const check = (moduleId: string) => ({
    action: "module.invoke",
    resource: create(ResourceSchema, { type: "module", id: moduleId }),
  });

  async function resolve(client: ReturnType<typeof as>, bearer: string): Promise<string> {
    const res = await client.auth.unary("resolveCaller", {
      transport: "http",
      headers: { authorization: `Bearer ${bearer}` },
    });
    if (res.result.case !== "context") throw new Error(`not authenticated: ${res.result.case}`);
    return res.result.value.contextRef;
  }

  test("ResolveCaller answers a typed deny with the challenge", async () => {
    const res = await as("echo").auth.unary("resolveCaller", { transport: "http", headers: {} });
    expect(res.result.case).toBe("deny");
    if (res.result.case === "deny") {
      expect(res.result.value.wwwAuthenticate).toMatch(/^Bearer realm="outrig"/);
      expect(res.result.value.error?.code).toMatch(/^auth\./);
    }
  });

  test("a reference works for its module, never for another, never forged, never expired", async () => {
    const echo = as("echo");
    const teamy = as("teamy");
    const ref = await resolve(echo, users.alice!);
    const allowed = await echo.auth.unary("checkPermissions", { contextRef: ref, checks: [check("echo")] });
    expect(allowed.decisions[0]?.effect).toBe(Effect.ALLOW);

    const foreign = await teamy.auth
      .unary("checkPermissions", { contextRef: ref, checks: [check("teamy")] })
      .catch((e) => e);
    expect(fromGrpcError(foreign, "core").category).toBe("UNAUTHENTICATED");

    const [h, p, sig] = ref.split(".");
    const forged = `${h}.${p}.${sig!.slice(0, -2)}${sig!.endsWith("AA") ? "BB" : "AA"}`;
    for (const bad of [
      forged,
      `${h}.${Buffer.from('{"sub":"admin"}').toString("base64url")}.${sig}`,
      "garbage",
    ]) {
      const error = await echo.auth
        .unary("checkPermissions", { contextRef: bad, checks: [check("echo")] })
        .catch((e) => e);
      expect(fromGrpcError(error, "core").category).toBe("UNAUTHENTICATED");
    }

    await new Promise((r) => setTimeout(r, 2200)); // context_refs.ttl_sec is 1 here
    const expired = await echo.auth
      .unary("checkPermissions", { contextRef: ref, checks: [check("echo")] })
      .catch((e) => e);
    expect(fromGrpcError(expired, "core").category).toBe("UNAUTHENTICATED");
  });

  test("CheckCatalogAccess answers per entry, and refuses an oversized batch after the reference", async () => {
    const echo = as("echo");
    const ref = await resolve(echo, users.alice!);
    const { entries } = await echo.auth.unary("checkCatalogAccess", {
      contextRef: ref,
      entityType: "module",
      entityIds: ["echo", "limited"],
    });
    expect(entries.map((e) => [e.entityId, e.visible, e.invocable])).toEqual([
      ["echo", true, true],
      ["limited", true, true],
    ]);
    const many = Array.from({ length: 1001 }, (_, i) => `m${i}`);
    const refuse = (contextRef: string) =>
      echo.auth
        .unary("checkCatalogAccess", { contextRef, entityType: "module", entityIds: many })
        .catch((e) => fromGrpcError(e, "core"));
    expect(await refuse(ref)).toMatchObject({ code: "policy.request.invalid" });
    expect(await refuse("garbage")).toMatchObject({ category: "UNAUTHENTICATED" });
  });

  test("a session created by one principal cannot be used by another", async () => {
    const echo = as("echo");
    const aliceRef = await resolve(echo, users.alice!);
    const { session } = await echo.sessions.unary("createSession", { contextRef: aliceRef, protocol: "mcp" });
    expect(session?.ownerSubject).toBe("alice");
    const mine = await echo.auth.unary("validateSessionBinding", {
      contextRef: aliceRef,
      sessionId: session!.id,
    });
    expect(mine.valid).toBe(true);
    const bobRef = await resolve(echo, users.bob!);
    const theirs = await echo.auth.unary("validateSessionBinding", {
      contextRef: bobRef,
      sessionId: session!.id,
    });
    const missing = await echo.auth.unary("validateSessionBinding", {
      contextRef: bobRef,
      sessionId: "no-such-session",
    });
    expect(theirs.valid).toBe(false);
    expect(missing.valid).toBe(false);
    // "Not yours" and "does not exist" are indistinguishable.
    expect(theirs.error?.code).toBe(missing.error?.code);
    expect(theirs.error?.message).toBe(missing.error?.message);
  });

  test("a session gets the configured idle TTL unless it asks for a shorter one", async () => {
    const echo = as("echo");
    const ref = await resolve(echo, users.alice!);
    const lifetime = async (ttlMs?: number) => {
      const { session } = await echo.sessions.unary("createSession", {
        contextRef: ref,
        protocol: "mcp",
        ...(ttlMs !== undefined ? { ttlMs: BigInt(ttlMs) } : {}),
      });
      return timestampMs(session!.expiresAt!) - timestampMs(session!.createdAt!);
    };
    expect(await lifetime()).toBe(600_000); // sessions.ttl_ms
    expect(await lifetime(5_000)).toBe(5_000);
    expect(await lifetime(86_400_000)).toBe(600_000); // never beyond the configured TTL
  });

  test("a revoked token stops working at once, and modules hear about it", async () => {
    const echo = as("echo");
    const controller = new AbortController();
    const heard: WatchInvalidationsResponse[] = [];
    const watching = (async () => {
      try {
        for await (const event of echo.auth.serverStream(
          "watchInvalidations",
          {},
          { signal: controller.signal },
        )) {
          heard.push(event);
        }
      } catch {
        // Cancelled at the end of the test.
      }
    })();
    const revocable = await token({ sub: "erin", roles: ["reader"], jti: "erin-1" });
    expect((await invoke("echo", revocable)).status).toBe(200);
    const revoked = await coreFetch(`${c.url}/admin/revocations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jti: "erin-1" }),
    });
    expect(revoked.status).toBe(200);
    const after = await invoke("echo", revocable);
    expect(after.status).toBe(401);
    await waitFor(
      () => heard.some((e) => e.kind === InvalidationKind.TOKEN_REVOKED),
      "the invalidation event",
    );
    controller.abort();
    await watching;
  });
});

test("no credential ever reaches a log line", () => {
  const logs = c.logs();
  expect(logs.length).toBeGreaterThan(1000);
  for (const credential of [...issued, c.core.devToken!]) {
    expect(logs).not.toContain(credential);
    // Not even the signature part alone.
    expect(logs).not.toContain(credential.split(".").at(-1) || credential);
  }
});
