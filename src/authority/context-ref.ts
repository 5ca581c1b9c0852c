import { randomBytes, sign, verify } from "node:crypto";
import type { OutrigError } from "../errors/outrig-error.ts";
import type { CredentialInfo } from "./auth-result.ts";
import { type AuthorityCode, authorityError } from "./codes.ts";
import { CONTEXT_REF_TYP, ContextRefKeyRing } from "./context-ref-keys.ts";
import { LruCache } from "./lru.ts";
import {
  AUTH_METHODS,
  type AuthMethod,
  createPrincipal,
  type Principal,
  principalDigest,
  type TeamScope,
} from "./principal.ts";
import type { RevocationList } from "./revocation.ts";

/**
 * Context references: the identity a module carries for a caller, as a compact JWS
 * (EdDSA, Ed25519) signed by the core. `aud` is the module id, the lifetime is at most
 * 60 s, and the reference is bound to the principal (digest) and to the protocol
 * session (`sid`). Modules treat it as opaque and hand it back to the core.
 */
export const MAX_CONTEXT_REF_TTL_SEC = 60;

export interface IssueOptions {
  /** The module the reference is for (`aud`). */
  audience: string;
  /** Protocol session the reference is bound to. */
  sessionId?: string;
  /** The credential the caller presented, so its revocation also revokes the reference. */
  credential?: CredentialInfo;
  /** Lifetime, at most 60 s. */
  ttlSec?: number;
}

export interface IssuedContextRef {
  readonly token: string;
  readonly jti: string;
  readonly expiresAtMs: number;
}

export interface VerifiedContextRef {
  readonly principal: Principal;
  readonly moduleId: string;
  readonly sessionId: string | undefined;
  readonly jti: string;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
  readonly credential: CredentialInfo;
}

export type ContextRefResult = { ok: true; ref: VerifiedContextRef } | { ok: false; error: OutrigError };

export interface ContextRefServiceOptions {
  keys?: ContextRefKeyRing;
  /** Default lifetime in seconds (≤ 60). Default 60. */
  ttlSec?: number;
  issuer?: string;
  /** Tolerated clock difference between core replicas for `iat`, seconds. Default 5. */
  clockSkewSec?: number;
  /** Longer references are refused unparsed. Default 8192 characters. */
  maxTokenLength?: number;
  /** Verified references remembered until they expire. Default 10,000; 0 disables. */
  cacheEntries?: number;
  revocations?: RevocationList;
  now?: () => number;
}

interface Claims {
  iss: string;
  sub: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
  sid?: string;
  am: AuthMethod;
  roles: string[];
  scp: string[];
  tsc: TeamScope;
  pdg: string;
  crd: { id?: string; iat?: number; exp?: number };
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

function fail(code: AuthorityCode): ContextRefResult {
  return { ok: false, error: authorityError(code) };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

function parseTeamScope(value: unknown): TeamScope | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as { kind?: unknown; teamIds?: unknown };
  if (v.kind === "unrestricted" || v.kind === "public_only") return { kind: v.kind };
  if (v.kind === "teams" && isStringArray(v.teamIds) && v.teamIds.length > 0) {
    return { kind: "teams", teamIds: v.teamIds as [string, ...string[]] };
  }
  return undefined;
}

/** Reads the payload strictly; any missing or mistyped claim makes the reference malformed. */
function parseClaims(segment: string): Claims | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const c = raw as Record<string, unknown>;
  const tsc = parseTeamScope(c.tsc);
  const crd = c.crd as Claims["crd"] | undefined;
  if (
    typeof c.iss !== "string" ||
    typeof c.sub !== "string" ||
    typeof c.aud !== "string" ||
    !Number.isInteger(c.iat) ||
    !Number.isInteger(c.exp) ||
    typeof c.jti !== "string" ||
    (c.sid !== undefined && typeof c.sid !== "string") ||
    !(AUTH_METHODS as readonly unknown[]).includes(c.am) ||
    !isStringArray(c.roles) ||
    !isStringArray(c.scp) ||
    tsc === undefined ||
    typeof c.pdg !== "string" ||
    typeof crd !== "object" ||
    crd === null
  ) {
    return undefined;
  }
  return { ...(c as unknown as Claims), tsc };
}

/** The source credential as a verified reference carries it. */
function credentialFrom(method: AuthMethod, crd: Claims["crd"]): CredentialInfo {
  return Object.freeze({
    method,
    ...(crd.id !== undefined ? { id: crd.id } : {}),
    ...(crd.iat !== undefined ? { issuedAtMs: crd.iat } : {}),
    ...(crd.exp !== undefined ? { expiresAtMs: crd.exp } : {}),
  });
}

/** Issues and verifies context references. */
export class ContextRefService {
  readonly keys: ContextRefKeyRing;
  readonly #ttlSec: number;
  readonly #issuer: string;
  readonly #skewSec: number;
  readonly #maxLength: number;
  readonly #cache: LruCache<string, VerifiedContextRef> | undefined;
  readonly #revocations: RevocationList | undefined;
  readonly #now: () => number;

  constructor(options: ContextRefServiceOptions = {}) {
    this.keys = options.keys ?? ContextRefKeyRing.generate();
    this.#ttlSec = Math.min(options.ttlSec ?? MAX_CONTEXT_REF_TTL_SEC, MAX_CONTEXT_REF_TTL_SEC);
    this.#issuer = options.issuer ?? "outrig-core";
    this.#skewSec = options.clockSkewSec ?? 5;
    this.#maxLength = options.maxTokenLength ?? 8192;
    const entries = options.cacheEntries ?? 10_000;
    this.#cache = entries > 0 ? new LruCache(entries) : undefined;
    this.#revocations = options.revocations;
    this.#now = options.now ?? Date.now;
  }

  issue(principal: Principal, options: IssueOptions): IssuedContextRef {
    if (options.audience === "" || options.audience.length > 256)
      throw authorityError("auth.principal.invalid");
    const ttl = Math.max(1, Math.min(options.ttlSec ?? this.#ttlSec, this.#ttlSec));
    const iat = Math.floor(this.#now() / 1000);
    const jti = randomBytes(16).toString("base64url");
    const credential = options.credential;
    const claims: Claims = {
      iss: this.#issuer,
      sub: principal.subject,
      aud: options.audience,
      iat,
      exp: iat + ttl,
      jti,
      ...(options.sessionId !== undefined ? { sid: options.sessionId } : {}),
      am: principal.authMethod,
      roles: [...principal.roles],
      scp: [...principal.scopes],
      tsc: principal.teamScope,
      pdg: principalDigest(principal),
      crd: {
        ...(credential?.id !== undefined ? { id: credential.id } : {}),
        ...(credential?.issuedAtMs !== undefined ? { iat: credential.issuedAtMs } : {}),
        ...(credential?.expiresAtMs !== undefined ? { exp: credential.expiresAtMs } : {}),
      },
    };
    const key = this.keys.current;
    const signingInput = `${key.headerSegment}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
    const signature = sign(null, Buffer.from(signingInput), key.privateKey).toString("base64url");
    const token = `${signingInput}.${signature}`;
    const expiresAtMs = (iat + ttl) * 1000;
    // What verifying the token would yield, remembered now: the direct ingress checks a
    // reference right after issuing it, and need not re-check our own signature. Expiry,
    // audience and revocation are still checked on every use. Only a frozen principal
    // (the authenticator's, canonical) is kept, so nobody can change it afterwards.
    if (this.#cache && Object.isFrozen(principal)) {
      this.#cache.set(
        token,
        Object.freeze({
          principal,
          moduleId: options.audience,
          sessionId: options.sessionId,
          jti,
          issuedAtMs: iat * 1000,
          expiresAtMs,
          credential: credentialFrom(principal.authMethod, claims.crd),
        }),
      );
    }
    return { token, jti, expiresAtMs };
  }

  /**
   * Verifies a reference for `audience` (the calling module's id). Each refusal is
   * UNAUTHENTICATED with its own code: too large, malformed, unknown key, bad
   * signature (forged or tampered), expired, wrong audience, revoked.
   */
  verifyContextRef(token: string, options: { audience: string }): ContextRefResult {
    if (token === "") return fail("auth.context_ref.missing");
    if (token.length > this.#maxLength) return fail("auth.context_ref.too_large");
    const nowMs = this.#now();
    const cached = this.#cache?.get(token);
    if (cached) return this.#checkLive(cached, options.audience, nowMs);

    const parts = token.split(".");
    if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) return fail("auth.context_ref.malformed");
    const [headerSegment, payloadSegment, signatureSegment] = parts as [string, string, string];
    const key = this.#keyFor(headerSegment);
    if (key === "malformed") return fail("auth.context_ref.malformed");
    if (key === undefined) return fail("auth.context_ref.unknown_key");
    const signature = Buffer.from(signatureSegment, "base64url");
    const signingInput = Buffer.from(`${headerSegment}.${payloadSegment}`);
    if (signature.length !== 64 || !verify(null, signingInput, key.publicKey, signature)) {
      return fail("auth.context_ref.bad_signature");
    }
    // Only signed bytes are parsed from here on.
    const claims = parseClaims(payloadSegment);
    if (!claims || claims.iss !== this.#issuer || claims.exp - claims.iat > MAX_CONTEXT_REF_TTL_SEC) {
      return fail("auth.context_ref.malformed");
    }
    if (claims.iat * 1000 > nowMs + this.#skewSec * 1000) return fail("auth.context_ref.malformed");
    let principal: Principal;
    try {
      principal = createPrincipal({
        subject: claims.sub,
        authMethod: claims.am,
        roles: claims.roles,
        scopes: claims.scp,
        teamScope: claims.tsc,
      });
    } catch {
      return fail("auth.context_ref.malformed");
    }
    if (principalDigest(principal) !== claims.pdg) return fail("auth.context_ref.malformed");
    const ref: VerifiedContextRef = Object.freeze({
      principal,
      moduleId: claims.aud,
      sessionId: claims.sid,
      jti: claims.jti,
      issuedAtMs: claims.iat * 1000,
      expiresAtMs: claims.exp * 1000,
      credential: credentialFrom(claims.am, claims.crd),
    });
    const result = this.#checkLive(ref, options.audience, nowMs);
    if (result.ok) this.#cache?.set(token, ref);
    return result;
  }

  /** Forgets verified references (after dropping a key from the ring). */
  clearCache(): void {
    this.#cache?.clear();
  }

  /** Checks that hold at every use: expiry, audience, revocation of the reference or its source. */
  #checkLive(ref: VerifiedContextRef, audience: string, nowMs: number): ContextRefResult {
    // No skew on expiry: the 60 s bound is a hard limit.
    if (nowMs >= ref.expiresAtMs) return fail("auth.context_ref.expired");
    if (ref.moduleId !== audience) return fail("auth.context_ref.wrong_audience");
    const revocations = this.#revocations;
    if (
      revocations &&
      (revocations.isRevoked(ref.principal.subject, ref.credential) ||
        revocations.isRevoked(ref.principal.subject, { method: "jwt", id: ref.jti }))
    ) {
      return fail("auth.credential.revoked");
    }
    return { ok: true, ref };
  }

  #keyFor(headerSegment: string) {
    for (const kid of this.keys.kids) {
      const key = this.keys.byKid(kid);
      if (key && key.headerSegment === headerSegment) return key;
    }
    // Not one of our exact headers: tell an unknown key from garbage, without trusting either.
    try {
      const header = JSON.parse(Buffer.from(headerSegment, "base64url").toString("utf8")) as Record<
        string,
        unknown
      >;
      if (header.alg === "EdDSA" && header.typ === CONTEXT_REF_TYP && typeof header.kid === "string") {
        return this.keys.byKid(header.kid) ? ("malformed" as const) : undefined;
      }
    } catch {
      // fall through
    }
    return "malformed" as const;
  }
}
