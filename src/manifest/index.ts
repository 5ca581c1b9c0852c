/** Module manifests: schema, parser, validator, signatures. See docs/manifest.md. */
export * from "./codes.ts";
export * from "./descriptor-check.ts";
export * from "./errors.ts";
export * from "./json-schema.ts";
export * from "./load.ts";
export * from "./parse.ts";
export * from "./schema.ts";
export * from "./signers.ts";
export * from "./signing.ts";
export { reportPasses, type ValidationReport, validateManifest } from "./validate.ts";
export * from "./vocabulary.ts";
