import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { OutrigError } from "../errors/outrig-error.ts";
import { authorityError } from "./codes.ts";
import type { Principal } from "./principal.ts";

/**
 * Which caller owns a protocol session. The owner is the subject together with its
 * authentication method and team scope: the same subject holding a narrower token
 * (for example public-only) is a different caller and cannot reuse the session.
 */
export function sessionOwnerFingerprint(principal: Principal): Buffer {
  const scope =
    principal.teamScope.kind === "teams"
      ? ["teams", ...principal.teamScope.teamIds]
      : [principal.teamScope.kind];
  return createHash("sha256")
    .update(JSON.stringify([principal.subject, principal.authMethod, scope]))
    .digest();
}

export type SessionCheck = { valid: true } | { valid: false; error: OutrigError };

export interface SessionBindingStore {
  /** Binds a new session to its creator. False when the id is already bound to someone else. */
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
 * In-memory bindings with a sliding expiry and a size bound (the oldest binding is
 * evicted first). Several core replicas need a shared implementation.
 */
export class MemorySessionBindingStore implements SessionBindingStore {
  readonly #bindings = new Map<string, Binding>();
  readonly #ttlMs: number;
  readonly #maxSessions: number;
  readonly #now: () => number;

  constructor(options: { ttlMs?: number; maxSessions?: number; now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? 24 * 3_600_000;
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
    const ttlMs = options.ttlMs ?? this.#ttlMs;
    this.#bindings.delete(sessionId);
    this.#bindings.set(sessionId, { owner: fingerprint, ttlMs, expiresAtMs: this.#now() + ttlMs });
    if (this.#bindings.size > this.#maxSessions) {
      const oldest = this.#bindings.keys().next();
      if (!oldest.done) this.#bindings.delete(oldest.value);
    }
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

  #live(sessionId: string): Binding | undefined {
    const binding = this.#bindings.get(sessionId);
    if (binding && binding.expiresAtMs <= this.#now()) {
      this.#bindings.delete(sessionId);
      return undefined;
    }
    return binding;
  }
}
