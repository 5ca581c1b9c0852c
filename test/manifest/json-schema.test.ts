/** The committed JSON Schema is the generated one (the CI staleness check), and it agrees with the validator. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  generateManifestJsonSchema,
  MANIFEST_SCHEMA_FILE,
  renderManifestJsonSchema,
} from "../../src/manifest/index.ts";
import { ROOT } from "./helpers.ts";

type Node = { properties?: Record<string, Node>; items?: Node; required?: string[]; default?: unknown };

describe("schemas/module-manifest.schema.json", () => {
  it("is up to date with the zod schema (regenerate: npm run build && node scripts/generate-schemas.mjs)", () => {
    const committed = readFileSync(join(ROOT, MANIFEST_SCHEMA_FILE), "utf8");
    expect(committed).toBe(renderManifestJsonSchema());
  });

  it("is draft 2020-12 with an id, the required keys, and unknown keys allowed (they are warnings)", () => {
    const schema = generateManifestJsonSchema() as Node & Record<string, unknown>;
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.$id).toBe("urn:outrig:schema:module-manifest:v1");
    expect(schema.required).toEqual(["id", "version", "profile", "spi", "entrypoint"]);
    expect(JSON.stringify(schema)).not.toContain('"additionalProperties":false');
    expect(schema.patternProperties).toHaveProperty("^x-");
  });

  it("carries the defaults the validator applies", () => {
    const props = (generateManifestJsonSchema() as Node).properties!;
    expect(props.health?.properties?.poll_interval_ms?.default).toBe(5000);
    expect(props.health?.properties?.grace_period_ms?.default).toBe(10000);
    expect(props.restart?.properties?.backoff?.properties?.jitter?.default).toBe(0.2);
    expect(props.ingress?.default).toBe("core-routed");
    expect(props.resources?.properties?.accelerator?.default).toBe("cpu");
  });

  it("docs/manifest.md documents every field of the schema", () => {
    const docs = readFileSync(join(ROOT, "docs", "manifest.md"), "utf8");
    const missing: string[] = [];
    const walk = (node: Node, prefix: string) => {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        const path = prefix ? `${prefix}.${key}` : key;
        if (!docs.includes(`\`${path}\``)) missing.push(path);
        walk(child, path);
        if (child.items) walk(child.items, `${path}[]`);
      }
    };
    walk(generateManifestJsonSchema() as Node, "");
    expect(missing).toEqual([]);
  });
});
