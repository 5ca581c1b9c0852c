import type { JWTPayload } from "jose";
import { createPrincipal, normalizeTokenTeams, type Principal } from "./principal.ts";

/**
 * Where the principal's parts live in a token. A path is a claim name, or a
 * dot-separated path into nested objects (`realm_access.roles`); a claim whose name
 * itself contains dots (`https://example.com/roles`) is matched whole first.
 */
export interface ClaimMapping {
  /** Default `sub`. */
  subject?: string;
  /** Prepended to the subject, for example `user:`. Default none. */
  subjectPrefix?: string;
  /** Array of strings, or one string. Default `roles`. */
  roles?: string;
  /** Team list per the precedent's normalization (see `normalizeTokenTeams`). Default `teams`. */
  teams?: string;
  /** Space-separated string or array. Default `scope`, then `scp`. */
  scopes?: string;
  /** Boolean claim marking an administrator. Default `is_admin`. */
  admin?: string;
  /** Roles that also mark an administrator. Default none. */
  adminRoles?: readonly string[];
}

function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let node: unknown = payload;
  for (const part of path.split(".")) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function stringList(value: unknown, separator: RegExp): string[] | undefined {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return value.split(separator).filter((s) => s !== "");
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  return undefined;
}

/** Maps verified claims to a principal; `undefined` when a mapped claim has the wrong shape. */
export function principalFromClaims(payload: JWTPayload, mapping: ClaimMapping = {}): Principal | undefined {
  const subject = claimAt(payload, mapping.subject ?? "sub");
  if (typeof subject !== "string" || subject === "") return undefined;
  const roles = stringList(claimAt(payload, mapping.roles ?? "roles"), /[\s,]+/);
  const scopeValue =
    mapping.scopes !== undefined
      ? claimAt(payload, mapping.scopes)
      : (claimAt(payload, "scope") ?? claimAt(payload, "scp"));
  const scopes = stringList(scopeValue, /\s+/);
  if (roles === undefined || scopes === undefined) return undefined;
  const adminClaim = claimAt(payload, mapping.admin ?? "is_admin");
  const isAdmin = adminClaim === true || roles.some((r) => mapping.adminRoles?.includes(r) ?? false);
  const teamScope = normalizeTokenTeams(claimAt(payload, mapping.teams ?? "teams"), isAdmin);
  if (teamScope === undefined) return undefined;
  try {
    return createPrincipal({
      subject: `${mapping.subjectPrefix ?? ""}${subject}`,
      authMethod: "jwt",
      roles,
      scopes,
      teamScope,
    });
  } catch {
    return undefined;
  }
}
