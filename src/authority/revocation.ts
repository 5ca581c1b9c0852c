import type { CredentialInfo } from "./auth-result.ts";
import type { InvalidationBus } from "./invalidation.ts";

/**
 * Revoked credentials, checked on every authentication (cache hits included) and on
 * every context-reference verification. A revocation takes effect in this process
 * as soon as the call returns. Entries for tokens are kept until the token would
 * have expired anyway, so the list stays small.
 */
export class RevocationList {
  readonly #tokens = new Map<string, number>(); // jti → keep until (ms)
  readonly #apiKeys = new Set<string>();
  readonly #subjects = new Map<string, number>(); // subject → credentials issued before this are revoked
  readonly #bus: InvalidationBus | undefined;
  readonly #now: () => number;
  #sweepAt = 0;

  constructor(options: { bus?: InvalidationBus; now?: () => number } = {}) {
    this.#bus = options.bus;
    this.#now = options.now ?? Date.now;
  }

  /** Revokes one JWT by `jti`. `expiresAtMs` bounds how long the entry is kept (default 24 h). */
  revokeToken(jti: string, options: { subject?: string; expiresAtMs?: number } = {}): void {
    this.#tokens.set(jti, options.expiresAtMs ?? this.#now() + 86_400_000);
    this.#publish(options.subject);
  }

  revokeApiKey(id: string, options: { subject?: string } = {}): void {
    this.#apiKeys.add(id);
    this.#publish(options.subject);
  }

  /**
   * Revokes every credential of `subject` issued before `beforeMs` (default now).
   * Credentials without an issue time (API keys, mTLS, dev) are revoked outright. A
   * subject revocation lasts until the core restarts (the list lives in memory).
   */
  revokeSubject(subject: string, beforeMs: number = this.#now()): void {
    this.#subjects.set(subject, Math.max(beforeMs, this.#subjects.get(subject) ?? 0));
    this.#publish(subject);
  }

  isRevoked(subject: string, credential: Pick<CredentialInfo, "method" | "id" | "issuedAtMs">): boolean {
    this.#sweep();
    if (credential.id !== undefined) {
      if (
        credential.method === "api_key" ? this.#apiKeys.has(credential.id) : this.#tokens.has(credential.id)
      ) {
        return true;
      }
    }
    const cutoff = this.#subjects.get(subject);
    return cutoff !== undefined && (credential.issuedAtMs === undefined || credential.issuedAtMs < cutoff);
  }

  #publish(subject: string | undefined): void {
    this.#bus?.publish({ kind: "token_revoked", ...(subject !== undefined ? { subject } : {}) });
  }

  #sweep(): void {
    const now = this.#now();
    if (now < this.#sweepAt) return;
    this.#sweepAt = now + 60_000;
    for (const [jti, until] of this.#tokens) if (until <= now) this.#tokens.delete(jti);
  }
}
