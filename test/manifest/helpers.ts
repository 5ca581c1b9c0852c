import { join } from "node:path";
import { packageRoot } from "../../src/core/paths.ts";

export const ROOT = packageRoot();
export const FIXTURES = join(ROOT, "test", "fixtures", "manifests");

/** A valid manifest (as parsed data) that later tests mutate one field at a time. */
export function baseManifest(): Record<string, unknown> {
  return {
    id: "acme.echo",
    version: "1.0.0",
    description: "Echoes its input.",
    profile: "mcp",
    spi: { min: "1.0", max: "1.0" },
    entrypoint: { command: "node", args: ["main.js"] },
    capabilities: ["tools"],
  };
}
