import type { OutrigError } from "../errors/outrig-error.ts";
import type { AuditLogger, RequestIds } from "./audit.ts";
import type { CredentialInfo } from "./auth-result.ts";
import type { Authenticator, HeaderBag } from "./authenticator.ts";
import type {
  CatalogAccess,
  CatalogEntry,
  Decision,
  PermissionCheck,
  PolicyEngine,
} from "./cedar/policy-engine.ts";
import { authorityError } from "./codes.ts";
import type { ContextRefResult, ContextRefService } from "./context-ref.ts";
import type { InvalidationBus, InvalidationEvent } from "./invalidation.ts";
import type { PeerCertificate } from "./mtls.ts";
import type { Principal } from "./principal.ts";
import type { RateLimiter } from "./rate-limit/limiter.ts";
import type { RevocationList } from "./revocation.ts";
import type { SessionBindingStore, SessionCheck } from "./session-binding.ts";

export interface AuthorityParts {
  authenticator: Authenticator;
  policies: PolicyEngine;
  contextRefs: ContextRefService;
  sessions: SessionBindingStore;
  bus: InvalidationBus;
  /** The admin API revokes through it; the authenticator and context references consult it. */
  revocations: RevocationList;
  rateLimiter?: RateLimiter;
  audit?: AuditLogger;
}

/** Most checks one `CheckPermissions` or `CheckCatalogAccess` call may carry (the proto's limit). */
export const MAX_BATCH = 1000;

export type ResolveCallerResult =
  | {
      readonly ok: true;
      readonly principal: Principal;
      readonly credential: CredentialInfo;
      readonly contextRef: string;
      readonly expiresAtMs: number;
    }
  | { readonly ok: false; readonly error: OutrigError; readonly wwwAuthenticate: string };

export type RefResult<T> =
  | ({ readonly ok: true; readonly principal: Principal } & T)
  | { readonly ok: false; readonly error: OutrigError };

interface Authorized {
  readonly ok: true;
  readonly principal: Principal;
  readonly decision: Decision;
}

export interface Refused {
  readonly ok: false;
  readonly error: OutrigError;
  readonly wwwAuthenticate?: string;
  readonly decision?: Decision;
}

/** The core's ingress: an allow carries the context reference the module receives. */
export type AuthorizeResult = (Authorized & { readonly contextRef: string }) | Refused;

/** The admin API: no module sees the call, so an allow carries no context reference. */
export type AdminAuthorizeResult = Authorized | Refused;

/**
 * The authority's operations in the shapes of `AuthPolicyService` and of the core's
 * own ingress, over plain TypeScript types (the gRPC layer converts with the `*Pb`
 * helpers). Every deny is audited; allows are sampled.
 */
export class Authority {
  readonly parts: AuthorityParts;

  constructor(parts: AuthorityParts) {
    this.parts = parts;
  }

  /** `ResolveCaller`: authenticate what a caller presented to `moduleId` and issue a context reference. */
  async resolveCaller(request: {
    moduleId: string;
    headers: HeaderBag;
    sessionId?: string;
    ids?: RequestIds;
  }): Promise<ResolveCallerResult> {
    const result = await this.parts.authenticator.authenticate(request.headers);
    if (!result.ok) {
      this.parts.audit?.authenticationFailure(result.error, { module: request.moduleId, ...request.ids });
      return result;
    }
    const issued = this.parts.contextRefs.issue(result.principal, {
      audience: request.moduleId,
      credential: result.credential,
      ...(request.sessionId ? { sessionId: request.sessionId } : {}),
    });
    return {
      ok: true,
      principal: result.principal,
      credential: result.credential,
      contextRef: issued.token,
      expiresAtMs: issued.expiresAtMs,
    };
  }

  /** Verifies a context reference presented by `moduleId`. */
  verifyRef(moduleId: string, contextRef: string): ContextRefResult {
    return this.parts.contextRefs.verifyContextRef(contextRef, { audience: moduleId });
  }

  /**
   * `CheckPermissions`: one snapshot for the whole batch; each allowed check then
   * passes the rate limiter (a limited check becomes a RATE_LIMITED deny).
   */
  async checkPermissions(request: {
    moduleId: string;
    contextRef: string;
    checks: readonly PermissionCheck[];
    ids?: RequestIds;
  }): Promise<RefResult<{ decisions: Decision[] }>> {
    const verified = this.verifyRef(request.moduleId, request.contextRef);
    if (!verified.ok) return verified;
    if (request.checks.length > MAX_BATCH)
      return { ok: false, error: authorityError("policy.request.invalid") };
    const principal = verified.ref.principal;
    // Limits are taken concurrently but in batch order, so an exhausted bucket still
    // denies the later checks of the batch; a slow store delays the batch once, not per check.
    const decisions = await Promise.all(
      this.parts.policies
        .decideBatch(principal, request.checks)
        .map((decided, i) => this.#limit(principal, request.moduleId, request.checks[i]!, decided)),
    );
    const ids = { module: request.moduleId, ...request.ids };
    for (const [i, check] of request.checks.entries()) {
      this.parts.audit?.decision(principal, check, decisions[i]!, ids);
    }
    return { ok: true, principal, decisions };
  }

  /** `CheckCatalogAccess`. */
  checkCatalogAccess(request: {
    moduleId: string;
    contextRef: string;
    entries: readonly CatalogEntry[];
    serverId?: string;
  }): RefResult<{ entries: CatalogAccess[] }> {
    const verified = this.verifyRef(request.moduleId, request.contextRef);
    if (!verified.ok) return verified;
    if (request.entries.length > MAX_BATCH)
      return { ok: false, error: authorityError("policy.request.invalid") };
    const context = request.serverId ? { serverId: request.serverId } : undefined;
    const entries = this.parts.policies.catalogAccess(verified.ref.principal, request.entries, context);
    return { ok: true, principal: verified.ref.principal, entries };
  }

  /**
   * `ValidateSessionBinding`. The session must belong to the caller, and a reference
   * bound to a session is good for that session only.
   */
  async validateSessionBinding(request: {
    moduleId: string;
    contextRef: string;
    sessionId: string;
  }): Promise<SessionCheck> {
    const verified = this.verifyRef(request.moduleId, request.contextRef);
    if (!verified.ok) return { valid: false, error: verified.error };
    // Compared before the store is asked, so a reference for another session does not
    // extend this session's idle expiry. Same answer as "no such session": existence is not revealed.
    if (verified.ref.sessionId !== undefined && verified.ref.sessionId !== request.sessionId) {
      return { valid: false, error: authorityError("auth.session.not_found") };
    }
    return this.parts.sessions.validate(request.sessionId, verified.ref.principal);
  }

  /** Binds a new protocol session to the caller who created it. */
  bindSession(sessionId: string, owner: Principal, options?: { ttlMs?: number }): Promise<boolean> {
    return this.parts.sessions.bind(sessionId, owner, options);
  }

  /** `WatchInvalidations`. */
  watchInvalidations(signal?: AbortSignal): AsyncGenerator<InvalidationEvent> {
    return this.parts.bus.watch(signal);
  }

  /**
   * The core's own ingress: authenticate, decide, rate-limit and audit one request
   * before `Invoke`, and issue the context reference the module will receive.
   */
  async authorizeRequest(request: {
    moduleId: string;
    headers: HeaderBag;
    /** A client certificate the public listener verified, if any. */
    peer?: PeerCertificate;
    check: PermissionCheck;
    ids?: RequestIds;
  }): Promise<AuthorizeResult> {
    const authorized = await this.#authorize(request);
    if (!authorized.ok) return authorized;
    // Only an allowed request gets a reference (signing costs more than a cached decision).
    const issued = this.parts.contextRefs.issue(authorized.principal, {
      audience: request.moduleId,
      credential: authorized.credential,
    });
    return {
      ok: true,
      principal: authorized.principal,
      decision: authorized.decision,
      contextRef: issued.token,
    };
  }

  /** The admin API: authenticated, and `module.manage` on the module (or on `*`). */
  async authorizeAdmin(request: {
    headers: HeaderBag;
    peer?: PeerCertificate;
    moduleId?: string;
    ids?: RequestIds;
  }): Promise<AdminAuthorizeResult> {
    const authorized = await this.#authorize({
      moduleId: "outrig.admin",
      headers: request.headers,
      ...(request.peer ? { peer: request.peer } : {}),
      check: { action: "module.manage", resource: { type: "module", id: request.moduleId ?? "*" } },
      ...(request.ids ? { ids: request.ids } : {}),
    });
    return authorized.ok
      ? { ok: true, principal: authorized.principal, decision: authorized.decision }
      : authorized;
  }

  /** Authenticate, decide, rate-limit and audit one request; `moduleId` names the target in limits and audit. */
  async #authorize(request: {
    moduleId: string;
    headers: HeaderBag;
    peer?: PeerCertificate;
    check: PermissionCheck;
    ids?: RequestIds;
  }): Promise<(Authorized & { readonly credential: CredentialInfo }) | Refused> {
    const ids = { module: request.moduleId, ...request.ids };
    const authenticated = await this.parts.authenticator.authenticate(request.headers, request.peer);
    if (!authenticated.ok) {
      this.parts.audit?.authenticationFailure(authenticated.error, ids);
      return authenticated;
    }
    const principal = authenticated.principal;
    const decided = this.parts.policies.decide(principal, request.check);
    const decision = await this.#limit(principal, request.moduleId, request.check, decided);
    this.parts.audit?.decision(principal, request.check, decision, ids);
    if (decision.effect === "deny") return { ok: false, error: decision.error, decision };
    return { ok: true, principal, decision, credential: authenticated.credential };
  }

  async #limit(
    principal: Principal,
    moduleId: string,
    check: PermissionCheck,
    decision: Decision,
  ): Promise<Decision> {
    const limiter = this.parts.rateLimiter;
    if (!limiter || decision.effect !== "allow") return decision;
    const limited = await limiter.check(principal, { module: moduleId, action: check.action });
    if (limited.allowed) return decision;
    return {
      effect: "deny",
      policyIds: decision.policyIds,
      epoch: decision.epoch,
      cached: false,
      error: limited.error,
    };
  }
}
