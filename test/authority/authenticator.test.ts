import { ApiKeyAuthenticator, generateApiKey, MemoryApiKeyStore } from "../../src/authority/api-keys.ts";
import { Authenticator } from "../../src/authority/authenticator.ts";
import { DevTokenAuthenticator, generateDevToken } from "../../src/authority/dev-token.ts";
import { InvalidationBus, type InvalidationEvent } from "../../src/authority/invalidation.ts";
import { JwtAuthenticator } from "../../src/authority/jwt.ts";
import { RevocationList } from "../../src/authority/revocation.ts";
import { AUDIENCE, ISSUER, rsaKey, signToken, type TestKey } from "./support/jwt.ts";

describe("Authenticator", () => {
  let key: TestKey;
  let apiKey: ReturnType<typeof generateApiKey>;
  let devToken: string;
  let bus: InvalidationBus;
  let revocations: RevocationList;
  let auth: Authenticator;

  beforeAll(async () => {
    key = await rsaKey("k1");
  });

  beforeEach(async () => {
    apiKey = generateApiKey();
    devToken = generateDevToken();
    bus = new InvalidationBus();
    revocations = new RevocationList({ bus });
    auth = new Authenticator({
      jwt: await JwtAuthenticator.create({
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ["RS256"],
        keys: [{ kid: key.kid, pem: key.publicPem }],
      }),
      apiKeys: new ApiKeyAuthenticator(
        new MemoryApiKeyStore([{ id: apiKey.id, hash: apiKey.hash, subject: "svc:ci", roles: ["ci"] }]),
      ),
      devToken: new DevTokenAuthenticator({ token: devToken, bindHost: "127.0.0.1" }),
      revocations,
    });
  });

  const code = (r: Awaited<ReturnType<Authenticator["authenticate"]>>) =>
    r.ok ? `ok:${r.principal.authMethod}` : r.error.code;

  it("accepts a JWT, an API key (either header) and the dev token", async () => {
    expect(code(await auth.authenticate({ authorization: `Bearer ${await signToken(key)}` }))).toBe("ok:jwt");
    expect(code(await auth.authenticate({ authorization: `bearer ${apiKey.plaintext}` }))).toBe("ok:api_key");
    expect(code(await auth.authenticate({ "x-api-key": apiKey.plaintext }))).toBe("ok:api_key");
    expect(code(await auth.authenticate({ authorization: `Bearer ${devToken}` }))).toBe("ok:dev");
  });

  it("challenges a request without credentials without an error attribute", async () => {
    const result = await auth.authenticate({});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe("auth.credential.missing");
    expect(result.wwwAuthenticate).toBe('Bearer realm="outrig"');
  });

  it.each([
    [{ authorization: "Basic dXNlcjpwYXNz" }, "auth.scheme.unsupported"],
    [{ authorization: "Bearer" }, "auth.credential.malformed"],
    [{ authorization: "Bearer a b" }, "auth.credential.malformed"],
    [{ authorization: ["Bearer a", "Bearer b"] }, "auth.credential.malformed"],
    [{ authorization: "Bearer not-a-jwt" }, "auth.token.malformed"],
    [{ authorization: `Bearer ${"a".repeat(20_000)}` }, "auth.token.too_large"],
    [{ "x-api-key": "nope" }, "auth.api_key.invalid"],
    [{ authorization: `Bearer ${generateDevToken()}` }, "auth.dev_token.invalid"],
  ])("refuses %j as %s", async (headers, expected) => {
    const result = await auth.authenticate(headers);
    expect(code(result)).toBe(expected);
    expect(result.ok || result.error.category).toBe("UNAUTHENTICATED");
  });

  it("refuses two credentials at once", async () => {
    const result = await auth.authenticate({
      authorization: `Bearer ${await signToken(key)}`,
      "x-api-key": apiKey.plaintext,
    });
    expect(code(result)).toBe("auth.credential.conflicting");
    expect(result.ok || result.wwwAuthenticate).toContain('error="invalid_request"');
  });

  it("stops a revoked JWT at once, even when its verification is cached", async () => {
    const events: InvalidationEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const token = await signToken(key, { jti: "revoke-me" });
    expect(code(await auth.authenticate({ authorization: `Bearer ${token}` }))).toBe("ok:jwt"); // now cached
    const started = performance.now();
    revocations.revokeToken("revoke-me", { subject: "alice@example.com" });
    expect(code(await auth.authenticate({ authorization: `Bearer ${token}` }))).toBe(
      "auth.credential.revoked",
    );
    expect(performance.now() - started).toBeLessThan(50);
    expect(events).toEqual([
      expect.objectContaining({ kind: "token_revoked", subject: "alice@example.com" }),
    ]);
    // Other tokens of the same subject are unaffected.
    expect(code(await auth.authenticate({ authorization: `Bearer ${await signToken(key)}` }))).toBe("ok:jwt");
  });

  it("stops a revoked API key, and every older token of a revoked subject", async () => {
    revocations.revokeApiKey(apiKey.id);
    expect(code(await auth.authenticate({ "x-api-key": apiKey.plaintext }))).toBe("auth.credential.revoked");
    const old = await signToken(key, { sub: "bob" });
    revocations.revokeSubject("bob", Date.now() + 1000);
    expect(code(await auth.authenticate({ authorization: `Bearer ${old}` }))).toBe("auth.credential.revoked");
  });

  it("answers not_accepted for a JWT when no JWT issuer is configured", async () => {
    const only = new Authenticator({});
    expect(code(await only.authenticate({ authorization: `Bearer ${await signToken(key)}` }))).toBe(
      "auth.token.not_accepted",
    );
  });
});
