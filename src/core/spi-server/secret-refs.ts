import { readFileSync } from "node:fs";
import type { SecretRef } from "../config/schema.ts";

/** Resolves a secret reference now (env and files may change while the core runs); undefined when absent. */
export function resolveSecretRef(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if ("value" in ref) return ref.value;
  if ("env" in ref) return env[ref.env] || undefined;
  try {
    return readFileSync(ref.file, "utf8").replace(/\r?\n$/, "") || undefined;
  } catch {
    return undefined;
  }
}

/** Where a reference points, for an operator's log line (never the value). */
export function describeSecretRef(ref: SecretRef): string {
  if ("value" in ref) return "an inline value";
  if ("env" in ref) return `environment variable ${ref.env}`;
  return `file ${ref.file}`;
}
