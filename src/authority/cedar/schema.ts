import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { packageRoot } from "../../core/paths.ts";
import { configError } from "../codes.ts";

export const CEDAR_NAMESPACE = "Outrig";

/** Protocol resource types (as on the wire) and their Cedar entity types. */
export const RESOURCE_TYPES = {
  module: "Module",
  tool: "Tool",
  resource: "Resource",
  prompt: "Prompt",
  agent: "Agent",
  model: "Model",
  route: "Route",
} as const;
export type ResourceType = keyof typeof RESOURCE_TYPES;

/** One action per protocol operation. */
export const OPERATION_ACTIONS = [
  "mcp.tools.list",
  "mcp.tools.call",
  "mcp.resources.list",
  "mcp.resources.read",
  "mcp.prompts.list",
  "mcp.prompts.get",
  "a2a.message.send",
  "a2a.tasks.get",
  "a2a.tasks.cancel",
  "llm.chat",
  "llm.completions",
  "llm.embeddings",
  "llm.models.list",
  "rest.invoke",
  "grpc.invoke",
  "module.invoke",
  "module.manage",
] as const;
export type OperationAction = (typeof OPERATION_ACTIONS)[number];

export function isResourceType(value: string): value is ResourceType {
  return Object.hasOwn(RESOURCE_TYPES, value);
}

/** What the engine needs to know about the schema, derived once at load. */
export interface SchemaInfo {
  readonly text: string;
  /** Operation action → Cedar resource types (qualified, `Outrig::Tool`) it applies to. */
  readonly appliesTo: ReadonlyMap<string, ReadonlySet<string>>;
  /** Any action id (operation or group) → the operation actions it covers. */
  readonly covers: ReadonlyMap<string, ReadonlySet<string>>;
  /** Operation action → every group above it. Sent with each request so `action in` works. */
  readonly ancestors: ReadonlyMap<string, readonly string[]>;
}

export function defaultSchemaPath(): string {
  return join(packageRoot(), "src", "authority", "cedar", "outrig.cedarschema");
}

export function defaultSchemaText(): string {
  return readFileSync(defaultSchemaPath(), "utf8");
}

interface ActionJson {
  appliesTo?: { resourceTypes?: string[] };
  memberOf?: { id: string; type?: string }[];
}

/** Parses the schema and derives action coverage; throws `auth.config.invalid` when it is unusable. */
export function loadSchema(text: string = defaultSchemaText()): SchemaInfo {
  const answer = cedar.schemaToJson(text);
  if (answer.type !== "success") {
    throw configError(`the Cedar schema does not parse: ${answer.errors.map((e) => e.message).join("; ")}`);
  }
  const ns = answer.json[CEDAR_NAMESPACE];
  if (!ns) throw configError(`the Cedar schema has no ${CEDAR_NAMESPACE} namespace`);
  const actions = ns.actions as Record<string, ActionJson>;
  const appliesTo = new Map<string, Set<string>>();
  const parents = new Map<string, string[]>();
  for (const [id, action] of Object.entries(actions)) {
    parents.set(
      id,
      (action.memberOf ?? []).map((m) => m.id),
    );
    if (action.appliesTo && (action.appliesTo.resourceTypes ?? []).length > 0) {
      appliesTo.set(
        id,
        new Set((action.appliesTo.resourceTypes ?? []).map((t) => `${CEDAR_NAMESPACE}::${t}`)),
      );
    }
  }
  for (const op of OPERATION_ACTIONS) {
    if (!appliesTo.has(op)) throw configError(`the Cedar schema lacks the action ${op}`);
  }
  for (const [type] of Object.entries(RESOURCE_TYPES)) {
    if (!Object.hasOwn(ns.entityTypes, RESOURCE_TYPES[type as ResourceType])) {
      throw configError(`the Cedar schema lacks the entity type ${RESOURCE_TYPES[type as ResourceType]}`);
    }
  }
  // Each operation covers itself and every group above it (transitively).
  const covers = new Map<string, Set<string>>();
  const ancestors = new Map<string, string[]>();
  for (const op of appliesTo.keys()) {
    const seen = new Set<string>();
    const stack = [op];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const set = covers.get(id) ?? new Set<string>();
      covers.set(id, set);
      set.add(op);
      stack.push(...(parents.get(id) ?? []));
    }
    seen.delete(op);
    ancestors.set(op, [...seen].sort());
  }
  return { text, appliesTo, covers, ancestors };
}
