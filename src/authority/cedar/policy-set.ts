import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import {
  BUILTIN_POLICIES,
  CORE_EVALUATED,
  RESERVED_ID_PREFIXES,
  type RolePermissions,
  rbacPolicies,
} from "./rbac.ts";
import type { SchemaInfo } from "./schema.ts";

/** One finding about a policy set, with a position in the operator's text when known. */
export interface PolicyDiagnostic {
  readonly policyId?: string;
  readonly message: string;
  readonly help?: string;
  /** 1-based line and column in the loaded text. */
  readonly line?: number;
  readonly column?: number;
}

/** What a policy's scope says about which requests it can match (used to slice the set). */
export type ResourceScope =
  | { readonly kind: "any" }
  | { readonly kind: "type"; readonly type: string }
  | { readonly kind: "uid"; readonly type: string; readonly id: string };

export interface CompiledPolicy {
  readonly id: string;
  readonly text: string;
  readonly effect: "permit" | "forbid";
  /** `@deny_as("not_found")`: a deny this policy decides is answered NOT_FOUND. */
  readonly hidesExistence: boolean;
  /** Operation actions the policy's action scope can match. */
  readonly actions: ReadonlySet<string>;
  readonly resource: ResourceScope;
  /** Cedar's JSON form (scope, conditions, annotations). */
  readonly json: cedar.PolicyJson;
  /**
   * Built-in rules that the engine evaluates in TypeScript ahead of Cedar (proven
   * equal by a property test). They stay in the validated set; they are not sliced.
   */
  readonly evaluatedInCore: boolean;
}

export type CompileResult =
  | { ok: true; policies: CompiledPolicy[]; warnings: PolicyDiagnostic[] }
  | { ok: false; diagnostics: PolicyDiagnostic[] };

export const POLICY_ID = /^[A-Za-z0-9_.:/-]{1,128}$/;

type Uid = { __entity: { type: string; id: string } } | { type: string; id: string };

function uidOf(value: Uid): { type: string; id: string } {
  return "__entity" in value ? value.__entity : value;
}

function position(text: string, offset: number | undefined): { line?: number; column?: number } {
  if (offset === undefined || offset < 0 || offset > text.length) return {};
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

function diagnostic(
  error: cedar.DetailedError,
  source: { text: string; base: number } | undefined,
  policyId?: string,
): PolicyDiagnostic {
  const offset = error.sourceLocations?.[0]?.start;
  return {
    ...(policyId !== undefined ? { policyId } : {}),
    message: error.message,
    ...(error.help ? { help: error.help } : {}),
    ...(source && offset !== undefined ? position(source.text, source.base + offset) : {}),
  };
}

function actionsOf(json: cedar.PolicyJson, schema: SchemaInfo): Set<string> {
  const all = new Set(schema.appliesTo.keys());
  const constraint = json.action;
  if (constraint.op === "All") return all;
  const entities: Uid[] =
    "entities" in constraint
      ? (constraint.entities as Uid[])
      : "entity" in constraint
        ? [constraint.entity as Uid]
        : [];
  if (entities.length === 0) return all; // a slot or something unforeseen: never narrower than "all"
  const out = new Set<string>();
  for (const e of entities) {
    const uid = uidOf(e);
    if (constraint.op === "==") {
      if (schema.appliesTo.has(uid.id)) out.add(uid.id);
    } else {
      for (const a of schema.covers.get(uid.id) ?? []) out.add(a);
    }
  }
  return out;
}

function resourceOf(json: cedar.PolicyJson): ResourceScope {
  const r = json.resource;
  if (r.op === "==" && "entity" in r) {
    const uid = uidOf(r.entity as Uid);
    return { kind: "uid", type: uid.type, id: uid.id };
  }
  if (r.op === "is") return { kind: "type", type: r.entity_type };
  return { kind: "any" };
}

/**
 * Parses the operator's policy text, adds the built-in and role policies, and
 * validates everything against the schema (strict mode). Every policy needs a unique
 * `@id("…")`: decisions and audit records name policies by it. Templates are refused.
 */
export function compilePolicySet(text: string, roles: RolePermissions, schema: SchemaInfo): CompileResult {
  const parts = cedar.policySetTextToParts(text);
  if (parts.type !== "success") {
    return { ok: false, diagnostics: parts.errors.map((e) => diagnostic(e, { text, base: 0 })) };
  }
  const diagnostics: PolicyDiagnostic[] = [];
  if (parts.policy_templates.length > 0) diagnostics.push({ message: "policy templates are not supported" });

  const sources: { id: string; text: string; base?: number; json: cedar.PolicyJson }[] = [];
  const seen = new Set<string>();
  let cursor = 0;
  for (const [index, policyText] of parts.policies.entries()) {
    const found = text.indexOf(policyText, cursor);
    const base = found >= 0 ? found : undefined;
    if (found >= 0) cursor = found + policyText.length;
    const json = cedar.policyToJson(policyText);
    const id = json.type === "success" ? json.json.annotations?.id : undefined;
    const where = base !== undefined ? position(text, base) : {};
    if (id === undefined) {
      diagnostics.push({ message: `policy #${index + 1} has no @id("…") annotation`, ...where });
    } else if (!POLICY_ID.test(id)) {
      diagnostics.push({
        policyId: id,
        message: "policy ids use letters, digits and _ . : / - only",
        ...where,
      });
    } else if (RESERVED_ID_PREFIXES.some((p) => id.startsWith(p))) {
      diagnostics.push({
        policyId: id,
        message: `policy ids starting with ${RESERVED_ID_PREFIXES.join(" or ")} are reserved`,
        ...where,
      });
    } else if (seen.has(id)) {
      diagnostics.push({ policyId: id, message: "duplicate policy id", ...where });
    } else if (json.type === "success") {
      seen.add(id);
      sources.push({ id, text: policyText, json: json.json, ...(base !== undefined ? { base } : {}) });
    }
  }
  const rbac = rbacPolicies(roles, schema);
  for (const message of rbac.errors) diagnostics.push({ message });
  if (diagnostics.length > 0) return { ok: false, diagnostics };

  const all = [...BUILTIN_POLICIES, ...rbac.policies, ...sources];
  const byId = new Map(all.map((p) => [p.id, p]));
  const validation = cedar.validate({
    schema: schema.text,
    policies: { staticPolicies: Object.fromEntries(all.map((p) => [p.id, p.text])) },
    validationSettings: { mode: "strict" },
  });
  if (validation.type !== "success") {
    return { ok: false, diagnostics: validation.errors.map((e) => diagnostic(e, undefined)) };
  }
  const sourceOf = (id: string) => {
    const s = byId.get(id) as { text: string; base?: number } | undefined;
    return s?.base !== undefined ? { text, base: s.base } : undefined;
  };
  if (validation.validationErrors.length > 0) {
    return {
      ok: false,
      diagnostics: validation.validationErrors.map((e) =>
        diagnostic(e.error, sourceOf(e.policyId), e.policyId),
      ),
    };
  }
  const warnings = validation.validationWarnings.map((w) =>
    diagnostic(w.error, sourceOf(w.policyId), w.policyId),
  );

  const policies: CompiledPolicy[] = [];
  for (const p of all) {
    let json: cedar.PolicyJson | undefined = "json" in p ? (p.json as cedar.PolicyJson) : undefined;
    if (!json) {
      const answer = cedar.policyToJson(p.text);
      if (answer.type !== "success") {
        return { ok: false, diagnostics: answer.errors.map((e) => diagnostic(e, undefined, p.id)) };
      }
      json = answer.json;
    }
    policies.push({
      id: p.id,
      text: p.text,
      effect: json.effect,
      hidesExistence: json.annotations?.deny_as === "not_found",
      actions: actionsOf(json, schema),
      resource: resourceOf(json),
      json,
      evaluatedInCore: CORE_EVALUATED.has(p.id),
    });
  }
  return { ok: true, policies, warnings };
}
