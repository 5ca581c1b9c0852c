#!/usr/bin/env node
// Writes the JSON Schemas in schemas/ from the zod schemas in src/ (via the build in
// dist/). Run `npm run build` first. With --check, writes nothing and exits 1 when a
// committed schema is stale (for CI).
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const check = process.argv.includes("--check");

let manifest;
let config;
try {
  manifest = await import(join(root, "dist", "src", "manifest", "json-schema.js"));
  config = await import(join(root, "dist", "src", "core", "config", "json-schema.js"));
} catch (error) {
  console.error(`cannot load the built schema generators (run \`npm run build\` first): ${error.message}`);
  process.exit(2);
}

const outputs = [
  { file: manifest.MANIFEST_SCHEMA_FILE, content: manifest.renderManifestJsonSchema() },
  { file: config.CONFIG_SCHEMA_FILE, content: config.renderConfigJsonSchema() },
];

let stale = 0;
for (const { file, content } of outputs) {
  const path = join(root, file);
  const current = await readFile(path, "utf8").catch(() => undefined);
  if (current === content) {
    console.log(`${file}: up to date`);
  } else if (check) {
    console.error(`${file}: stale; run \`npm run build && node scripts/generate-schemas.mjs\``);
    stale++;
  } else {
    await writeFile(path, content);
    console.log(`${file}: written`);
  }
}
process.exit(stale > 0 ? 1 : 0);
