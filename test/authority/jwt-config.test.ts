import { generateKeyPairSync } from "node:crypto";
import { exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { JwtAuthenticator } from "../../src/authority/jwt.ts";
import { principalFromClaims } from "../../src/authority/jwt-claims.ts";
import type { JwtAlgorithm } from "../../src/authority/jwt-keys.ts";
import { AUDIENCE, ISSUER, rsaKey, signToken } from "./support/jwt.ts";

describe("JWT configuration is refused when unsafe", () => {
  let pem: string;
  beforeAll(async () => {
    pem = (await rsaKey("k")).publicPem;
  });

  const base = { issuer: ISSUER, audience: AUDIENCE };

  it.each([
    ["none", { algorithms: ["none" as JwtAlgorithm], keys: [{ pem: "" }] }],
    ["an empty allow list", { algorithms: [], keys: [{ pem: "" }] }],
    ["HMAC beside RSA", { algorithms: ["RS256", "HS256"] as JwtAlgorithm[], keys: [{ pem: "" }] }],
    ["no keys at all", { algorithms: ["RS256"] as JwtAlgorithm[] }],
    [
      "a shared secret with RS256",
      { algorithms: ["RS256"] as JwtAlgorithm[], keys: [{ secret: "x".repeat(40) }] },
    ],
    ["a short HMAC secret", { algorithms: ["HS256"] as JwtAlgorithm[], keys: [{ secret: "short" }] }],
  ])("refuses %s", async (_name, config) => {
    await expect(JwtAuthenticator.create({ ...base, ...config })).rejects.toMatchObject({
      code: "auth.config.invalid",
    });
  });

  it("refuses a public key given for the wrong algorithm family", async () => {
    await expect(
      JwtAuthenticator.create({ ...base, algorithms: ["ES256"], keys: [{ pem }] }),
    ).rejects.toMatchObject({ code: "auth.config.invalid" });
  });

  it("refuses a private key and a small RSA key", async () => {
    const privatePem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    }) as string;
    await expect(
      JwtAuthenticator.create({ ...base, algorithms: ["RS256"], keys: [{ pem: privatePem }] }),
    ).rejects.toMatchObject({ code: "auth.config.invalid" });
    const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({
      type: "spki",
      format: "pem",
    }) as string;
    await expect(
      JwtAuthenticator.create({ ...base, algorithms: ["RS256"], keys: [{ pem: small }] }),
    ).rejects.toMatchObject({ code: "auth.config.invalid" });
  });

  it("keeps the reason for the operator in `cause`, not in the message", async () => {
    let error = new Error("not refused");
    try {
      await JwtAuthenticator.create({ ...base, algorithms: ["RS256", "HS256"], keys: [{ pem }] });
    } catch (e) {
      error = e as Error;
    }
    expect(error.message).toBe("The authentication configuration is invalid.");
    expect(String((error.cause as Error).message)).toMatch(/HMAC/);
  });
});

describe("JWT verification", () => {
  it("accepts ES256 keys given as JWK and maps claims", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const jwt = await JwtAuthenticator.create({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["ES256"],
      keys: [{ kid: "ec", pem: await exportSPKI(publicKey) }],
      claims: { roles: "realm_access.roles", teams: "groups", subjectPrefix: "user:" },
    });
    const token = await new SignJWT({
      realm_access: { roles: ["viewer", "viewer", "dev"] },
      groups: [{ id: "t2", name: "T" }, "t1"],
      scope: "read write",
    })
      .setProtectedHeader({ alg: "ES256", kid: "ec" })
      .setSubject("bob")
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("5m")
      .sign(privateKey);
    const result = await jwt.verify(token);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.principal).toEqual({
      subject: "user:bob",
      authMethod: "jwt",
      roles: ["dev", "viewer"],
      scopes: ["read", "write"],
      teamScope: { kind: "teams", teamIds: ["t1", "t2"] },
    });
  });

  it("accepts HS256 with a shared secret, and only that", async () => {
    const secret = "s".repeat(48);
    const jwt = await JwtAuthenticator.create({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["HS256"],
      keys: [{ secret }],
    });
    const sign = (s: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("svc")
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode(s));
    expect((await jwt.verify(await sign(secret))).ok).toBe(true);
    const wrong = await jwt.verify(await sign("t".repeat(48)));
    expect(wrong.ok ? "ok" : wrong.error.code).toBe("auth.token.bad_signature");
  });

  it("honours the clock skew for exp and nbf", async () => {
    const key = await rsaKey("k");
    let clock = Date.now();
    const jwt = await JwtAuthenticator.create({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["RS256"],
      keys: [{ kid: "k", pem: key.publicPem }],
      clockSkewSec: 60,
      cache: false,
      now: () => clock,
    });
    const exp = Math.floor(clock / 1000) + 10;
    const token = await signToken(key, { exp });
    clock += 50_000; // 40 s past exp, inside the skew
    expect((await jwt.verify(token)).ok).toBe(true);
    clock += 30_000; // 70 s past exp
    const late = await jwt.verify(token);
    expect(late.ok ? "ok" : late.error.code).toBe("auth.token.expired");
  });

  it("serves repeat tokens from its cache, but never past their expiry", async () => {
    const key = await rsaKey("k");
    let clock = Date.now();
    const jwt = await JwtAuthenticator.create({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["RS256"],
      keys: [{ kid: "k", pem: key.publicPem }],
      clockSkewSec: 0,
      now: () => clock,
    });
    const token = await signToken(key, { exp: Math.floor(clock / 1000) + 5 });
    const first = await jwt.verify(token);
    const second = await jwt.verify(token);
    expect(first.ok && second.ok && first.principal === second.principal).toBe(true);
    clock += 6_000;
    const expired = await jwt.verify(token);
    expect(expired.ok ? "ok" : expired.error.code).toBe("auth.token.expired");
  });
});

describe("claim mapping", () => {
  it.each([
    [{ sub: "a" }, { kind: "public_only" }],
    [{ sub: "a", teams: null }, { kind: "public_only" }],
    [{ sub: "a", teams: null, is_admin: true }, { kind: "unrestricted" }],
    [{ sub: "a", teams: [], is_admin: true }, { kind: "public_only" }],
    [{ sub: "a", is_admin: true }, { kind: "public_only" }],
    [
      { sub: "a", teams: ["x", "x"], is_admin: true },
      { kind: "teams", teamIds: ["x"] },
    ],
    [{ sub: "a", teams: null, roles: ["platform-admin"] }, { kind: "unrestricted" }],
  ])("normalizes %j to %j", (claims, scope) => {
    expect(principalFromClaims(claims, { adminRoles: ["platform-admin"] })?.teamScope).toEqual(scope);
  });

  it("refuses claims of the wrong shape", () => {
    expect(principalFromClaims({ sub: 42 } as unknown as JWTPayload)).toBeUndefined();
    expect(principalFromClaims({ sub: "a", roles: [1] })).toBeUndefined();
    expect(principalFromClaims({ sub: "a", teams: {} })).toBeUndefined();
    expect(principalFromClaims({ sub: "a", teams: ["ok", ""] })).toBeUndefined();
  });

  it("reads namespaced claim names whole", () => {
    const p = principalFromClaims(
      { sub: "a", "https://example.com/roles": ["r"] },
      { roles: "https://example.com/roles" },
    );
    expect(p?.roles).toEqual(["r"]);
  });
});
