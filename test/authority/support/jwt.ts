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
