import { createHash } from "node:crypto";
import { type JWTVerifyGetKey, type JWTVerifyOptions, jwtVerify } from "jose";
import type { Logger } from "pino";
import { type AuthResult, authFailure, type CredentialInfo, DEFAULT_REALM } from "./auth-result.ts";
import type { AuthorityCode } from "./codes.ts";
import { type ClaimMapping, principalFromClaims } from "./jwt-claims.ts";
import { type JwksOptions, type JwtAlgorithm, resolveKeys, type StaticKey } from "./jwt-keys.ts";
import { LruCache } from "./lru.ts";
import type { Principal } from "./principal.ts";

export interface JwtAuthenticatorConfig {
  /** Accepted `iss` values. */
  issuer: string | readonly string[];
  /** Accepted `aud` values (the token must name at least one). */
  audience: string | readonly string[];
  /** Algorithm allow list. Never `none`; HMAC only with shared secrets and alone. */
  algorithms: readonly JwtAlgorithm[];
  /** Static verification keys (PEM or JWK public keys, or HMAC secrets). */
  keys?: readonly StaticKey[];
  /** A JWKS endpoint instead of static keys. */
  jwks?: JwksOptions;
  /** Tolerance for `exp`, `nbf` and `iat`, in seconds. Default 30. */
  clockSkewSec?: number;
  /** Claims that must be present. Default `sub` and `exp`. */
  requiredClaims?: readonly string[];
  /** Longer tokens are refused before any parsing. Default 8192 characters. */
  maxTokenLength?: number;
  /** Expected `typ` header, when the issuer sets one (for example `at+jwt`). */
  typ?: string;
  claims?: ClaimMapping;
  /**
   * Verified tokens are remembered (by SHA-256 of the token) until they expire or for
   * `maxAgeMs`, whichever is sooner, so a repeat caller skips signature checks.
   * Revocation is still checked on every call by the `Authenticator`.
   */
  cache?: { maxEntries?: number; maxAgeMs?: number } | false;
  realm?: string;
  /** Clock (ms since epoch), for tests. */
  now?: () => number;
  logger?: Logger;
}

interface CachedVerification {
  readonly principal: Principal;
  readonly credential: CredentialInfo;
  readonly validUntilMs: number;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Maps a jose failure to a stable code. Only the jose error code is read, never its text. */
function codeOf(error: unknown, remote: boolean): AuthorityCode {
  const joseCode =
    typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  switch (joseCode) {
    case "ERR_JWT_EXPIRED":
      return "auth.token.expired";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
      const { claim, reason } = error as { claim?: string; reason?: string };
      if (reason === "missing") return "auth.token.missing_claim";
      if (claim === "nbf") return "auth.token.not_yet_valid";
      if (claim === "iss") return "auth.token.wrong_issuer";
      if (claim === "aud") return "auth.token.wrong_audience";
      return "auth.token.invalid_claims";
    }
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "auth.token.bad_signature";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return "auth.token.alg_not_allowed";
    case "ERR_JWKS_NO_MATCHING_KEY":
      return "auth.token.unknown_key";
    case "ERR_JWKS_TIMEOUT":
    case "ERR_JWKS_INVALID":
      return "auth.keys.unavailable";
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
    case "ERR_JOSE_NOT_SUPPORTED":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return "auth.token.malformed";
    default:
      // A failed JWKS fetch surfaces as a plain error (or ERR_JOSE_GENERIC on a bad status).
      return remote ? "auth.keys.unavailable" : "auth.token.malformed";
  }
}

/**
 * Verifies JWT bearer tokens with jose and maps their claims to a principal. Every
 * failure is a typed UNAUTHENTICATED result with an RFC 6750 challenge; the token
 * never appears in a result, an error or a log line.
 */
export class JwtAuthenticator {
  readonly #config: JwtAuthenticatorConfig;
  readonly #getKey: JWTVerifyGetKey;
  readonly #remote: boolean;
  /** Everything but the clock, built once. `algorithms` is checked before any key is looked up. */
  readonly #verifyOptions: JWTVerifyOptions;
  readonly #cache: LruCache<string, CachedVerification> | undefined;
  readonly #cacheMaxAgeMs: number;
  readonly #now: () => number;
  readonly #maxLength: number;
  readonly #realm: string;

  private constructor(config: JwtAuthenticatorConfig, getKey: JWTVerifyGetKey, remote: boolean) {
    this.#config = config;
    this.#getKey = getKey;
    this.#remote = remote;
    this.#verifyOptions = {
      algorithms: [...config.algorithms],
      issuer: config.issuer as string | string[],
      audience: config.audience as string | string[],
      clockTolerance: config.clockSkewSec ?? 30,
      requiredClaims: [...(config.requiredClaims ?? ["sub", "exp"])],
      ...(config.typ ? { typ: config.typ } : {}),
    };
    this.#cache = config.cache === false ? undefined : new LruCache(config.cache?.maxEntries ?? 10_000);
    this.#cacheMaxAgeMs = config.cache === false ? 0 : (config.cache?.maxAgeMs ?? 60_000);
    this.#now = config.now ?? Date.now;
    this.#maxLength = config.maxTokenLength ?? 8192;
    this.#realm = config.realm ?? DEFAULT_REALM;
  }

  /** Validates the configuration (refusing unsafe ones) and prepares the keys. */
  static async create(config: JwtAuthenticatorConfig): Promise<JwtAuthenticator> {
    const keys = await resolveKeys(config);
    return new JwtAuthenticator(config, keys.getKey as JWTVerifyGetKey, keys.remote);
  }

  async verify(token: string): Promise<AuthResult> {
    // Size and shape first: an oversized or non-JWS value is never parsed.
    if (token.length > this.#maxLength) return this.#fail("auth.token.too_large");
    if (!COMPACT_JWS.test(token)) return this.#fail("auth.token.malformed");
    const now = this.#now();
    const cacheKey = this.#cache ? createHash("sha256").update(token).digest("base64url") : "";
    const cached = this.#cache?.get(cacheKey);
    if (cached) {
      if (now < cached.validUntilMs)
        return { ok: true, principal: cached.principal, credential: cached.credential };
      this.#cache?.delete(cacheKey);
    }
    // jose refuses a missing or unlisted `alg` (none, HS256 against an RSA key…) before it
    // asks for a key, so such a token never triggers a JWKS fetch.
    let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
    try {
      ({ payload } = await jwtVerify(token, this.#getKey, {
        ...this.#verifyOptions,
        currentDate: new Date(now),
      }));
    } catch (error) {
      return this.#fail(codeOf(error, this.#remote), error);
    }
    const principal = principalFromClaims(payload, this.#config.claims);
    if (!principal) return this.#fail("auth.token.invalid_claims");
    const credential: CredentialInfo = {
      method: "jwt",
      ...(typeof payload.jti === "string" ? { id: payload.jti } : {}),
      ...(typeof payload.iat === "number" ? { issuedAtMs: payload.iat * 1000 } : {}),
      ...(typeof payload.exp === "number" ? { expiresAtMs: payload.exp * 1000 } : {}),
    };
    if (this.#cache) {
      const validUntilMs = Math.min(
        credential.expiresAtMs ?? Number.POSITIVE_INFINITY,
        now + this.#cacheMaxAgeMs,
      );
      this.#cache.set(cacheKey, { principal, credential, validUntilMs });
    }
    return { ok: true, principal, credential };
  }

  /** Forgets verified tokens (after a key removal, for example). */
  clearCache(): void {
    this.#cache?.clear();
  }

  #fail(code: AuthorityCode, error?: unknown) {
    // The jose error code is safe to log; its message and `cause` (the claims) are not logged.
    const joseCode =
      typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
    this.#config.logger?.debug(
      { code, joseCode: typeof joseCode === "string" ? joseCode : undefined },
      "jwt rejected",
    );
    return authFailure(code, this.#realm);
  }
}
