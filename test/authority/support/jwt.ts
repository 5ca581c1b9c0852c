import { exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";

export const ISSUER = "https://idp.example.test";
export const AUDIENCE = "outrig-test";

export interface TestKey {
  readonly kid: string;
  readonly privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
  readonly publicPem: string;
  readonly publicJwk: JWK;
}

export async function rsaKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  return { kid, privateKey, publicPem: await exportSPKI(publicKey), publicJwk };
}

/** A signed token with sensible defaults; `claims` and `header` override them. */
export async function signToken(
  key: TestKey,
  claims: JWTPayload = {},
  options: { header?: Record<string, unknown>; expiresIn?: string | number } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: "alice@example.com", roles: ["developer"], teams: ["team-a"], ...claims })
    .setProtectedHeader({ alg: "RS256", kid: key.kid, ...options.header })
    .setIssuer(typeof claims.iss === "string" ? claims.iss : ISSUER)
    .setAudience((claims.aud as string | string[] | undefined) ?? AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(typeof claims.exp === "number" ? claims.exp : now + 600)
    .setJti(typeof claims.jti === "string" ? claims.jti : `jti-${Math.random().toString(36).slice(2)}`)
    .sign(key.privateKey);
}

export function b64url(value: string | Buffer | object): string {
  const raw = typeof value === "string" || Buffer.isBuffer(value) ? value : JSON.stringify(value);
  return Buffer.from(raw).toString("base64url");
}

/**
 * An ES256 identity provider for a test core: the `authority.jwt` config that trusts it
 * (with the given claim mapping) and a signer of tokens with no claims beyond those asked for.
 */
export async function jwtIssuer(claimMapping: Record<string, string>) {
  const kid = "k1";
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  return {
    config: {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ["ES256"],
      keys: [{ kid, pem: await exportSPKI(publicKey) }],
      claims: claimMapping,
    },
    sign(claims: JWTPayload, options: { expiresIn?: string; audience?: string } = {}): Promise<string> {
      return new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", kid })
        .setIssuer(ISSUER)
        .setAudience(options.audience ?? AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? "5m")
        .sign(privateKey);
    },
  };
}
