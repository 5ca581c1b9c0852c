import { createPublicKey } from "node:crypto";
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  createRemoteJWKSet,
  type JWK,
  type JWTVerifyGetKey,
} from "jose";
import { configError } from "./codes.ts";

export const ASYMMETRIC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;
export const HMAC_ALGORITHMS = ["HS256", "HS384", "HS512"] as const;
export type JwtAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number] | (typeof HMAC_ALGORITHMS)[number];

/** A verification key given in configuration. Public keys only; secrets only for HMAC. */
export type StaticKey =
  | { kid?: string; pem: string }
  | { kid?: string; jwk: JWK }
  | { kid?: string; secret: string };

export interface JwksOptions {
  /** JWKS endpoint (https in production; http is accepted for local identity providers). */
  url: string;
  /** Least time between two refreshes triggered by an unknown `kid`. Default 30 s. */
  cooldownMs?: number;
  /** Keys are refetched after this age even when every `kid` is known. Default 10 min. */
  cacheMaxAgeMs?: number;
  /** Fetch timeout. Default 5 s. */
  timeoutMs?: number;
}

export interface KeyConfig {
  algorithms: readonly JwtAlgorithm[];
  keys?: readonly StaticKey[];
  jwks?: JwksOptions;
}

export interface ResolvedKeys {
  readonly getKey: JWTVerifyGetKey | ((header: { kid?: string }) => Uint8Array);
  readonly remote: boolean;
}

const MIN_RSA_BITS = 2048;
const MIN_HMAC_BYTES = 32;

/** Which key type (and curve) an algorithm needs: mismatches are refused at load and at verify. */
function keyTypeFor(alg: JwtAlgorithm): { kty: string; crv?: string } {
  if (alg.startsWith("RS") || alg.startsWith("PS")) return { kty: "RSA" };
  if (alg === "ES256") return { kty: "EC", crv: "P-256" };
  if (alg === "ES384") return { kty: "EC", crv: "P-384" };
  if (alg === "ES512") return { kty: "EC", crv: "P-521" };
  if (alg === "EdDSA" || alg === "Ed25519") return { kty: "OKP", crv: "Ed25519" };
  return { kty: "oct" };
}

function validateAlgorithms(algorithms: readonly string[]): "asymmetric" | "hmac" {
  if (algorithms.length === 0) throw configError("the algorithm allow list is empty");
  const known = new Set<string>([...ASYMMETRIC_ALGORITHMS, ...HMAC_ALGORITHMS]);
  for (const alg of algorithms) {
    // `none` (any case) is never accepted, whatever the configuration says.
    if (alg.toLowerCase() === "none" || !known.has(alg)) throw configError(`algorithm not allowed: ${alg}`);
  }
  const hmac = algorithms.filter((a) => (HMAC_ALGORITHMS as readonly string[]).includes(a));
  if (hmac.length > 0 && hmac.length !== algorithms.length) {
    // Mixing is how the "HS256 signed with the RSA public key" attack works.
    throw configError("HMAC and asymmetric algorithms cannot be allowed together");
  }
  return hmac.length > 0 ? "hmac" : "asymmetric";
}

async function publicJwkOf(key: StaticKey): Promise<JWK> {
  let jwk: JWK;
  if ("pem" in key) {
    if (/PRIVATE KEY/.test(key.pem))
      throw configError("a private key was given where a public key is needed");
    try {
      jwk = createPublicKey(key.pem).export({ format: "jwk" }) as JWK;
    } catch {
      throw configError("a PEM key cannot be read");
    }
  } else if ("jwk" in key) {
    if (key.jwk.d !== undefined || key.jwk.k !== undefined) {
      throw configError("a private or symmetric JWK was given where a public key is needed");
    }
    jwk = { ...key.jwk };
  } else {
    throw configError("a shared secret is only usable with HMAC algorithms");
  }
  if (jwk.kty === "RSA" && Buffer.from(jwk.n ?? "", "base64url").length * 8 < MIN_RSA_BITS) {
    throw configError("RSA keys must have at least 2048 bits");
  }
  jwk.kid = key.kid ?? jwk.kid ?? (await calculateJwkThumbprint(jwk));
  jwk.use = "sig";
  return jwk;
}

function usableBy(jwk: JWK, algorithms: readonly JwtAlgorithm[]): boolean {
  return algorithms.some((alg) => {
    const need = keyTypeFor(alg);
    return (
      need.kty === jwk.kty &&
      (need.crv === undefined || need.crv === jwk.crv) &&
      (!jwk.alg || jwk.alg === alg)
    );
  });
}

function hmacResolver(keys: readonly StaticKey[]): (header: { kid?: string }) => Uint8Array {
  const secrets = keys.map((key, index) => {
    if (!("secret" in key)) throw configError("HMAC algorithms need shared secrets, not public keys");
    const bytes = Buffer.from(key.secret, "utf8");
    if (bytes.length < MIN_HMAC_BYTES) throw configError("HMAC secrets must be at least 32 bytes");
    return { kid: key.kid ?? (keys.length === 1 ? undefined : `key-${index}`), bytes: new Uint8Array(bytes) };
  });
  return (header) => {
    const match =
      header.kid === undefined
        ? secrets.length === 1
          ? secrets[0]
          : undefined
        : secrets.find((s) => s.kid === header.kid || (s.kid === undefined && secrets.length === 1));
    if (!match) throw Object.assign(new Error("no matching key"), { code: "ERR_JWKS_NO_MATCHING_KEY" });
    return match.bytes;
  };
}

/**
 * Builds the key lookup for the verifier from static keys or a JWKS URL. Refuses an
 * unsafe configuration: `none`, HMAC beside asymmetric keys, private keys, short keys,
 * keys no allowed algorithm can use.
 */
export async function resolveKeys(config: KeyConfig): Promise<ResolvedKeys> {
  const mode = validateAlgorithms(config.algorithms);
  const keys = config.keys ?? [];
  if ((keys.length === 0) === (config.jwks === undefined)) {
    throw configError("configure exactly one of static keys or a JWKS URL");
  }
  if (mode === "hmac") {
    if (config.jwks)
      throw configError("a JWKS URL serves public keys; HMAC algorithms are not allowed with it");
    return { getKey: hmacResolver(keys), remote: false };
  }
  if (config.jwks) {
    let url: URL;
    try {
      url = new URL(config.jwks.url);
    } catch {
      throw configError("the JWKS URL is invalid");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
      throw configError("the JWKS URL must be http(s)");
    const getKey = createRemoteJWKSet(url, {
      cooldownDuration: config.jwks.cooldownMs ?? 30_000,
      cacheMaxAge: config.jwks.cacheMaxAgeMs ?? 600_000,
      timeoutDuration: config.jwks.timeoutMs ?? 5_000,
    });
    return { getKey, remote: true };
  }
  const jwks: JWK[] = [];
  for (const key of keys) {
    const jwk = await publicJwkOf(key);
    if (!usableBy(jwk, config.algorithms)) throw configError(`key ${jwk.kid} fits no allowed algorithm`);
    jwks.push(jwk);
  }
  const kids = new Set(jwks.map((k) => k.kid));
  if (kids.size !== jwks.length) throw configError("two static keys share a kid");
  return { getKey: createLocalJWKSet({ keys: jwks }), remote: false };
}
