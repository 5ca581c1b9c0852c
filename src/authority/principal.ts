import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import {
  type Principal as PrincipalPb,
  PrincipalSchema,
  PublicOnlyScopeSchema,
  TeamListScopeSchema,
  type TeamScope as TeamScopePb,
  TeamScopeSchema,
  UnrestrictedScopeSchema,
} from "../gen/outrig/core/v1/principal_pb.ts";
import { authorityError } from "./codes.ts";

/** How a caller authenticated. */
export const AUTH_METHODS = ["jwt", "api_key", "mtls", "dev"] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/**
 * Which teams' records a principal may see. An explicit union: no decision rests on a
 * missing field or on null versus empty. A team list is never empty.
 */
export type TeamScope =
  | { readonly kind: "unrestricted" }
  | { readonly kind: "teams"; readonly teamIds: readonly [string, ...string[]] }
  | { readonly kind: "public_only" };

/** The authenticated caller as the core resolved it. Canonical: lists sorted and deduplicated. */
export interface Principal {
  readonly subject: string;
  readonly authMethod: AuthMethod;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly teamScope: TeamScope;
}

export interface PrincipalInput {
  subject: string;
  authMethod: AuthMethod;
  roles?: readonly string[];
  scopes?: readonly string[];
  teamScope: TeamScope;
}

export const PRINCIPAL_LIMITS = { subjectLength: 512, itemLength: 256, listLength: 1024 } as const;

export const UNRESTRICTED: TeamScope = Object.freeze({ kind: "unrestricted" });
export const PUBLIC_ONLY: TeamScope = Object.freeze({ kind: "public_only" });

function invalid(): never {
  throw authorityError("auth.principal.invalid");
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

function isCleanString(value: unknown, maxLength: number): value is string {
  return (
    typeof value === "string" &&
    value.length > 0 &&
    value.length <= maxLength &&
    !CONTROL_CHARACTERS.test(value)
  );
}

/** Sorted, deduplicated copy of a list of identifiers; throws on a bad entry or an oversized list. */
export function canonicalList(values: readonly unknown[]): string[] {
  if (values.length > PRINCIPAL_LIMITS.listLength) invalid();
  for (const v of values) if (!isCleanString(v, PRINCIPAL_LIMITS.itemLength)) invalid();
  return [...new Set(values as string[])].sort();
}

/** A team scope from a list of team ids: the empty list is public-only, never "all teams". */
export function teamScopeOf(teamIds: readonly string[]): TeamScope {
  const ids = canonicalList(teamIds);
  return ids.length === 0
    ? PUBLIC_ONLY
    : Object.freeze({ kind: "teams", teamIds: Object.freeze(ids) as [string, ...string[]] });
}

function canonicalTeamScope(scope: TeamScope): TeamScope {
  switch (scope.kind) {
    case "unrestricted":
      return UNRESTRICTED;
    case "public_only":
      return PUBLIC_ONLY;
    case "teams":
      return teamScopeOf(scope.teamIds);
    default:
      return invalid();
  }
}

/** Builds a frozen, canonical principal; throws `auth.principal.invalid` on bad input. */
export function createPrincipal(input: PrincipalInput): Principal {
  if (!isCleanString(input.subject, PRINCIPAL_LIMITS.subjectLength)) invalid();
  if (!(AUTH_METHODS as readonly string[]).includes(input.authMethod)) invalid();
  return Object.freeze({
    subject: input.subject,
    authMethod: input.authMethod,
    roles: Object.freeze(canonicalList(input.roles ?? [])),
    scopes: Object.freeze(canonicalList(input.scopes ?? [])),
    teamScope: canonicalTeamScope(input.teamScope),
  });
}

/**
 * The `normalize_token_teams` rule of the precedent, yielding the explicit union:
 * teams missing → public-only (the secure default); `null` with admin → unrestricted;
 * `null` without admin → public-only; `[]` → public-only; a list → those ids (SSO
 * objects `{id, name}` reduced to `id`). Anything else is refused (`undefined`).
 */
export function normalizeTokenTeams(teams: unknown, isAdmin: boolean): TeamScope | undefined {
  if (teams === undefined) return PUBLIC_ONLY;
  if (teams === null) return isAdmin ? UNRESTRICTED : PUBLIC_ONLY;
  if (!Array.isArray(teams)) return undefined;
  const ids: string[] = [];
  for (const entry of teams) {
    const id =
      typeof entry === "string"
        ? entry
        : typeof entry === "object" && entry !== null && typeof (entry as { id?: unknown }).id === "string"
          ? (entry as { id: string }).id
          : undefined;
    if (id === undefined || !isCleanString(id, PRINCIPAL_LIMITS.itemLength)) return undefined;
    ids.push(id);
  }
  if (ids.length > PRINCIPAL_LIMITS.listLength) return undefined;
  return teamScopeOf(ids);
}

export function teamScopeToPb(scope: TeamScope): TeamScopePb {
  switch (scope.kind) {
    case "unrestricted":
      return create(TeamScopeSchema, {
        scope: { case: "unrestricted", value: create(UnrestrictedScopeSchema) },
      });
    case "teams":
      return create(TeamScopeSchema, {
        scope: { case: "teams", value: create(TeamListScopeSchema, { teamIds: [...scope.teamIds] }) },
      });
    case "public_only":
      return create(TeamScopeSchema, { scope: { case: "publicOnly", value: create(PublicOnlyScopeSchema) } });
  }
}

/** An unset scope or an empty team list is public-only, as the proto documents. */
export function teamScopeFromPb(pb: TeamScopePb | undefined): TeamScope {
  switch (pb?.scope.case) {
    case "unrestricted":
      return UNRESTRICTED;
    case "teams":
      return teamScopeOf(pb.scope.value.teamIds);
    default:
      return PUBLIC_ONLY;
  }
}

export function principalToPb(principal: Principal): PrincipalPb {
  return create(PrincipalSchema, {
    subject: principal.subject,
    authMethod: principal.authMethod,
    roles: [...principal.roles],
    scopes: [...principal.scopes],
    teamScope: teamScopeToPb(principal.teamScope),
  });
}

/** Converts and validates a wire principal; throws `auth.principal.invalid`. */
export function principalFromPb(pb: PrincipalPb): Principal {
  return createPrincipal({
    subject: pb.subject,
    authMethod: pb.authMethod as AuthMethod,
    roles: pb.roles,
    scopes: pb.scopes,
    teamScope: teamScopeFromPb(pb.teamScope),
  });
}

/** A team scope as a flat list (`["teams", ...ids]` or `[kind]`), for canonical forms. */
export function teamScopeList(scope: TeamScope): string[] {
  return scope.kind === "teams" ? ["teams", ...scope.teamIds] : [scope.kind];
}

/** The canonical JSON form of a principal (the input of its digest). */
export function canonicalPrincipalJson(p: Principal): string {
  return JSON.stringify([p.subject, p.authMethod, p.roles, p.scopes, teamScopeList(p.teamScope)]);
}

const digests = new WeakMap<Principal, string>();

/**
 * SHA-256 (base64url) over the canonical principal. Memoized per object: the
 * authenticator hands out frozen principals, so the hot path hashes once.
 */
export function principalDigest(p: Principal): string {
  let digest = digests.get(p);
  if (digest === undefined) {
    digest = createHash("sha256").update(canonicalPrincipalJson(p)).digest("base64url");
    if (Object.isFrozen(p)) digests.set(p, digest);
  }
  return digest;
}
