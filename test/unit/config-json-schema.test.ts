/** The committed JSON Schema of the core's config is the generated one (the CI staleness check). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CONFIG_SCHEMA_FILE,
  generateConfigJsonSchema,
  renderConfigJsonSchema,
} from "../../src/core/config/json-schema.ts";
import { ROOT } from "../support/harness.ts";

type Node = {
  properties?: Record<string, Node>;
  items?: Node;
  anyOf?: Node[];
  oneOf?: Node[];
  required?: string[];
  default?: unknown;
};

test("schemas/outrig-config.schema.json is up to date (regenerate: npm run build && node scripts/generate-schemas.mjs)", () => {
  expect(readFileSync(join(ROOT, CONFIG_SCHEMA_FILE), "utf8")).toBe(renderConfigJsonSchema());
});

test("it describes modules with a manifest, and security", () => {
  const schema = generateConfigJsonSchema() as Node & Record<string, unknown>;
  expect(schema.$id).toBe("urn:outrig:schema:config:v1");
  const props = schema.properties!;
  expect(props.security?.properties?.require_signed?.default).toBe(false);
  expect(props.security?.properties).toHaveProperty("trusted_signers");
  const variants = props.modules?.items?.oneOf ?? props.modules?.items?.anyOf ?? [];
  expect(variants).toHaveLength(2);
  for (const variant of variants) {
    expect(variant.properties).toHaveProperty("manifest");
    // `command` is not required: a manifest can give the entrypoint instead.
    expect(variant.required ?? []).not.toContain("command");
    expect(variant.properties?.health?.properties?.poll_interval_ms?.default).toBe(5000);
  }
});
