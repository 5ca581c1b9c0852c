/** Walks over raw manifest data: bounds depth, refuses `__proto__`, finds keys the schema does not know. */
import { z } from "zod";
import { type ManifestIssue, makeIssue } from "./codes.ts";
import { jsonPath } from "./json-path.ts";
import { didYouMean } from "./suggest.ts";

/** Deepest nesting a manifest may have; real manifests are about 4 levels deep. */
export const MAX_DEPTH = 64;
/** Most values (nodes) a manifest may hold; bounds work on shared or cyclic references. */
export const MAX_NODES = 100_000;

const FORBIDDEN_KEY = "__proto__";

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks depth, size, cycles and forbidden keys over the whole tree. Returns the data
 * unchanged when it is clean, or a copy without the forbidden keys (a branch that is
 * too deep, cyclic or over the size budget is replaced by null).
 */
export function sanitize(value: unknown): { data: unknown; issues: ManifestIssue[] } {
  const issues: ManifestIssue[] = [];
  const ancestors = new Set<object>();
  const at: PropertyKey[] = [];
  let nodes = 0;
  let changed = false;
  const cut = (code: "MANIFEST_TOO_DEEP" | "MANIFEST_TOO_LARGE", message: string) => {
    if (!issues.some((i) => i.code === code)) issues.push(makeIssue(code, jsonPath(at), message));
    changed = true;
    return null;
  };
  const visitChild = (key: PropertyKey, child: unknown): unknown => {
    at.push(key);
    try {
      return visit(child);
    } finally {
      at.pop();
    }
  };
  const visit = (node: unknown): unknown => {
    if (++nodes > MAX_NODES) return cut("MANIFEST_TOO_LARGE", `more than ${MAX_NODES} values`);
    if (typeof node !== "object" || node === null) return node;
    if (at.length >= MAX_DEPTH) return cut("MANIFEST_TOO_DEEP", `nested deeper than ${MAX_DEPTH} levels`);
    if (ancestors.has(node)) return cut("MANIFEST_TOO_DEEP", "the value contains itself (a cycle)");
    ancestors.add(node);
    try {
      return visitContainer(node);
    } finally {
      ancestors.delete(node);
    }
  };
  const visitContainer = (node: object): unknown => {
    if (Array.isArray(node)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < node.length; i++) {
        const next = visitChild(i, node[i]);
        if (next !== node[i]) {
          copy ??= [...node];
          copy[i] = next;
        }
      }
      return copy ?? node;
    }
    if (!isPlainObject(node)) return node;
    let copy: Record<string, unknown> | undefined;
    for (const key of Object.keys(node)) {
      if (key === FORBIDDEN_KEY) {
        issues.push(makeIssue("KEY_FORBIDDEN", jsonPath([...at, key]), `the key "${key}" is not allowed`));
        copy ??= copyOwn(node);
        changed = true;
        continue;
      }
      const child = node[key];
      const next = visitChild(key, child);
      if (next !== child) {
        copy ??= copyOwn(node);
        copy[key] = next;
      }
    }
    return copy ?? node;
  };
  const data = visit(value);
  return { data: changed ? data : value, issues };
}

/** A shallow copy that keeps `__proto__` out (a spread would still carry an own `__proto__`). */
function copyOwn(node: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(node)) if (key !== FORBIDDEN_KEY) out[key] = node[key];
  return out;
}

/** Unknown keys listed one by one per object; the rest are counted in one issue. */
export const MAX_UNKNOWN_KEYS_LISTED = 20;

/** Strips wrappers (optional, default, prefault, pipe input) down to the structural schema. */
function structural(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  for (let i = 0; i < 16; i++) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault
    ) {
      current = current.def.innerType as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.def.in as z.ZodType;
    } else break;
  }
  return current;
}

/** The key structure of a schema: objects and arrays; everything else (records included) is a leaf. */
type KeyTree = { keys: ReadonlyMap<string, KeyTree>; names: readonly string[] } | { element: KeyTree } | null;

const keyTrees = new WeakMap<z.ZodType, KeyTree>();

/** Compiled once per schema: zod's instanceof checks are too slow for every validation. */
function keyTree(schema: z.ZodType): KeyTree {
  const cached = keyTrees.get(schema);
  if (cached !== undefined) return cached;
  const shape = structural(schema);
  let tree: KeyTree = null;
  if (shape instanceof z.ZodObject) {
    const entries = Object.entries(shape.shape as Record<string, z.ZodType>);
    tree = {
      keys: new Map(entries.map(([key, child]) => [key, keyTree(child)])),
      names: entries.map(([key]) => key),
    };
  } else if (shape instanceof z.ZodArray) {
    tree = { element: keyTree(shape.element as z.ZodType) };
  }
  keyTrees.set(schema, tree);
  return tree;
}

/**
 * Reports keys that the schema does not define. `$schema` (declared in the schema) and
 * `x-*` extension keys are allowed anywhere; records (env, metadata) are free-form.
 */
export function findUnknownKeys(schema: z.ZodType, value: unknown): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const at: PropertyKey[] = [];
  const visit = (tree: KeyTree, data: unknown): void => {
    if (tree === null) return;
    if ("element" in tree) {
      if (!Array.isArray(data)) return;
      for (let i = 0; i < data.length; i++) {
        at.push(i);
        visit(tree.element, data[i]);
        at.pop();
      }
      return;
    }
    if (!isPlainObject(data)) return;
    let unknown = 0;
    for (const key of Object.keys(data)) {
      const child = tree.keys.get(key);
      if (child !== undefined) {
        at.push(key);
        visit(child, data[key]);
        at.pop();
      } else if (!key.startsWith("x-") && key !== FORBIDDEN_KEY && ++unknown <= MAX_UNKNOWN_KEYS_LISTED) {
        issues.push(
          makeIssue(
            "UNKNOWN_KEY",
            jsonPath([...at, key]),
            `unknown key "${key}"${didYouMean(key, tree.names)}`,
          ),
        );
      }
    }
    if (unknown > MAX_UNKNOWN_KEYS_LISTED) {
      const more = unknown - MAX_UNKNOWN_KEYS_LISTED;
      issues.push(
        makeIssue("UNKNOWN_KEY", jsonPath(at), `and ${more} more unknown key${more === 1 ? "" : "s"} here`),
      );
    }
  };
  visit(keyTree(schema), value);
  return issues;
}
