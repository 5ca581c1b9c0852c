import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { JWK } from "jose";
import { JwtAuthenticator } from "../../src/authority/jwt.ts";
import { AUDIENCE, ISSUER, rsaKey, signToken, type TestKey } from "./support/jwt.ts";

/** A JWKS endpoint on 127.0.0.1 whose key set the test can change, counting fetches. */
class JwksServer {
  keys: JWK[] = [];
  fetches = 0;
  status = 200;
  readonly #server: Server = createServer((_req, res) => {
    this.fetches++;
    res.writeHead(this.status, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: this.keys }));
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("JWKS key source", () => {
  let server: JwksServer;
  let url: string;
  let k1: TestKey;
  let k2: TestKey;
  let k3: TestKey;

  beforeAll(async () => {
    [k1, k2, k3] = await Promise.all([rsaKey("k1"), rsaKey("k2"), rsaKey("k3")]);
  });

  beforeEach(async () => {
    server = new JwksServer();
    url = await server.start();
  });

  afterEach(() => server.stop());

  async function authenticator(cooldownMs: number) {
    return JwtAuthenticator.create({
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["RS256"],
      jwks: { url, cooldownMs, cacheMaxAgeMs: 60_000, timeoutMs: 2_000 },
      cache: false,
    });
  }

  it("fetches once, then refreshes when a new kid appears", async () => {
    server.keys = [k1.publicJwk];
    const jwt = await authenticator(100);
    expect((await jwt.verify(await signToken(k1))).ok).toBe(true);
    expect((await jwt.verify(await signToken(k1))).ok).toBe(true);
    expect(server.fetches).toBe(1);

    server.keys = [k1.publicJwk, k2.publicJwk]; // the issuer rotates
    await sleep(150); // past the cooldown of the first fetch
    const result = await jwt.verify(await signToken(k2));
    expect(result.ok).toBe(true);
    expect(server.fetches).toBe(2);
  });

  it("rate-limits refreshes triggered by unknown kids", async () => {
    server.keys = [k1.publicJwk];
    const jwt = await authenticator(500);
    expect((await jwt.verify(await signToken(k1))).ok).toBe(true);
    expect(server.fetches).toBe(1);

    // A burst of tokens with unknown kids inside the cooldown fetches nothing more.
    const unknown = await signToken(k3);
    for (let i = 0; i < 20; i++) {
      const result = await jwt.verify(unknown);
      expect(result.ok ? "ok" : result.error.code).toBe("auth.token.unknown_key");
    }
    expect(server.fetches).toBe(1);

    await sleep(600);
    await jwt.verify(unknown);
    expect(server.fetches).toBe(2); // one refresh once the cooldown has passed
    await jwt.verify(unknown);
    expect(server.fetches).toBe(2);
  });

  it("refuses a token whose alg is not allowed without fetching any key", async () => {
    server.keys = [k1.publicJwk];
    const jwt = await authenticator(0);
    const [, payload, signature] = (await signToken(k3)).split(".");
    const header = (h: Record<string, unknown>) => Buffer.from(JSON.stringify(h)).toString("base64url");
    for (const [token, code] of [
      [`${header({ alg: "none", kid: "k9" })}.${payload}.`, "auth.token.alg_not_allowed"],
      [`${header({ alg: "HS256", kid: "k9" })}.${payload}.${signature}`, "auth.token.alg_not_allowed"],
      [`${header({ kid: "k9" })}.${payload}.${signature}`, "auth.token.malformed"],
    ]) {
      const result = await jwt.verify(token!);
      expect(result.ok ? "ok" : result.error.code).toBe(code);
    }
    expect(server.fetches).toBe(0);
  });

  it("answers UNAVAILABLE, not a verdict on the token, when the JWKS cannot be fetched", async () => {
    server.status = 500;
    const jwt = await authenticator(100);
    const result = await jwt.verify(await signToken(k1));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe("auth.keys.unavailable");
    expect(result.error.category).toBe("UNAVAILABLE");
    expect(result.error.retryable).toBe(true);
  });

  it("refuses an HMAC algorithm with a JWKS URL", async () => {
    await expect(
      JwtAuthenticator.create({ issuer: ISSUER, audience: AUDIENCE, algorithms: ["HS256"], jwks: { url } }),
    ).rejects.toMatchObject({ code: "auth.config.invalid" });
  });
});
