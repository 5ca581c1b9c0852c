import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { OutrigError } from "../errors/outrig-error.ts";
import { authorityError } from "./codes.ts";
import { type Principal, teamScopeList } from "./principal.ts";

/**
 * Which caller owns a protocol session. The owner is the subject together with its
 * authentication method and team scope: the same subject holding a narrower token
 * (for example public-only) is a different caller and cannot reuse the session.
 */
export function sessionOwnerFingerprint(principal: Principal): Buffer {
  return createHash("sha256")
    .update(JSON.stringify([principal.subject, principal.authMethod, teamScopeList(principal.teamScope)]))
    .digest();
}

export type SessionCheck = { valid: true } | { valid: false; error: OutrigError };

export interface SessionBindingStore {
  /** The idle TTL of a binding that asks for none, and the longest one may ask for. */
  readonly ttlMs: number;
  /**
   * Binds a new session to its creator. False when the id is invalid or already bound to
   * someone else, or when the store is full: a binding is never dropped to make room.
   */
  bind(sessionId: string, owner: Principal, options?: { ttlMs?: number }): Promise<boolean>;
  /**
   * Whether the session exists and belongs to `caller`. "No such session" and "not
   * your session" give the same NOT_FOUND error, and cost the same time.
   */
  validate(sessionId: string, caller: Principal): Promise<SessionCheck>;
  /** Removes the session; only its owner may (false otherwise, the session survives). */
  unbind(sessionId: string, caller: Principal): Promise<boolean>;
}

/** Session ids are visible ASCII of bounded length (MCP's rule); anything else is unknown. */
export function isValidSessionId(sessionId: string): boolean {
  return sessionId.length > 0 && sessionId.length <= 256 && /^[\x21-\x7e]+$/.test(sessionId);
}

interface Binding {
  owner: Buffer;
  expiresAtMs: number;
  ttlMs: number;
}

const ABSENT_OWNER = randomBytes(32);

/**
 * In-memory bindings with a sliding expiry and a size bound. When full, expired bindings
 * are swept and a new session is refused if none was: evicting a live binding would end
 * someone else's session. Several core replicas need a shared implementation.
 */
export class MemorySessionBindingStore implements SessionBindingStore {
  readonly ttlMs: number;
  readonly #bindings = new Map<string, Binding>();
  readonly #maxSessions: number;
  readonly #now: () => number;
  /** No binding expires before this (expiries only slide later), so a sweep before it finds nothing. */
  #earliestExpiryMs = Number.POSITIVE_INFINITY;

  constructor(options: { ttlMs?: number; maxSessions?: number; now?: () => number } = {}) {
    this.ttlMs = options.ttlMs ?? 24 * 3_600_000;
    this.#maxSessions = options.maxSessions ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#bindings.size;
  }

  async bind(sessionId: string, owner: Principal, options: { ttlMs?: number } = {}): Promise<boolean> {
    if (!isValidSessionId(sessionId)) return false;
    const fingerprint = sessionOwnerFingerprint(owner);
    const existing = this.#live(sessionId);
    if (existing && !timingSafeEqual(existing.owner, fingerprint)) return false;
    if (!existing && !this.#hasRoom()) return false;
    const ttlMs = Math.min(options.ttlMs ?? this.ttlMs, this.ttlMs);
    const expiresAtMs = this.#now() + ttlMs;
    this.#bindings.set(sessionId, { owner: fingerprint, ttlMs, expiresAtMs });
    this.#earliestExpiryMs = Math.min(this.#earliestExpiryMs, expiresAtMs);
    return true;
  }

  async validate(sessionId: string, caller: Principal): Promise<SessionCheck> {
    const fingerprint = sessionOwnerFingerprint(caller);
    const binding = isValidSessionId(sessionId) ? this.#live(sessionId) : undefined;
    // Always one constant-time comparison, against a random value when there is no binding.
    const same = timingSafeEqual(binding?.owner ?? ABSENT_OWNER, fingerprint);
    if (!binding || !same) return { valid: false, error: authorityError("auth.session.not_found") };
    binding.expiresAtMs = this.#now() + binding.ttlMs;
    return { valid: true };
  }

  async unbind(sessionId: string, caller: Principal): Promise<boolean> {
    const check = await this.validate(sessionId, caller);
    if (!check.valid) return false;
    return this.#bindings.delete(sessionId);
  }

  #hasRoom(): boolean {
    if (this.#bindings.size < this.#maxSessions) return true;
    const now = this.#now();
    if (now < this.#earliestExpiryMs) return false;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [id, binding] of this.#bindings) {
      if (binding.expiresAtMs <= now) this.#bindings.delete(id);
      else earliest = Math.min(earliest, binding.expiresAtMs);
    }
    this.#earliestExpiryMs = earliest;
    return this.#bindings.size < this.#maxSessions;
  }

  #live(sessionId: string): Binding | undefined {
    const binding = this.#bindings.get(sessionId);
    if (binding && binding.expiresAtMs <= this.#now()) {
      this.#bindings.delete(sessionId);
      return undefined;
    }
    return binding;
  }
}
