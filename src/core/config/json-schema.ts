/**
 * The JSON Schema of the core's config file, generated from the zod schema (schema.ts)
 * so the two cannot drift. `schemas/outrig-config.schema.json` is this output; a test
 * fails when the committed file is stale. Regenerate: `npm run build && node scripts/generate-schemas.mjs`.
 */
import { z } from "zod";
import { configSchema } from "./schema.ts";

export const CONFIG_SCHEMA_ID = "urn:outrig:schema:config:v1";
export const CONFIG_SCHEMA_FILE = "schemas/outrig-config.schema.json";

/**
 * The file as written (input side: keys with defaults are optional). Rules beyond one
 * key (a supervised module needs `command` or `manifest`; `require_signed` needs
 * `trusted_signers`; unique ids) are checked by the loader, not expressed here.
 */
export function generateConfigJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema, { io: "input", target: "draft-2020-12" }) as Record<
    string,
    unknown
  >;
  const { $schema, ...rest } = generated;
  return { $schema, $id: CONFIG_SCHEMA_ID, title: "Outrig core configuration", ...rest };
}

/** The file content: stable key order, two-space indent, trailing newline. */
export function renderConfigJsonSchema(): string {
  return `${JSON.stringify(generateConfigJsonSchema(), null, 2)}\n`;
}
