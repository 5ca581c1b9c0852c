import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { type AuthResult, authFailure, DEFAULT_REALM } from "./auth-result.ts";
import { configError } from "./codes.ts";
import {
  type AuthMethod,
  createPrincipal,
  type Principal,
  PUBLIC_ONLY,
  type TeamScope,
  teamScopeOf,
  UNRESTRICTED,
} from "./principal.ts";

/**
 * API keys look like `ork_<id>_<secret>`: a 16-character public id used to find the
 * stored record, and a 256-bit random secret. Only a salted hash of the secret is
 * stored. Because the secret is full-entropy, a keyed SHA-256 (HMAC with a per-key
 * salt) is as strong as a slow KDF here and keeps verification in microseconds.
 */
export const API_KEY_PREFIX = "ork_";
const API_KEY_PATTERN = /^ork_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;
const HASH_SCHEME = "hmac-sha256";

/** Team visibility of a key, as written in configuration. */
export type TeamScopeSpec = "unrestricted" | "public_only" | readonly string[];

export interface ApiKeyRecord {
  readonly id: string;
  /** `hmac-sha256$<salt>$<digest>`, base64url parts. */
  readonly hash: string;
  readonly subject: string;
  readonly roles?: readonly string[];
  readonly scopes?: readonly string[];
  readonly teams?: TeamScopeSpec;
  /** Ms since epoch; the key is refused from then on. */
  readonly expiresAtMs?: number;
  readonly disabled?: boolean;
}

/** Where API key records live. Implementations never hold plaintext secrets. */
export interface ApiKeyStore {
  get(id: string): Promise<ApiKeyRecord | undefined>;
}

export interface GeneratedApiKey {
  /** The full key: shown to its owner once, never stored. */
  readonly plaintext: string;
  readonly id: string;
  /** What to store. */
  readonly hash: string;
}

export function hashApiKeySecret(secret: string, salt: Buffer = randomBytes(16)): string {
  const digest = createHmac("sha256", salt).update(secret).digest("base64url");
  return `${HASH_SCHEME}$${salt.toString("base64url")}$${digest}`;
}

/** A new key. The plaintext is returned once; store `id` and `hash` only. */
export function generateApiKey(): GeneratedApiKey {
  const id = randomBytes(8).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  return { plaintext: `${API_KEY_PREFIX}${id}_${secret}`, id, hash: hashApiKeySecret(secret) };
}

export function parseApiKey(presented: string): { id: string; secret: string } | undefined {
  const match = API_KEY_PATTERN.exec(presented);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

/** A stored hash to compare against when the id is unknown, so both paths cost the same. */
const DUMMY_HASH = hashApiKeySecret(randomBytes(32).toString("base64url"));

/** Constant-time check of a secret against a stored hash. */
export function verifyApiKeySecret(secret: string, stored: string): boolean {
  const [scheme, saltPart, digestPart] = stored.split("$");
  if (scheme !== HASH_SCHEME || saltPart === undefined || digestPart === undefined) return false;
  const expected = Buffer.from(digestPart, "base64url");
  const actual = createHmac("sha256", Buffer.from(saltPart, "base64url")).update(secret).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export function teamScopeFromSpec(spec: TeamScopeSpec | undefined): TeamScope {
  if (spec === undefined || spec === "public_only") return PUBLIC_ONLY;
  if (spec === "unrestricted") return UNRESTRICTED;
  return teamScopeOf(spec);
}

/**
 * What a configured credential grants its principal: subject, roles, scopes and team
 * scope. Shared by API key records and client-certificate identities.
 */
export const principalGrantFields = {
  subject: z.string().min(1).max(512),
  roles: z.array(z.string().min(1).max(256)).max(1024).optional(),
  scopes: z.array(z.string().min(1).max(256)).max(1024).optional(),
  teams: z
    .union([
      z.literal("unrestricted"),
      z.literal("public_only"),
      z.array(z.string().min(1).max(256)).max(1024),
    ])
    .optional(),
};

/** What a configured credential grants, as `principalGrantFields` reads it. */
export interface PrincipalGrant {
  readonly subject: string;
  readonly roles?: readonly string[] | undefined;
  readonly scopes?: readonly string[] | undefined;
  readonly teams?: TeamScopeSpec | undefined;
}

/** The principal a grant names; throws `auth.principal.invalid` on a bad one. */
export function principalFromGrant(grant: PrincipalGrant, authMethod: AuthMethod): Principal {
  return createPrincipal({
    subject: grant.subject,
    authMethod,
    roles: grant.roles ?? [],
    scopes: grant.scopes ?? [],
    teamScope: teamScopeFromSpec(grant.teams),
  });
}

/** Configuration form of a stored key (`expiresAt` as an ISO date). */
export const apiKeyRecordSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9]{16}$/),
    hash: z.string().regex(/^hmac-sha256\$[A-Za-z0-9_-]{16,}\$[A-Za-z0-9_-]{43}$/),
    ...principalGrantFields,
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    disabled: z.boolean().optional(),
  })
  .strict();

export type ApiKeyRecordConfig = z.infer<typeof apiKeyRecordSchema>;

/** An in-memory store, typically loaded from configuration at start. */
export class MemoryApiKeyStore implements ApiKeyStore {
  readonly #records = new Map<string, ApiKeyRecord>();

  constructor(records: readonly ApiKeyRecord[] = []) {
    for (const r of records) this.put(r);
  }

  /** Validates configuration entries (hashes only; a plaintext key is refused). */
  static fromConfig(entries: unknown): MemoryApiKeyStore {
    const parsed = z.array(apiKeyRecordSchema).safeParse(entries);
    if (!parsed.success) throw configError("API key configuration is invalid");
    return MemoryApiKeyStore.fromValidated(parsed.data);
  }

  /** Entries `apiKeyRecordSchema` has already validated (as `createAuthority` does). */
  static fromValidated(entries: readonly ApiKeyRecordConfig[]): MemoryApiKeyStore {
    return new MemoryApiKeyStore(
      entries.map(({ expiresAt, ...rest }) => ({
        ...rest,
        ...(expiresAt ? { expiresAtMs: Date.parse(expiresAt) } : {}),
      })),
    );
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    return this.#records.get(id);
  }

  put(record: ApiKeyRecord): void {
    this.#records.set(record.id, Object.freeze({ ...record }));
  }

  delete(id: string): boolean {
    return this.#records.delete(id);
  }
}

/** Verifies presented API keys against a store. */
export class ApiKeyAuthenticator {
  readonly #store: ApiKeyStore;
  readonly #now: () => number;
  readonly #realm: string;
  readonly #principals = new WeakMap<ApiKeyRecord, Principal>();

  constructor(store: ApiKeyStore, options: { now?: () => number; realm?: string } = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
    this.#realm = options.realm ?? DEFAULT_REALM;
  }

  async verify(presented: string): Promise<AuthResult> {
    const parsed = parseApiKey(presented);
    if (!parsed) return authFailure("auth.api_key.invalid", this.#realm);
    const record = await this.#store.get(parsed.id);
    // Compare even when the id is unknown so timing does not tell which ids exist.
    const matches = verifyApiKeySecret(parsed.secret, record?.hash ?? DUMMY_HASH);
    if (!record || !matches || record.disabled) return authFailure("auth.api_key.invalid", this.#realm);
    if (record.expiresAtMs !== undefined && this.#now() >= record.expiresAtMs) {
      return authFailure("auth.api_key.expired", this.#realm);
    }
    let principal = this.#principals.get(record);
    if (!principal) {
      try {
        principal = principalFromGrant(record, "api_key");
      } catch {
        return authFailure("auth.api_key.invalid", this.#realm);
      }
      this.#principals.set(record, principal);
    }
    return {
      ok: true,
      principal,
      credential: {
        method: "api_key",
        id: record.id,
        ...(record.expiresAtMs !== undefined ? { expiresAtMs: record.expiresAtMs } : {}),
      },
    };
  }
}
