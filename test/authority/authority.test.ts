import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toJsonString } from "@bufbuild/protobuf";
import { ApiKeyAuthenticator, generateApiKey, MemoryApiKeyStore } from "../../src/authority/api-keys.ts";
import { AuditLogger } from "../../src/authority/audit.ts";
import { Authenticator } from "../../src/authority/authenticator.ts";
import { Authority } from "../../src/authority/authority.ts";
import { type PermissionCheck, PolicyEngine } from "../../src/authority/cedar/policy-engine.ts";
import { ContextRefService } from "../../src/authority/context-ref.ts";
import { DevTokenAuthenticator, generateDevToken } from "../../src/authority/dev-token.ts";
import { InvalidationBus, type InvalidationEvent } from "../../src/authority/invalidation.ts";
import { JwtAuthenticator } from "../../src/authority/jwt.ts";
import { decisionToPb, resolveCallerToPb, sessionCheckToPb } from "../../src/authority/pb.ts";
import { RateLimiter } from "../../src/authority/rate-limit/limiter.ts";
import { MemoryRateLimitStore } from "../../src/authority/rate-limit/memory-store.ts";
import { RevocationList } from "../../src/authority/revocation.ts";
import { MemorySessionBindingStore } from "../../src/authority/session-binding.ts";
import {
  ResolveCallerResponseSchema,
  ValidateSessionBindingResponseSchema,
} from "../../src/gen/outrig/core/v1/auth_policy_pb.ts";
import { AUDIENCE, b64url, ISSUER, rsaKey, signToken, type TestKey } from "./support/jwt.ts";
import { captureLogger } from "./support/logs.ts";
import { expectNoSecrets } from "./support/secrets.ts";

/**
 * The authority end to end, as AuthPolicyService and the core's ingress will use it:
 * the deny matrix on both ingress paths, session ownership, revocation, admin
 * permission, and a scan proving planted secrets never reach a log, the audit file
 * or anything a client sees.
 */
const POLICIES = `
@id("tools.hidden.ops-only")
@deny_as("not_found")
forbid (principal, action, resource == Outrig::Tool::"break-glass")
unless { principal in Outrig::Role::"ops" };
`;
const ROLES = { viewer: ["mcp.tools.list"], developer: ["mcp.*", "llm.*"], admin: ["*"] };
const MODULE = "mcp-github";
const UPSTREAM_SECRET = "sk-live-UPSTREAM-0123456789abcdefghijklmnop";

describe("Authority", () => {
  const { logger, lines } = captureLogger();
  const secrets: string[] = [UPSTREAM_SECRET];
  const refs: string[] = [];
  const visible: string[] = [];
  let dir: string;
  let key: TestKey;
  let authority: Authority;
  let revocations: RevocationList;
  let bus: InvalidationBus;
  let audit: AuditLogger;
  let apiKey: ReturnType<typeof generateApiKey>;
  let devToken: string;
  let tokens: Record<"dev" | "viewer" | "teamB" | "publicOnly" | "admin", string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "outrig-authority-"));
    key = await rsaKey("k1");
    apiKey = generateApiKey();
    devToken = generateDevToken();
    bus = new InvalidationBus();
    revocations = new RevocationList({ bus });
    audit = new AuditLogger({ filePath: join(dir, "audit.jsonl"), logger, allowSampleRate: 1 });
    authority = new Authority({
      authenticator: new Authenticator({
        jwt: await JwtAuthenticator.create({
          issuer: ISSUER,
          audience: AUDIENCE,
          algorithms: ["RS256"],
          keys: [{ kid: key.kid, pem: key.publicPem }],
          logger,
        }),
        apiKeys: new ApiKeyAuthenticator(
          new MemoryApiKeyStore([
            { id: apiKey.id, hash: apiKey.hash, subject: "svc:ci", roles: ["developer"], teams: ["team-a"] },
          ]),
        ),
        devToken: new DevTokenAuthenticator({ token: devToken, bindHost: "127.0.0.1" }),
        revocations,
        logger,
      }),
      policies: await PolicyEngine.create({ roles: ROLES, policies: POLICIES, bus, logger }),
      contextRefs: new ContextRefService({ revocations }),
      sessions: new MemorySessionBindingStore(),
      rateLimiter: new RateLimiter({
        store: new MemoryRateLimitStore(),
        rules: [{ match: { action: "llm.chat" }, capacity: 2, refillPerSecond: 0.01 }],
        logger,
      }),
      audit,
      bus,
      revocations,
    });
    tokens = {
      dev: await signToken(key, { sub: "alice", roles: ["developer"], teams: ["team-a"], jti: "alice-1" }),
      viewer: await signToken(key, { sub: "victor", roles: ["viewer"], teams: ["team-a"] }),
      teamB: await signToken(key, { sub: "bea", roles: ["developer"], teams: ["team-b"] }),
      publicOnly: await signToken(key, { sub: "alice", roles: ["developer"], teams: [] }),
      admin: await signToken(key, { sub: "root", roles: ["admin"], teams: null, is_admin: true }),
    };
    secrets.push(...Object.values(tokens), apiKey.plaintext, devToken);
  });

  afterAll(async () => {
    await audit.close();
    const auditText = await readFile(join(dir, "audit.jsonl"), "utf8");
    await rm(dir, { recursive: true, force: true });
    expect(auditText.length).toBeGreaterThan(0);
    expect(lines.length).toBeGreaterThan(0);
    // Logs and the audit trail hold no credential at all, context references included.
    expectNoSecrets([...lines, auditText], [...secrets, ...refs]);
    // What clients see (errors, challenges, decisions) holds no credential either.
    expectNoSecrets(visible, secrets);
  });

  const bearer = (token: string) => ({
    authorization: `Bearer ${token}`,
    // Headers the authority must ignore, carrying a planted upstream credential.
    "x-upstream-authorization": `Bearer ${UPSTREAM_SECRET}`,
    cookie: `session=${UPSTREAM_SECRET}`,
  });
  const tool = (id: string, attributes: Record<string, string> = { team: "team-a" }): PermissionCheck => ({
    action: "mcp.tools.call",
    resource: { type: "tool", id, attributes },
    context: { transport: "http", upstreamToken: UPSTREAM_SECRET },
  });

  /** The core's own ingress: decided before Invoke. */
  async function viaCore(headers: Record<string, string>, check: PermissionCheck): Promise<string> {
    const result = await authority.authorizeRequest({
      moduleId: MODULE,
      headers,
      check,
      ids: { correlationId: "c-1" },
    });
    visible.push(
      JSON.stringify(
        result.ok ? result.decision : { e: result.error.toEnvelope(), w: result.wwwAuthenticate },
      ),
    );
    if (result.ok) refs.push(result.contextRef);
    return result.ok ? "ALLOW" : result.error.category;
  }

  /** Direct ingress: the module resolves the caller, then asks for a decision. */
  async function viaModule(headers: Record<string, string>, check: PermissionCheck): Promise<string> {
    const resolved = await authority.resolveCaller({ moduleId: MODULE, headers });
    visible.push(
      toJsonString(ResolveCallerResponseSchema, resolveCallerToPb(resolved)).replace(
        /"contextRef":"[^"]+"/,
        "",
      ),
    );
    if (!resolved.ok) return resolved.error.category;
    refs.push(resolved.contextRef);
    const checked = await authority.checkPermissions({
      moduleId: MODULE,
      contextRef: resolved.contextRef,
      checks: [check],
    });
    if (!checked.ok) return checked.error.category;
    const decision = checked.decisions[0]!;
    visible.push(JSON.stringify(decisionToPb(decision), (_k, v) => (typeof v === "bigint" ? String(v) : v)));
    return decision.effect === "allow" ? "ALLOW" : decision.error.category;
  }

  const matrix: Array<[string, () => Record<string, string>, PermissionCheck, string]> = [
    ["allowed developer", () => bearer(tokens.dev), tool("search"), "ALLOW"],
    ["unauthenticated", () => ({}), tool("search"), "UNAUTHENTICATED"],
    [
      "garbage token",
      () => bearer("eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0."),
      tool("search"),
      "UNAUTHENTICATED",
    ],
    ["wrong team", () => bearer(tokens.teamB), tool("search"), "NOT_FOUND"],
    ["public-only token", () => bearer(tokens.publicOnly), tool("search"), "NOT_FOUND"],
    ["public-only token, public tool", () => bearer(tokens.publicOnly), tool("search", {}), "ALLOW"],
    ["insufficient role", () => bearer(tokens.viewer), tool("search"), "PERMISSION_DENIED"],
    ["hidden resource", () => bearer(tokens.dev), tool("break-glass"), "NOT_FOUND"],
    ["API key", () => ({ "x-api-key": apiKey.plaintext }), tool("search"), "ALLOW"],
  ];

  it.each(matrix)("core ingress: %s", async (_name, headers, check, expected) => {
    expect(await viaCore(headers(), check)).toBe(expected);
  });

  it.each(matrix)("direct ingress: %s", async (_name, headers, check, expected) => {
    expect(await viaModule(headers(), check)).toBe(expected);
  });

  it("direct ingress: forged, expired, tampered and other-module context references are UNAUTHENTICATED", async () => {
    const resolved = await authority.resolveCaller({ moduleId: MODULE, headers: bearer(tokens.dev) });
    if (!resolved.ok) throw new Error("should resolve");
    refs.push(resolved.contextRef);
    const [h, p] = resolved.contextRef.split(".") as [string, string];
    const forged = `${h}.${p}.${sign(null, Buffer.from(`${h}.${p}`), generateKeyPairSync("ed25519").privateKey).toString("base64url")}`;
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const widened = `${h}.${b64url({ ...claims, tsc: { kind: "unrestricted" } })}.${resolved.contextRef.split(".")[2]}`;
    const expired = new ContextRefService({
      keys: authority.parts.contextRefs.keys,
      now: () => Date.now() - 120_000,
    }).issue(resolved.principal, { audience: MODULE }).token;
    refs.push(forged, widened, expired);
    const cases: Array<[string, string, string]> = [
      [forged, MODULE, "auth.context_ref.bad_signature"],
      [widened, MODULE, "auth.context_ref.bad_signature"],
      [expired, MODULE, "auth.context_ref.expired"],
      [resolved.contextRef, "llm-openai", "auth.context_ref.wrong_audience"],
      ["", MODULE, "auth.context_ref.missing"],
    ];
    for (const [contextRef, moduleId, code] of cases) {
      const result = await authority.checkPermissions({ moduleId, contextRef, checks: [tool("search")] });
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      visible.push(JSON.stringify(result.error.toEnvelope()));
      expect(result.error.category).toBe("UNAUTHENTICATED");
      expect(result.error.code).toBe(code);
    }
  });

  it("rate-limits per principal, module and action with RATE_LIMITED and retryAfterMs", async () => {
    const chat: PermissionCheck = { action: "llm.chat", resource: { type: "model", id: "gpt" } };
    expect(await viaCore(bearer(tokens.dev), chat)).toBe("ALLOW");
    expect(await viaModule(bearer(tokens.dev), chat)).toBe("ALLOW");
    const limited = await authority.authorizeRequest({
      moduleId: MODULE,
      headers: bearer(tokens.dev),
      check: chat,
    });
    expect(limited.ok).toBe(false);
    if (limited.ok) return;
    expect(limited.error.category).toBe("RATE_LIMITED");
    expect(limited.error.retryAfterMs).toBeGreaterThan(0);
    expect(await viaCore(bearer(tokens.teamB), chat)).toBe("ALLOW"); // another principal, another bucket
  });

  it("keeps a session to the principal that created it", async () => {
    const owner = await authority.resolveCaller({
      moduleId: MODULE,
      headers: bearer(tokens.dev),
      sessionId: "mcp-s-1",
    });
    const sameSubjectPublic = await authority.resolveCaller({
      moduleId: MODULE,
      headers: bearer(tokens.publicOnly),
    });
    const peer = await authority.resolveCaller({ moduleId: MODULE, headers: bearer(tokens.teamB) });
    if (!owner.ok || !sameSubjectPublic.ok || !peer.ok) throw new Error("should resolve");
    refs.push(owner.contextRef, sameSubjectPublic.contextRef, peer.contextRef);
    expect(await authority.bindSession("mcp-s-1", owner.principal)).toBe(true);

    const check = async (contextRef: string, sessionId = "mcp-s-1") => {
      const result = await authority.validateSessionBinding({ moduleId: MODULE, contextRef, sessionId });
      visible.push(toJsonString(ValidateSessionBindingResponseSchema, sessionCheckToPb(result)));
      return result.valid ? "valid" : `${result.error.category}:${result.error.message}`;
    };
    expect(await check(owner.contextRef)).toBe("valid");
    const notFound = await check(peer.contextRef, "no-such-session");
    expect(notFound).toBe("NOT_FOUND:No such session.");
    expect(await check(peer.contextRef)).toBe(notFound);
    expect(await check(sameSubjectPublic.contextRef)).toBe(notFound);
    // A reference bound to one session does not open another session of the same owner.
    await authority.bindSession("mcp-s-2", owner.principal);
    expect(await check(owner.contextRef, "mcp-s-2")).toBe(notFound);
  });

  it("does not extend a session's idle expiry for a reference bound to another session", async () => {
    let clock = 1_000_000;
    const sessions = new MemorySessionBindingStore({ ttlMs: 10_000, now: () => clock });
    const scoped = new Authority({ ...authority.parts, sessions });
    const owner = await scoped.resolveCaller({
      moduleId: MODULE,
      headers: bearer(tokens.dev),
      sessionId: "s-a",
    });
    if (!owner.ok) throw new Error("should resolve");
    await sessions.bind("s-b", owner.principal);
    clock += 8_000;
    const refused = await scoped.validateSessionBinding({
      moduleId: MODULE,
      contextRef: owner.contextRef,
      sessionId: "s-b",
    });
    expect(refused.valid).toBe(false);
    clock += 8_000; // 16 s after bind: idle unless the refused check above slid it
    expect((await sessions.validate("s-b", owner.principal)).valid).toBe(false);
  });

  it("admin API needs module.manage", async () => {
    const admin = await authority.authorizeAdmin({ headers: bearer(tokens.admin), moduleId: MODULE });
    expect(admin.ok).toBe(true);
    // No module sees an admin call, so none gets a context reference.
    expect("contextRef" in admin).toBe(false);
    const dev = await authority.authorizeAdmin({ headers: { authorization: `Bearer ${devToken}` } });
    expect(dev.ok).toBe(true);
    const developer = await authority.authorizeAdmin({ headers: bearer(tokens.dev), moduleId: MODULE });
    expect(developer.ok || developer.error.category).toBe("PERMISSION_DENIED");
    if (!developer.ok) visible.push(JSON.stringify(developer.error.toEnvelope()));
  });

  it("stops a revoked token, and the context references issued for it, at once", async () => {
    const events: InvalidationEvent[] = [];
    const controller = new AbortController();
    const watching = (async () => {
      for await (const e of authority.watchInvalidations(controller.signal)) {
        events.push(e);
        controller.abort();
      }
    })();
    const resolved = await authority.resolveCaller({ moduleId: MODULE, headers: bearer(tokens.dev) });
    if (!resolved.ok) throw new Error("should resolve");
    refs.push(resolved.contextRef);
    const before = await authority.checkPermissions({
      moduleId: MODULE,
      contextRef: resolved.contextRef,
      checks: [tool("search")],
    });
    expect(before.ok).toBe(true);

    const revokedAt = performance.now();
    revocations.revokeToken("alice-1", { subject: "alice" });
    const after = await authority.checkPermissions({
      moduleId: MODULE,
      contextRef: resolved.contextRef,
      checks: [tool("search")],
    });
    const again = await authority.resolveCaller({ moduleId: MODULE, headers: bearer(tokens.dev) });
    const latencyMs = performance.now() - revokedAt;
    expect(after.ok || after.error.code).toBe("auth.credential.revoked");
    expect(again.ok || again.error.code).toBe("auth.credential.revoked");
    expect(latencyMs).toBeLessThan(50);
    await watching;
    expect(events[0]).toMatchObject({ kind: "token_revoked", subject: "alice" });
  });
});
