import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { type EntityNeeds, entityNeeds } from "./needs.ts";
import type { CompiledPolicy } from "./policy-set.ts";
import type { SchemaInfo } from "./schema.ts";

/**
 * A policy set cut into slices, one per (action, resource type) and per (action,
 * resource) for policies pinned to one resource (`resource == T::"id"`). A policy
 * whose scope cannot match a request cannot be satisfied and cannot error (Cedar
 * evaluates the scope first), so evaluating only the request's slice gives exactly
 * the decision and reasons of the whole set while evaluating far fewer policies.
 * Each slice is pre-parsed once into cedar-wasm under a unique id.
 */
export interface Slice {
  /** The pre-parsed policy set id in cedar-wasm. */
  readonly id: string;
  /** What the slice's policies read from the entities (only that is sent). */
  readonly needs: EntityNeeds;
}

export interface PolicySlices {
  /** The slice for a request, or undefined when the action/type pair is not in the schema. */
  sliceFor(action: string, cedarType: string, id: string): Slice | undefined;
  readonly ids: readonly string[];
}

/** Beyond this many per-resource slices, pinned policies join the type slices instead. */
const MAX_PINNED_SLICES = 2_000;

export class SliceBuildError extends Error {}

function sliceKey(action: string, cedarType: string, id?: string): string {
  return id === undefined ? `${action}\u0000${cedarType}` : `${action}\u0000${cedarType}\u0000${id}`;
}

export function buildSlices(
  prefix: string,
  policies: readonly CompiledPolicy[],
  schema: SchemaInfo,
): PolicySlices {
  const groups = new Map<string, CompiledPolicy[]>();
  const pinned = new Map<string, CompiledPolicy[]>();
  for (const [action, types] of schema.appliesTo) {
    for (const type of types) groups.set(sliceKey(action, type), []);
  }
  const pinnedCount = new Set(
    policies
      .filter((p) => p.resource.kind === "uid")
      .flatMap((p) => [...p.actions].map((a) => `${a}|${JSON.stringify(p.resource)}`)),
  ).size;
  const pinSeparately = pinnedCount <= MAX_PINNED_SLICES;

  for (const policy of policies) {
    if (policy.evaluatedInCore) continue;
    for (const action of policy.actions) {
      for (const type of schema.appliesTo.get(action) ?? []) {
        const r = policy.resource;
        if (r.kind === "type" && r.type !== type) continue;
        if (r.kind === "uid") {
          if (r.type !== type) continue;
          if (pinSeparately) {
            const key = sliceKey(action, type, r.id);
            const list = pinned.get(key) ?? [];
            pinned.set(key, list);
            list.push(policy);
            continue;
          }
        }
        groups.get(sliceKey(action, type))?.push(policy);
      }
    }
  }

  const isGroup = (id: string) => !schema.appliesTo.has(id);
  const slices = new Map<string, Slice>();
  const created: string[] = [];
  let n = 0;
  // Slices with the same members share one pre-parsed set (many actions see only role grants).
  const byMembers = new Map<string, Slice>();
  const preparse = (key: string, members: readonly CompiledPolicy[]) => {
    const signature = members.map((p) => p.id).join("\u0000");
    const shared = byMembers.get(signature);
    if (shared) {
      slices.set(key, shared);
      return;
    }
    const id = `${prefix}/${n++}`;
    const answer = cedar.preparsePolicySet(id, {
      staticPolicies: Object.fromEntries(members.map((p) => [p.id, p.text])),
    });
    if (answer.type !== "success") {
      releaseSlices(created);
      throw new SliceBuildError(answer.errors.map((e) => e.message).join("; "));
    }
    created.push(id);
    const slice: Slice = {
      id,
      needs: entityNeeds(
        members.map((p) => p.json),
        isGroup,
      ),
    };
    slices.set(key, slice);
    byMembers.set(signature, slice);
  };
  for (const [key, members] of groups) preparse(key, members);
  for (const [key, members] of pinned) {
    const base = groups.get(key.slice(0, key.lastIndexOf("\u0000"))) ?? [];
    preparse(key, [...base, ...members]);
  }

  return {
    ids: created,
    sliceFor(action, cedarType, id) {
      return slices.get(sliceKey(action, cedarType, id)) ?? slices.get(sliceKey(action, cedarType));
    },
  };
}

/** Replaces retired slices with empty sets so cedar-wasm frees the parsed policies. */
export function releaseSlices(ids: readonly string[]): void {
  for (const id of ids) cedar.preparsePolicySet(id, { staticPolicies: {} });
}
