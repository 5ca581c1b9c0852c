import type { Category } from "./category.ts";

/** One registered error code: the client-visible message comes from here. */
export interface CodeDefinition {
  code: string;
  category: Category;
  message: string;
  retryable?: boolean;
  /** HTTP status when it differs from the category's default (for example 504 for deadlines). */
  httpStatus?: number;
}

const registry = new Map<string, CodeDefinition>();

/** Registers codes. Re-registering a code with a different category is a programming error. */
export function registerCodes(definitions: readonly CodeDefinition[]): void {
  for (const def of definitions) {
    const existing = registry.get(def.code);
    if (existing && existing.category !== def.category) {
      throw new Error(`error code ${def.code} registered twice with different categories`);
    }
    registry.set(def.code, def);
  }
}

export function lookupCode(code: string | undefined): CodeDefinition | undefined {
  return code === undefined ? undefined : registry.get(code);
}

export function registeredCodes(): CodeDefinition[] {
  return [...registry.values()].sort((a, b) => a.code.localeCompare(b.code));
}
