import { randomBytes } from "node:crypto";
import type { EntityJson } from "@cedar-policy/cedar-wasm/nodejs";
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import type { Logger } from "pino";
import type { OutrigError } from "../../errors/outrig-error.ts";
import { type AuthorityCode, authorityError } from "../codes.ts";
import type { InvalidationBus } from "../invalidation.ts";
import { LruCache } from "../lru.ts";
import { type Principal, principalDigest } from "../principal.ts";
import {
  ACTION_TYPE,
  actionEntities,
  cedarContext,
  cedarTypeOf,
  isCleanValue,
  isVisibleTo,
  type NormalizedResource,
  normalizeResource,
  principalEntity,
  type ResourceRef,
  resourceEntity,
  USER_TYPE,
} from "./entities.ts";
import { compilePolicySet, type PolicyDiagnostic } from "./policy-set.ts";
import type { RolePermissions } from "./rbac.ts";
import { isResourceType, loadSchema, type ResourceType, type SchemaInfo } from "./schema.ts";
import { buildSlices, type PolicySlices, releaseSlices, SliceBuildError } from "./slices.ts";

export interface PermissionCheck {
  /** Action id, for example `mcp.tools.call`. */
  readonly action: string;
  readonly resource: ResourceRef;
  /** Non-secret request facts (see `CONTEXT_KEYS`); other keys are ignored. */
  readonly context?: Readonly<Record<string, string>>;
}

export type Decision =
  | {
      readonly effect: "allow";
      readonly policyIds: readonly string[];
      readonly epoch: number;
      readonly cached: boolean;
      readonly error?: undefined;
    }
  | {
      readonly effect: "deny";
      readonly policyIds: readonly string[];
      readonly epoch: number;
      readonly cached: boolean;
      /** PERMISSION_DENIED, NOT_FOUND (existence hidden), INVALID_ARGUMENT or INTERNAL. */
      readonly error: OutrigError;
    };

export type PolicyLoadResult =
  | { ok: true; epoch: number; policyCount: number; warnings: readonly PolicyDiagnostic[] }
  | { ok: false; epoch: number; error: OutrigError; diagnostics: readonly PolicyDiagnostic[] };

/** Where the operator's policies come from, for `reload()`. */
export interface PolicySource {
  read(): Promise<string>;
  readonly description: string;
}

export interface CatalogEntry {
  readonly resource: ResourceRef;
  /** The action that "invoking" this entry means; default per type (tool → mcp.tools.call …). */
  readonly invokeAction?: string;
}

export interface CatalogAccess {
  readonly entityId: string;
  readonly visible: boolean;
  readonly invocable: boolean;
}

export interface PolicyEngineOptions {
  /** Operator policies (Cedar text with `@id` annotations). Default none: only roles and built-ins. */
  policies?: string;
  /** Read at `create` and on every `reload()`; takes precedence over `policies`. */
  source?: PolicySource;
  roles?: RolePermissions;
  /** Cedar schema text; default the bundled `outrig.cedarschema`. */
  schemaText?: string;
  /** Decision cache entries per policy epoch. Default 10,000; 0 disables. */
  decisionCacheSize?: number;
  bus?: InvalidationBus;
  logger?: Logger;
}

export const DEFAULT_INVOKE_ACTION: Readonly<Record<ResourceType, string>> = {
  tool: "mcp.tools.call",
  resource: "mcp.resources.read",
  prompt: "mcp.prompts.get",
  agent: "a2a.message.send",
  model: "llm.chat",
  route: "rest.invoke",
  module: "module.invoke",
};

interface CachedDecision {
  readonly effect: "allow" | "deny";
  readonly policyIds: readonly string[];
  readonly code?: AuthorityCode;
}

/**
 * Everything one decision reads, swapped in as a whole: a decision takes the
 * snapshot once and never sees a mix of two policy sets. Its cache dies with it.
 */
interface Snapshot {
  readonly epoch: number;
  readonly text: string;
  readonly roles: RolePermissions;
  readonly policyCount: number;
  readonly slices: PolicySlices;
  readonly hidingPolicies: ReadonlySet<string>;
  readonly forbidPolicies: ReadonlySet<string>;
  readonly cache: LruCache<string, CachedDecision> | undefined;
}

let engineCounter = 0;
const VISIBILITY_IDS: readonly string[] = Object.freeze(["outrig.visibility"]);

/**
 * Default-deny authorization with real Cedar. Policies are validated against the
 * schema when loaded; an invalid set is refused with Cedar's diagnostics and the
 * set in force stays. Decisions are cached per epoch and name the deciding policies.
 */
export class PolicyEngine {
  readonly schema: SchemaInfo;
  readonly #actions: ReadonlyMap<string, EntityJson>;
  readonly #prefix = `outrig-${process.pid}-${++engineCounter}-${randomBytes(4).toString("hex")}`;
  readonly #options: PolicyEngineOptions;
  #snapshot: Snapshot | undefined;

  private constructor(options: PolicyEngineOptions) {
    this.#options = options;
    this.schema = loadSchema(options.schemaText);
    this.#actions = actionEntities(this.schema);
  }

  /** Builds an engine; throws `policy.set.invalid` (diagnostics in `cause`) if the first set is invalid. */
  static async create(options: PolicyEngineOptions = {}): Promise<PolicyEngine> {
    const engine = new PolicyEngine(options);
    const text = options.source ? await options.source.read() : (options.policies ?? "");
    const result = engine.load(text, { roles: options.roles ?? {} });
    if (!result.ok) {
      const error = authorityError("policy.set.invalid");
      Object.defineProperty(error, "cause", { value: result.diagnostics });
      throw error;
    }
    return engine;
  }

  get epoch(): number {
    return this.#snapshot?.epoch ?? 0;
  }

  get policyCount(): number {
    return this.#snapshot?.policyCount ?? 0;
  }

  cacheStats(): { size: number; hits: number; misses: number } {
    const c = this.#snapshot?.cache;
    return { size: c?.size ?? 0, hits: c?.hits ?? 0, misses: c?.misses ?? 0 };
  }

  /**
   * Validates and installs a policy set (and optionally new roles). On success the
   * epoch advances and the new snapshot replaces the old one in a single assignment.
   */
  load(text: string, options: { roles?: RolePermissions } = {}): PolicyLoadResult {
    const roles = options.roles ?? this.#snapshot?.roles ?? {};
    const compiled = compilePolicySet(text, roles, this.schema);
    if (!compiled.ok) return this.#refused(compiled.diagnostics);
    const epoch = this.epoch + 1;
    let slices: PolicySlices;
    try {
      slices = buildSlices(`${this.#prefix}/${epoch}`, compiled.policies, this.schema);
    } catch (error) {
      if (error instanceof SliceBuildError) return this.#refused([{ message: error.message }]);
      throw error;
    }
    const size = this.#options.decisionCacheSize ?? 10_000;
    const next: Snapshot = Object.freeze({
      epoch,
      text,
      roles,
      policyCount: compiled.policies.length,
      slices,
      hidingPolicies: new Set(compiled.policies.filter((p) => p.hidesExistence).map((p) => p.id)),
      forbidPolicies: new Set(compiled.policies.filter((p) => p.effect === "forbid").map((p) => p.id)),
      cache: size > 0 ? new LruCache<string, CachedDecision>(size) : undefined,
    });
    const previous = this.#snapshot;
    this.#snapshot = next; // the swap: one assignment
    // Decisions are synchronous, so nothing can still be evaluating the old slices.
    if (previous) releaseSlices(previous.slices.ids);
    this.#options.logger?.info(
      { epoch, policies: next.policyCount, warnings: compiled.warnings.length },
      "policy set loaded",
    );
    this.#options.bus?.publish({ kind: "policy_changed", epoch });
    return { ok: true, epoch, policyCount: next.policyCount, warnings: compiled.warnings };
  }

  /** Re-reads the configured source (file watch, admin call) and loads it. */
  async reload(): Promise<PolicyLoadResult> {
    const source = this.#options.source;
    if (!source) return this.load(this.#snapshot?.text ?? "");
    let text: string;
    try {
      text = await source.read();
    } catch {
      this.#options.logger?.warn(
        { source: source.description },
        "policy source unreadable; set in force kept",
      );
      return {
        ok: false,
        epoch: this.epoch,
        error: authorityError("policy.source.unreadable"),
        diagnostics: [],
      };
    }
    return this.load(text);
  }

  /** Replaces the role → permission mapping, keeping the operator policies. */
  setRoles(roles: RolePermissions): PolicyLoadResult {
    return this.load(this.#snapshot?.text ?? "", { roles });
  }

  decide(principal: Principal, check: PermissionCheck): Decision {
    return this.#decide(this.#snapshot!, principal, check, normalizeResource(check.resource?.attributes));
  }

  /** Decides several checks against one snapshot: the batch never straddles a reload. */
  decideBatch(principal: Principal, checks: readonly PermissionCheck[]): Decision[] {
    const snapshot = this.#snapshot!;
    return checks.map((check) =>
      this.#decide(snapshot, principal, check, normalizeResource(check.resource?.attributes)),
    );
  }

  /**
   * Catalog access per entry: `invocable` is an allow for the entry's invoke action;
   * `visible` follows the visibility rule, and a `hidden` entry is visible only to
   * callers who may invoke it.
   */
  catalogAccess(
    principal: Principal,
    entries: readonly CatalogEntry[],
    context?: Readonly<Record<string, string>>,
  ): CatalogAccess[] {
    const snapshot = this.#snapshot!;
    return entries.map(({ resource, invokeAction }) => {
      const normalized = normalizeResource(resource.attributes);
      const action = invokeAction ?? DEFAULT_INVOKE_ACTION[resource.type];
      const decision = this.#decide(
        snapshot,
        principal,
        { action, resource, ...(context ? { context } : {}) },
        normalized,
      );
      const invocable = decision.effect === "allow";
      const visible =
        normalized !== undefined && isVisibleTo(principal, normalized) && (!normalized.hidden || invocable);
      return { entityId: resource.id, visible, invocable };
    });
  }

  /** `normalized`: the check's resource attributes through `normalizeResource` (callers that need them too pass theirs). */
  #decide(
    snapshot: Snapshot,
    principal: Principal,
    check: PermissionCheck,
    normalized: NormalizedResource | undefined,
  ): Decision {
    const { epoch } = snapshot;
    const resource = check.resource;
    const types = this.schema.appliesTo.get(check.action);
    const cedarType = types && isResourceType(String(resource?.type)) ? cedarTypeOf(resource.type) : "";
    if (!types?.has(cedarType) || !isCleanValue(resource.id) || !normalized) {
      return deny(epoch, [], "policy.request.invalid", false);
    }
    const ctx = cedarContext(check.context);
    const key = `${principalDigest(principal)}\u0000${check.action}\u0000${cedarType}\u0000${resource.id}\u0000${normalized.key}\u0000${ctx.key}`;
    const cached = snapshot.cache?.get(key);
    if (cached) return materialize(cached, epoch, true);

    // Every (action, type) pair of the schema has a slice, and the pair was checked above.
    const slice = snapshot.slices.sliceFor(check.action, cedarType, resource.id)!;
    if (!isVisibleTo(principal, normalized)) {
      // The built-in visibility rule, decided here (see CORE_EVALUATED): no Cedar call.
      const result: CachedDecision = {
        effect: "deny",
        policyIds: VISIBILITY_IDS,
        code: "policy.resource.not_found",
      };
      snapshot.cache?.set(key, result);
      return materialize(result, epoch, false);
    }
    const entities = [
      principalEntity(principal, slice.needs),
      resourceEntity(cedarType, resource.id, normalized, slice.needs),
    ];
    if (slice.needs.actionParents) entities.push(this.#actions.get(check.action)!);
    const answer = cedar.statefulIsAuthorized({
      principal: { type: USER_TYPE, id: principal.subject },
      action: { type: ACTION_TYPE, id: check.action },
      resource: { type: cedarType, id: resource.id },
      context: ctx.context,
      entities,
      preparsedPolicySetId: slice.id,
    });
    if (answer.type !== "success") {
      this.#options.logger?.error(
        { epoch, errors: answer.errors.map((e) => e.message) },
        "policy evaluation failed",
      );
      return deny(epoch, [], "policy.evaluation.failed", false);
    }
    const { decision, diagnostics } = answer.response;
    const policyIds = Object.freeze([...diagnostics.reason].sort());
    let result: CachedDecision;
    if (
      diagnostics.errors.length > 0 &&
      diagnostics.errors.some((e) => snapshot.forbidPolicies.has(e.policyId))
    ) {
      // Cedar skips a policy that errors; for a forbid that would fail open, so deny.
      this.#options.logger?.warn(
        { epoch, policies: diagnostics.errors.map((e) => e.policyId) },
        "forbid policy errored",
      );
      result = {
        effect: "deny",
        policyIds: Object.freeze(diagnostics.errors.map((e) => e.policyId)),
        code: "policy.evaluation.failed",
      };
    } else if (decision === "allow") {
      result = { effect: "allow", policyIds };
    } else {
      const hidden = normalized.hidden || policyIds.some((id) => snapshot.hidingPolicies.has(id));
      result = {
        effect: "deny",
        policyIds,
        code: hidden ? "policy.resource.not_found" : "policy.decision.denied",
      };
    }
    snapshot.cache?.set(key, result);
    return materialize(result, epoch, false);
  }

  #refused(diagnostics: readonly PolicyDiagnostic[]): PolicyLoadResult {
    this.#options.logger?.warn(
      { epoch: this.epoch, diagnostics: diagnostics.slice(0, 20) },
      "policy set refused; set in force kept",
    );
    return { ok: false, epoch: this.epoch, error: authorityError("policy.set.invalid"), diagnostics };
  }
}

function deny(epoch: number, policyIds: readonly string[], code: AuthorityCode, cached: boolean): Decision {
  return { effect: "deny", policyIds, epoch, cached, error: authorityError(code) };
}

/** Cached entries hold no error object: each deny gets its own, so trace ids never leak across requests. */
function materialize(entry: CachedDecision, epoch: number, cached: boolean): Decision {
  if (entry.effect === "allow") return { effect: "allow", policyIds: entry.policyIds, epoch, cached };
  return deny(epoch, entry.policyIds, entry.code ?? "policy.decision.denied", cached);
}
