/**
 * The JSON Schema of the manifest, generated from the zod schema (schema.ts) so the
 * two cannot drift. `schemas/module-manifest.schema.json` is this output; a test fails
 * when the committed file is stale. Regenerate: `npm run build && node scripts/generate-schemas.mjs`.
 */
import { z } from "zod";
import { ManifestSchema } from "./schema.ts";

export const MANIFEST_SCHEMA_ID = "urn:outrig:schema:module-manifest:v1";
export const MANIFEST_SCHEMA_FILE = "schemas/module-manifest.schema.json";

/**
 * The schema describes the manifest *as written* (input side: defaults are not
 * required). Unknown keys are allowed, as in the validator, which only warns on them;
 * cross-field rules (docs/manifest.md) are beyond JSON Schema and not expressed.
 */
export function generateManifestJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(ManifestSchema, { io: "input", target: "draft-2020-12" }) as Record<
    string,
    unknown
  >;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: MANIFEST_SCHEMA_ID,
    title: "Outrig module manifest",
    ...rest,
    patternProperties: { "^x-": { description: "Extension key: allowed anywhere, ignored by Outrig." } },
  };
}

/** The file content: stable key order, two-space indent, trailing newline. */
export function renderManifestJsonSchema(): string {
  return `${JSON.stringify(generateManifestJsonSchema(), null, 2)}\n`;
}
