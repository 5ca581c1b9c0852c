import type { PolicyJson } from "@cedar-policy/cedar-wasm/nodejs";

/**
 * What a group of policies can read from the request's entities. Passing entities to
 * cedar-wasm dominates the cost of a decision (each value crosses the JS/wasm
 * boundary), so each slice is sent only what its policies reference. Cedar has no
 * dynamic attribute access, so a syntactic scan is sound; anything the scan cannot
 * follow (an attribute read on a computed value, `in` on a computed entity) widens
 * the needs to "everything".
 */
export interface EntityNeeds {
  /** Principal attributes read, or every attribute. */
  readonly principalAttrs: ReadonlySet<string> | "all";
  readonly resourceAttrs: ReadonlySet<string> | "all";
  /** Parent types of the principal consulted by `in` (`Outrig::Role`, `Outrig::Team`), or all. */
  readonly principalParents: ReadonlySet<string> | "all";
  /** Whether the resource's parents (its module) are consulted. */
  readonly resourceParents: boolean;
  /** Whether the action's groups are consulted (`action in Outrig::Action::"mcp.*"`). */
  readonly actionParents: boolean;
  /** Stable text form, for memoizing entities per needs. */
  readonly key: string;
}

type Node = unknown;

interface Acc {
  principalAttrs: Set<string> | "all";
  resourceAttrs: Set<string> | "all";
  principalParents: Set<string> | "all";
  resourceParents: boolean;
  actionParents: boolean;
}

function addAttr(acc: Acc, which: "principalAttrs" | "resourceAttrs", attr: string): void {
  const set = acc[which];
  if (set !== "all") set.add(attr);
}

function everything(acc: Acc): void {
  acc.principalAttrs = "all";
  acc.resourceAttrs = "all";
  acc.principalParents = "all";
  acc.resourceParents = true;
  acc.actionParents = true;
}

function varOf(node: Node): string | undefined {
  return typeof node === "object" && node !== null && "Var" in node
    ? String((node as { Var: unknown }).Var)
    : undefined;
}

/** The variable and first attribute at the root of `principal.a.b…` (or `context.x…`). */
function rootOf(node: Node): { v: string; attr?: string } | undefined {
  let attr: string | undefined;
  let current = node;
  for (;;) {
    const v = varOf(current);
    if (v !== undefined) return { v, ...(attr !== undefined ? { attr } : {}) };
    if (typeof current !== "object" || current === null || !("." in current)) return undefined;
    const step = (current as { ".": { left: Node; attr: string } })["."];
    attr = step.attr;
    current = step.left;
  }
}

function entityTypeOf(node: Node): string | undefined {
  if (typeof node !== "object" || node === null || !("Value" in node)) return undefined;
  const value = (node as { Value: unknown }).Value;
  if (typeof value === "object" && value !== null && "__entity" in value)
    return (value as { __entity: { type: string } }).__entity.type;
  return undefined;
}

function noteIn(acc: Acc, left: Node, right: Node, isGroup: (id: string) => boolean): void {
  const v = varOf(left);
  if (v === "principal") {
    const type = entityTypeOf(right);
    if (type === undefined || acc.principalParents === "all") acc.principalParents = "all";
    else acc.principalParents.add(type);
  } else if (v === "resource") {
    acc.resourceParents = true;
  } else if (v === "action") {
    // `action in [A, B]` is reflexive and needs no groups unless a group is named.
    const ids: string[] = [];
    const collect = (n: Node) => {
      if (typeof n !== "object" || n === null) return;
      if ("Value" in n) {
        const value = (n as { Value: unknown }).Value;
        if (typeof value === "object" && value !== null && "__entity" in value)
          ids.push((value as { __entity: { id: string } }).__entity.id);
        else acc.actionParents = true;
      } else if ("Set" in n) {
        for (const item of (n as { Set: Node[] }).Set) collect(item);
      } else {
        acc.actionParents = true;
      }
    };
    collect(right);
    if (ids.some(isGroup)) acc.actionParents = true;
  } else if (v !== "context") {
    everything(acc);
  }
}

function walk(acc: Acc, node: Node, isGroup: (id: string) => boolean): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(acc, n, isGroup);
    return;
  }
  if (typeof node !== "object" || node === null) return;
  const n = node as Record<string, Node>;
  for (const op of [".", "has"] as const) {
    if (op in n && typeof n[op] === "object" && n[op] !== null && "left" in (n[op] as object)) {
      const { left, attr } = n[op] as { left: Node; attr: string | string[] };
      // `principal.a.b` reads attribute `a` of the principal; `context…` is sent whole.
      const root = rootOf(left);
      const first = root?.attr ?? (Array.isArray(attr) ? attr[0]! : attr);
      if (root?.v === "principal") addAttr(acc, "principalAttrs", first);
      else if (root?.v === "resource") addAttr(acc, "resourceAttrs", first);
      else if (root?.v !== "context") everything(acc);
    }
  }
  if ("in" in n && typeof n.in === "object" && n.in !== null && "left" in (n.in as object)) {
    const { left, right } = n.in as { left: Node; right: Node };
    noteIn(acc, left, right, isGroup);
  }
  if ("is" in n && typeof n.is === "object" && n.is !== null) {
    const is = n.is as { left: Node; in?: Node };
    if (is.in !== undefined) noteIn(acc, is.left, is.in, isGroup);
  }
  for (const value of Object.values(n)) walk(acc, value, isGroup);
}

function scopeEntityType(scope: { op: string; entity?: unknown }): string | undefined {
  const e = scope.entity as { __entity?: { type: string }; type?: string } | undefined;
  return e?.__entity?.type ?? e?.type;
}

/** The needs of a group of policies. `isGroup` tells action groups from operations. */
export function entityNeeds(policies: readonly PolicyJson[], isGroup: (id: string) => boolean): EntityNeeds {
  const acc: Acc = {
    principalAttrs: new Set(),
    resourceAttrs: new Set(),
    principalParents: new Set(),
    resourceParents: false,
    actionParents: false,
  };
  for (const policy of policies) {
    const p = policy.principal as { op: string; entity?: unknown; in?: { entity?: unknown } };
    if (p.op === "in") {
      const type = scopeEntityType(p);
      if (type === undefined || acc.principalParents === "all") acc.principalParents = "all";
      else acc.principalParents.add(type);
    } else if (p.op === "is" && p.in !== undefined) {
      const type = scopeEntityType(p.in as { op: string; entity?: unknown });
      if (type === undefined || acc.principalParents === "all") acc.principalParents = "all";
      else acc.principalParents.add(type);
    }
    const a = policy.action as { op: string; entity?: unknown; entities?: unknown[] };
    if (a.op === "in") {
      const entities = a.entities ?? (a.entity !== undefined ? [a.entity] : []);
      const ids = entities.map(
        (e) => (e as { __entity?: { id: string }; id?: string }).__entity?.id ?? (e as { id: string }).id,
      );
      if (ids.length === 0 || ids.some(isGroup)) acc.actionParents = true;
    }
    const r = policy.resource as { op: string; in?: unknown };
    if (r.op === "in" || (r.op === "is" && r.in !== undefined)) acc.resourceParents = true;
    walk(acc, policy.conditions, isGroup);
  }
  const show = (s: ReadonlySet<string> | "all") => (s === "all" ? "*" : [...s].sort().join(","));
  return {
    ...acc,
    key: `${show(acc.principalAttrs)}|${show(acc.resourceAttrs)}|${show(acc.principalParents)}|${acc.resourceParents ? 1 : 0}|${acc.actionParents ? 1 : 0}`,
  };
}
