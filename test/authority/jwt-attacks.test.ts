import { createHmac } from "node:crypto";
import { SignJWT } from "jose";
import { Authenticator } from "../../src/authority/authenticator.ts";
import { JwtAuthenticator } from "../../src/authority/jwt.ts";
import { AUDIENCE, b64url, ISSUER, rsaKey, signToken, type TestKey } from "./support/jwt.ts";
import { captureLogger } from "./support/logs.ts";
import { expectNoSecrets, visibleText } from "./support/secrets.ts";

/**
 * The JWT attack suite: every forged, stale, misdirected or malformed token is
 * refused as UNAUTHENTICATED with an RFC 6750 challenge, and no log line or
 * client-visible text contains the token.
 */
describe("JWT attack suite", () => {
  let key: TestKey;
  let otherKey: TestKey;
  let jwt: JwtAuthenticator;
  let authenticator: Authenticator;
  const { logger, lines } = captureLogger();
  const presented: string[] = [];
  const visible: string[] = [];

  beforeAll(async () => {
    key = await rsaKey("key-1");
    otherKey = await rsaKey("key-unknown");
    jwt = await JwtAuthenticator.create({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["RS256"],
      keys: [{ kid: key.kid, pem: key.publicPem }],
      requiredClaims: ["sub", "exp", "jti"],
      clockSkewSec: 30,
      maxTokenLength: 4096,
      logger,
    });
    authenticator = new Authenticator({ jwt, logger });
  });

  afterAll(() => {
    // Nothing the attacker sent shows up in any log line or in what a client sees.
    expect(lines.length).toBeGreaterThan(0);
    expectNoSecrets([...lines, ...visible], presented);
  });

  async function expectRejected(token: string, code: string) {
    presented.push(token);
    for (const result of [
      await jwt.verify(token),
      await authenticator.authenticate({ authorization: `Bearer ${token}` }),
    ]) {
      expect(result.ok).toBe(false);
      if (result.ok) return;
      visible.push(visibleText(result));
      expect(result.error.category).toBe("UNAUTHENTICATED");
      expect(result.wwwAuthenticate).toMatch(
        /^Bearer realm="outrig", error="invalid_(token|request)", error_description="[^"]+"$/,
      );
      expect(result.wwwAuthenticate).not.toContain(token);
    }
    const direct = await jwt.verify(token);
    expect(direct.ok ? "accepted" : direct.error.code).toBe(code);
  }

  function now(): number {
    return Math.floor(Date.now() / 1000);
  }

  it("accepts a good token (the control case)", async () => {
    const result = await authenticator.authenticate({ authorization: `Bearer ${await signToken(key)}` });
    expect(result.ok).toBe(true);
  });

  it("refuses alg: none", async () => {
    const payload = { sub: "mallory", iss: ISSUER, aud: AUDIENCE, exp: now() + 600, jti: "x1" };
    await expectRejected(
      `${b64url({ alg: "none", typ: "JWT" })}.${b64url(payload)}.`,
      "auth.token.alg_not_allowed",
    );
    await expectRejected(
      `${b64url({ alg: "NONE", kid: key.kid })}.${b64url(payload)}.`,
      "auth.token.alg_not_allowed",
    );
  });

  it("refuses HS256 signed with the RSA public key as the HMAC secret", async () => {
    const header = b64url({ alg: "HS256", typ: "JWT", kid: key.kid });
    const payload = b64url({
      sub: "mallory",
      iss: ISSUER,
      aud: AUDIENCE,
      exp: now() + 600,
      jti: "x2",
      roles: ["admin"],
    });
    for (const secret of [key.publicPem, JSON.stringify(key.publicJwk)]) {
      const signature = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
      await expectRejected(`${header}.${payload}.${signature}`, "auth.token.alg_not_allowed");
    }
  });

  it("refuses an expired token", async () => {
    await expectRejected(await signToken(key, { exp: now() - 3600 }), "auth.token.expired");
  });

  it("refuses a token that is not valid yet", async () => {
    await expectRejected(await signToken(key, { nbf: now() + 3600 }), "auth.token.not_yet_valid");
  });

  it("refuses a wrong issuer", async () => {
    await expectRejected(await signToken(key, { iss: "https://evil.example" }), "auth.token.wrong_issuer");
  });

  it("refuses a wrong audience", async () => {
    await expectRejected(await signToken(key, { aud: "some-other-service" }), "auth.token.wrong_audience");
  });

  it("refuses an unknown kid", async () => {
    await expectRejected(await signToken(otherKey), "auth.token.unknown_key");
  });

  it("refuses a token signed by another key under a known kid", async () => {
    await expectRejected(await signToken({ ...otherKey, kid: key.kid }), "auth.token.bad_signature");
  });

  it("refuses a tampered payload", async () => {
    const [h, , s] = (await signToken(key)).split(".");
    const forged = b64url({
      sub: "alice@example.com",
      roles: ["admin"],
      iss: ISSUER,
      aud: AUDIENCE,
      exp: now() + 600,
      jti: "x3",
    });
    await expectRejected(`${h}.${forged}.${s}`, "auth.token.bad_signature");
  });

  it("refuses a tampered signature", async () => {
    const [h, p, s] = (await signToken(key)).split(".") as [string, string, string];
    const i = Math.floor(s.length / 2);
    const flipped = `${s.slice(0, i)}${s[i] === "A" ? "B" : "A"}${s.slice(i + 1)}`;
    await expectRejected(`${h}.${p}.${flipped}`, "auth.token.bad_signature");
  });

  it("refuses an oversized token before parsing it", async () => {
    const token = await signToken(key, { padding: "x".repeat(5000) });
    await expectRejected(token, "auth.token.too_large");
  });

  it("refuses malformed base64 and malformed JSON", async () => {
    await expectRejected("eyJhbGciOiJSUzI1NiJ9.not*base64.sig", "auth.token.malformed");
    await expectRejected(`${b64url("{not json")}.${b64url({ sub: "x" })}.c2ln`, "auth.token.malformed");
    const [h, , s] = (await signToken(key)).split(".");
    await expectRejected(`${h}.${b64url("[1,2")}.${s}`, "auth.token.bad_signature");
    await expectRejected("onlyonesegment", "auth.token.malformed");
  });

  it("refuses a token missing a required claim", async () => {
    const token = await new SignJWT({ sub: "alice@example.com" })
      .setProtectedHeader({ alg: "RS256", kid: key.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime(now() + 600)
      .sign(key.privateKey); // no jti
    await expectRejected(token, "auth.token.missing_claim");
  });

  it("refuses a token whose teams claim has the wrong shape", async () => {
    await expectRejected(await signToken(key, { teams: "team-a" }), "auth.token.invalid_claims");
    await expectRejected(await signToken(key, { teams: [{ name: "no id" }] }), "auth.token.invalid_claims");
  });
});
