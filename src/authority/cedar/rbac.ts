import type { SchemaInfo } from "./schema.ts";

/**
 * Roles → permissions. A permission is an action id (`mcp.tools.call`), a family
 * (`mcp.*`) or `*` for every operation. Each role becomes one generated Cedar policy,
 * `rbac.<role>`, that permits members of `Outrig::Role::"<role>"` those actions on any
 * resource. The built-in visibility rule and every forbid policy still apply, and
 * the generated policy's id is what the decision and the audit record name.
 */
export type RolePermissions = Readonly<Record<string, readonly string[]>>;

export const ROLE_NAME = /^[A-Za-z0-9_.:@-]{1,128}$/;

/** Operation actions a permission pattern stands for; empty when it matches nothing. */
export function expandPermission(pattern: string, schema: SchemaInfo): string[] {
  if (pattern === "*") return [...schema.appliesTo.keys()];
  const covered = schema.covers.get(pattern);
  if (covered) return [...covered];
  if (pattern.endsWith(".*")) {
    const prefix = pattern.slice(0, -1);
    return [...schema.appliesTo.keys()].filter((a) => a.startsWith(prefix));
  }
  return [];
}

export interface GeneratedPolicies {
  readonly policies: ReadonlyArray<{ id: string; text: string }>;
  readonly errors: readonly string[];
}

export function rbacPolicies(roles: RolePermissions, schema: SchemaInfo): GeneratedPolicies {
  const policies: { id: string; text: string }[] = [];
  const errors: string[] = [];
  for (const [role, permissions] of Object.entries(roles).sort(([a], [b]) => a.localeCompare(b))) {
    if (!ROLE_NAME.test(role)) {
      errors.push(`role name "${role.slice(0, 64)}" is not allowed (letters, digits, _ . : @ -)`);
      continue;
    }
    const actions = new Set<string>();
    for (const permission of permissions) {
      const expanded = expandPermission(permission, schema);
      if (expanded.length === 0)
        errors.push(`role ${role}: permission "${permission.slice(0, 64)}" matches no action`);
      for (const a of expanded) actions.add(a);
    }
    if (actions.size === 0) continue;
    const list = [...actions]
      .sort()
      .map((a) => `Outrig::Action::${JSON.stringify(a)}`)
      .join(", ");
    policies.push({
      id: `rbac.${role}`,
      text: `@id("rbac.${role}")\npermit (principal in Outrig::Role::${JSON.stringify(role)}, action in [${list}], resource);`,
    });
  }
  return { policies, errors };
}

/**
 * Built-in policies, always part of the set. `outrig.visibility` enforces team scope
 * whatever other policies permit, and its deny reads as NOT_FOUND so a caller cannot
 * learn that a record of another team exists.
 */
export const BUILTIN_POLICIES: ReadonlyArray<{ id: string; text: string }> = [
  {
    id: "outrig.visibility",
    text: `@id("outrig.visibility")
@deny_as("not_found")
forbid (principal, action, resource)
unless {
  principal.teamScope == "unrestricted" ||
  resource.visibility == "public" ||
  (resource.visibility == "team" && principal.teamScope == "teams" &&
    resource has team && principal.teams.contains(resource.team)) ||
  (resource.visibility == "private" && principal.teamScope != "public_only" &&
    resource has owner && resource.owner == principal.subject)
};`,
  },
];

/**
 * Built-in policies the engine decides in TypeScript before calling Cedar: when
 * `outrig.visibility` denies, Cedar is not consulted (and the decision names only it);
 * when it allows, it cannot be satisfied, so leaving it out of Cedar's slice changes
 * nothing. `isVisibleTo` states the same rule; a property test holds them equal.
 */
export const CORE_EVALUATED: ReadonlySet<string> = new Set(["outrig.visibility"]);

/** Policy ids an operator's policies may not use. */
export const RESERVED_ID_PREFIXES = ["outrig.", "rbac."] as const;
