import {
  ApiKeyAuthenticator,
  generateApiKey,
  hashApiKeySecret,
  MemoryApiKeyStore,
  parseApiKey,
  verifyApiKeySecret,
} from "../../src/authority/api-keys.ts";

describe("API keys", () => {
  it("generates ork_<id>_<secret> keys whose stored form is only a salted hash", () => {
    const key = generateApiKey();
    expect(key.plaintext).toMatch(/^ork_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    const parsed = parseApiKey(key.plaintext)!;
    expect(parsed.id).toBe(key.id);
    expect(key.hash).toMatch(/^hmac-sha256\$/);
    expect(key.hash).not.toContain(parsed.secret);
    expect(verifyApiKeySecret(parsed.secret, key.hash)).toBe(true);
    expect(verifyApiKeySecret(`${parsed.secret.slice(0, -1)}x`, key.hash)).toBe(false);
  });

  it("salts every hash: the same secret never hashes the same twice", () => {
    expect(hashApiKeySecret("same-secret")).not.toBe(hashApiKeySecret("same-secret"));
  });

  it("refuses malformed stored hashes without throwing", () => {
    expect(verifyApiKeySecret("x", "md5$abc$def")).toBe(false);
    expect(verifyApiKeySecret("x", "garbage")).toBe(false);
  });

  it("authenticates against a store loaded from configuration", async () => {
    const key = generateApiKey();
    const other = generateApiKey();
    const store = MemoryApiKeyStore.fromConfig([
      { id: key.id, hash: key.hash, subject: "svc:ci", roles: ["developer"], teams: ["team-a"] },
      { id: other.id, hash: other.hash, subject: "svc:old", expiresAt: "2000-01-01T00:00:00Z" },
    ]);
    const auth = new ApiKeyAuthenticator(store);
    const ok = await auth.verify(key.plaintext);
    expect(ok.ok && ok.principal).toEqual({
      subject: "svc:ci",
      authMethod: "api_key",
      roles: ["developer"],
      scopes: [],
      teamScope: { kind: "teams", teamIds: ["team-a"] },
    });
    expect(ok.ok && ok.credential).toEqual({ method: "api_key", id: key.id });
    const expired = await auth.verify(other.plaintext);
    expect(expired.ok ? "ok" : expired.error.code).toBe("auth.api_key.expired");
    for (const bad of [
      `ork_${key.id}_${"A".repeat(43)}`,
      `ork_${"0".repeat(16)}_${"A".repeat(43)}`,
      "ork_short",
      "",
    ]) {
      const result = await auth.verify(bad);
      expect(result.ok ? "ok" : result.error.code).toBe("auth.api_key.invalid");
      expect(result.ok || result.wwwAuthenticate.includes("invalid_token")).toBe(true);
    }
  });

  it("refuses configuration that holds a plaintext key or an unknown field", () => {
    const key = generateApiKey();
    expect(() => MemoryApiKeyStore.fromConfig([{ id: key.id, hash: key.plaintext, subject: "x" }])).toThrow();
    expect(() =>
      MemoryApiKeyStore.fromConfig([{ id: key.id, hash: key.hash, subject: "x", key: key.plaintext }]),
    ).toThrow();
  });

  it("refuses disabled keys", async () => {
    const key = generateApiKey();
    const auth = new ApiKeyAuthenticator(
      new MemoryApiKeyStore([{ id: key.id, hash: key.hash, subject: "x", disabled: true }]),
    );
    expect((await auth.verify(key.plaintext)).ok).toBe(false);
  });
});
