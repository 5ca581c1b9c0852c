import type { Context, EntityJson } from "@cedar-policy/cedar-wasm/nodejs";
import type { Principal } from "../principal.ts";
import type { EntityNeeds } from "./needs.ts";
import { CEDAR_NAMESPACE, RESOURCE_TYPES, type ResourceType, type SchemaInfo } from "./schema.ts";

/** What a permission check acts on. Attributes are non-secret strings (the wire form). */
export interface ResourceRef {
  readonly type: ResourceType;
  readonly id: string;
  /**
   * Known attributes: `visibility` (public | team | private; default `team` when a
   * `team` is given, else `public`), `team`, `owner`, `hidden` ("true"/"false"),
   * `module` (parent module id), `tags` (comma-separated). Others are ignored.
   */
  readonly attributes?: Readonly<Record<string, string>>;
}

export type Visibility = "public" | "team" | "private";

/** A resource's attributes after validation, as the engine and the visibility rule read them. */
export interface NormalizedResource {
  readonly visibility: Visibility;
  readonly hidden: boolean;
  readonly team: string | undefined;
  readonly owner: string | undefined;
  readonly module: string | undefined;
  readonly tags: readonly string[] | undefined;
  /** Canonical form for cache keys. */
  readonly key: string;
}

/** Context keys a policy may read (the schema's RequestContext). Others are dropped. */
export const CONTEXT_KEYS = ["transport", "ingress", "clientIp", "serverId", "sessionId"] as const;

const MAX_VALUE = 512;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused in ids and values
const CONTROL = /[\u0000-\u001f\u007f]/;

export function isCleanValue(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_VALUE && !CONTROL.test(value);
}

function optional(value: string | undefined): string | undefined | null {
  if (value === undefined || value === "") return undefined;
  return isCleanValue(value) ? value : null;
}

/** Validates and normalizes resource attributes; `undefined` when they are invalid. */
export function normalizeResource(
  attributes: Readonly<Record<string, string>> = {},
): NormalizedResource | undefined {
  const team = optional(attributes.team);
  const owner = optional(attributes.owner);
  const module = optional(attributes.module);
  if (team === null || owner === null || module === null) return undefined;
  const visibility = attributes.visibility || (team !== undefined ? "team" : "public");
  if (visibility !== "public" && visibility !== "team" && visibility !== "private") return undefined;
  const hiddenRaw = attributes.hidden;
  if (hiddenRaw !== undefined && hiddenRaw !== "" && hiddenRaw !== "true" && hiddenRaw !== "false")
    return undefined;
  const hidden = hiddenRaw === "true";
  let tags: string[] | undefined;
  if (attributes.tags !== undefined && attributes.tags !== "") {
    tags = [...new Set(attributes.tags.split(",").map((t) => t.trim()))].filter((t) => t !== "").sort();
    if (!tags.every(isCleanValue)) return undefined;
  }
  const key = [
    visibility,
    hidden ? "1" : "0",
    team ?? "",
    owner ?? "",
    module ?? "",
    tags?.join(",") ?? "",
  ].join("\u0001");
  return { visibility, hidden, team, owner, module, tags, key };
}

/**
 * The visibility rule, as the built-in `outrig.visibility` policy states it in Cedar:
 * unrestricted callers see everything; public records are seen by all; team records
 * by members of that team; private records by their owner (not with a public-only token).
 */
export function isVisibleTo(principal: Principal, resource: NormalizedResource): boolean {
  const scope = principal.teamScope;
  if (scope.kind === "unrestricted") return true;
  switch (resource.visibility) {
    case "public":
      return true;
    case "team":
      return scope.kind === "teams" && resource.team !== undefined && scope.teamIds.includes(resource.team);
    case "private":
      return (
        scope.kind !== "public_only" && resource.owner !== undefined && resource.owner === principal.subject
      );
  }
}

export const USER_TYPE = `${CEDAR_NAMESPACE}::User`;
export const ACTION_TYPE = `${CEDAR_NAMESPACE}::Action`;
const ROLE_TYPE = `${CEDAR_NAMESPACE}::Role`;
const TEAM_TYPE = `${CEDAR_NAMESPACE}::Team`;
const MODULE_TYPE = `${CEDAR_NAMESPACE}::Module`;

export function cedarTypeOf(type: ResourceType): string {
  return `${CEDAR_NAMESPACE}::${RESOURCE_TYPES[type]}`;
}

const principalEntities = new WeakMap<Principal, Map<string, EntityJson>>();

type Attrs = Record<string, string | boolean | string[]>;

function pick(attrs: Attrs, wanted: ReadonlySet<string> | "all" | undefined): Attrs {
  if (wanted === undefined || wanted === "all") return attrs;
  const out: Attrs = {};
  for (const key of wanted) {
    const value = attrs[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * The caller as a Cedar entity: roles and teams are its parents. With `needs`, only
 * what the policies read is included. Memoized per principal object and needs.
 */
export function principalEntity(principal: Principal, needs?: EntityNeeds): EntityJson {
  const key = needs?.key ?? "*";
  let perNeeds = principalEntities.get(principal);
  const memo = perNeeds?.get(key);
  if (memo) return memo;
  const teams = principal.teamScope.kind === "teams" ? [...principal.teamScope.teamIds] : [];
  const parents = needs?.principalParents ?? "all";
  const entity: EntityJson = {
    uid: { type: USER_TYPE, id: principal.subject },
    attrs: pick(
      {
        subject: principal.subject,
        authMethod: principal.authMethod,
        teamScope: principal.teamScope.kind,
        teams,
        scopes: [...principal.scopes],
      },
      needs?.principalAttrs,
    ),
    parents: [
      ...(parents === "all" || parents.has(ROLE_TYPE)
        ? principal.roles.map((id) => ({ type: ROLE_TYPE, id }))
        : []),
      ...(parents === "all" || parents.has(TEAM_TYPE) ? teams.map((id) => ({ type: TEAM_TYPE, id })) : []),
    ],
  };
  if (Object.isFrozen(principal)) {
    if (!perNeeds) {
      perNeeds = new Map();
      principalEntities.set(principal, perNeeds);
    }
    perNeeds.set(key, entity);
  }
  return entity;
}

/**
 * The action as an entity whose parents are its groups. Without it Cedar cannot
 * evaluate `action in Outrig::Action::"mcp.*"` (no schema is passed per request:
 * sending the action's ancestors is much cheaper).
 */
export function actionEntities(schema: SchemaInfo): ReadonlyMap<string, EntityJson> {
  const out = new Map<string, EntityJson>();
  for (const [action, groups] of schema.ancestors) {
    out.set(action, {
      uid: { type: ACTION_TYPE, id: action },
      attrs: {},
      parents: groups.map((id) => ({ type: ACTION_TYPE, id })),
    });
  }
  return out;
}

/** The resource as a Cedar entity (only what `needs` asks for, when given). */
export function resourceEntity(
  cedarType: string,
  id: string,
  resource: NormalizedResource,
  needs?: EntityNeeds,
): EntityJson {
  const all: Attrs = {
    visibility: resource.visibility,
    hidden: resource.hidden,
  };
  if (resource.team !== undefined) all.team = resource.team;
  if (resource.owner !== undefined) all.owner = resource.owner;
  if (resource.tags !== undefined) all.tags = [...resource.tags];
  const wantParents = needs === undefined || needs.resourceParents;
  const parents =
    wantParents && resource.module !== undefined && cedarType !== MODULE_TYPE
      ? [{ type: MODULE_TYPE, id: resource.module }]
      : [];
  return { uid: { type: cedarType, id }, attrs: pick(all, needs?.resourceAttrs), parents };
}

/** Keeps the known context keys with clean values; returns the Cedar context and its cache key. */
export function cedarContext(context: Readonly<Record<string, string>> | undefined): {
  context: Context;
  key: string;
} {
  const out: Context = {};
  let key = "";
  if (context) {
    for (const name of CONTEXT_KEYS) {
      const value = context[name];
      if (value !== undefined && isCleanValue(value)) {
        out[name] = value;
        key += `${name}=${value}\u0001`;
      }
    }
  }
  return { context: out, key };
}
