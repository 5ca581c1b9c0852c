/**
 * `outrig module init`: writes a TypeScript module that passes `outrig module smoke`
 * as written. No install and no build inside an Outrig checkout: Node runs the `.ts`
 * files with type stripping, and `outrig/sdk` resolves to the checkout itself (the
 * package's self-reference). Outside one, a package.json names `outrig` as a
 * dependency, and `npm install` provides the same.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { packageRoot } from "../core/paths.ts";
import type { ProfileName } from "../manifest/vocabulary.ts";
import { MODULE_ID_PATTERN } from "../spi/descriptor.ts";
import { SUPPORTED_SPI_VERSIONS } from "../spi/versions.ts";
import {
  jsLiteral,
  PROFILE_TEMPLATES,
  type ProfileTemplate,
  type ScaffoldCall,
  type ScaffoldContext,
} from "./profiles.ts";

export const MANIFEST_FILE = "outrig.module.yaml";
export const SCAFFOLD_VERSION = "0.1.0";

export interface ScaffoldOptions {
  name: string;
  profile: ProfileName;
  /** Directory to create; must not exist. */
  dir: string;
}

export interface ScaffoldResult {
  dir: string;
  manifest: string;
  files: string[];
  /** True when the directory is inside an Outrig checkout (no install needed). */
  inCheckout: boolean;
}

/** Why a scaffold was refused (bad name, existing directory); the CLI exits 2. */
export class ScaffoldError extends Error {
  override name = "ScaffoldError";
}

/** Error-code family from a module id: the first code segment allows only [a-z0-9_], starting with a letter. */
function codeFamily(id: string): string {
  const family = id.replace(/[^a-z0-9_]/g, "_");
  return /^[a-z]/.test(family) ? family : `m_${family}`;
}

function isInside(dir: string, root: string): boolean {
  const rel = relative(root, dir);
  return rel !== "" && !rel.startsWith("..") && !rel.startsWith(sep);
}

export function scaffoldModule(options: ScaffoldOptions): ScaffoldResult {
  const { name, profile } = options;
  if (!MODULE_ID_PATTERN.test(name)) {
    throw new ScaffoldError(
      `module name ${JSON.stringify(name)} is not a valid module id (${MODULE_ID_PATTERN.source}: lowercase letters, digits, ".", "_", "-")`,
    );
  }
  const template = PROFILE_TEMPLATES[profile];
  const dir = resolve(options.dir);
  const root = packageRoot();
  const inCheckout = isInside(dir, root);
  const ctx: ScaffoldContext = { id: name, version: SCAFFOLD_VERSION, family: codeFamily(name) };
  const schema = inCheckout
    ? relative(dir, join(root, "schemas", "module-manifest.schema.json"))
    : "node_modules/outrig/schemas/module-manifest.schema.json";

  const files: Array<[string, string]> = [
    [MANIFEST_FILE, manifestText(ctx, profile, template, schema)],
    ["module.ts", template.source(ctx)],
    ["main.ts", MAIN],
    ["module.test.ts", testSource(template.calls)],
    ["README.md", readme(ctx, profile, template, inCheckout)],
  ];
  if (!inCheckout) files.push(["package.json", packageJson(ctx, outrigVersion(root))]);

  mkdirSync(dirname(dir), { recursive: true });
  try {
    mkdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new ScaffoldError(`${dir} already exists; choose another --dir (init never overwrites)`);
    }
    throw error;
  }
  for (const [file, content] of files) writeFileSync(join(dir, file), content, { flag: "wx" });
  return { dir, manifest: join(dir, MANIFEST_FILE), files: files.map(([f]) => join(dir, f)), inCheckout };
}

function manifestText(
  ctx: ScaffoldContext,
  profile: ProfileName,
  template: ProfileTemplate,
  schema: string,
): string {
  const spiMin = SUPPORTED_SPI_VERSIONS[0];
  const spiMax = SUPPORTED_SPI_VERSIONS.at(-1);
  return `# Manifest of the ${JSON.stringify(ctx.id)} module: what it is, how to start it, what it may do.
# Operators review (and sign) it before the core runs the module. Reference: docs/manifest.md.
# Check it: outrig module validate ${MANIFEST_FILE}
$schema: ${JSON.stringify(schema)}
id: ${JSON.stringify(ctx.id)}
version: ${JSON.stringify(ctx.version)}
name: ${JSON.stringify(ctx.id)}
description: ${JSON.stringify(template.description)}
profile: ${profile}
spi: { min: ${JSON.stringify(spiMin)}, max: ${JSON.stringify(spiMax)} }
# \`node\` is the Node.js running the core; it runs main.ts as is (type stripping, no build).
# The working directory is this file's directory.
entrypoint:
  command: node
  args: [main.ts]
consent:
  summary: Runs only its own code; it needs no network, no files outside its directory and no secrets.
  capabilities: []
ingress: core-routed
# Protocol capabilities module.ts implements; the module's descriptor may claim only these.
capabilities: ${JSON.stringify(template.capabilities).replaceAll(",", ", ")}
# health and restart keep their defaults (poll every 5 s, 3 restarts per 10 minutes).
`;
}

const MAIN = `/** Serves the module over the Core SPI. The Outrig core starts this process (see outrig.module.yaml). */
import { runModule } from "outrig/sdk";
import definition from "./module.ts";

await runModule(definition).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
`;

function testSource(calls: ScaffoldCall[]): string {
  const tests = calls.map((c) => {
    const args = [c.operation === undefined ? "undefined" : JSON.stringify(c.operation)];
    if (c.input !== undefined) args.push(jsLiteral(c.input));
    const callArgs = c.operation === undefined && c.input === undefined ? "" : args.join(", ");
    return `test(${JSON.stringify(c.title)}, async () => {
  const output = await call(${callArgs});
  ${c.assert}
});`;
  });
  return `/**
 * Launches the module exactly as the Outrig core does (handshake, descriptor checked
 * against outrig.module.yaml, Initialize, health, proof of wiring), makes one real call,
 * then drains and stops it. Run: node --test
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { smokeModule } from "outrig/smoke";

const manifest = fileURLToPath(new URL("${MANIFEST_FILE}", import.meta.url));

/** The output of one call (default: the first operation, with {}); fails naming the step that broke. */
async function call(operation?: string, input?: unknown): Promise<unknown> {
  const report = await smokeModule({ manifest, operation, input });
  assert.ok(report.ok, \`failed at step \${report.failed_step}: \${report.error}\`);
  return report.round_trip?.output;
}

${tests.join("\n\n")}
`;
}

function readme(
  ctx: ScaffoldContext,
  profile: ProfileName,
  template: ProfileTemplate,
  inCheckout: boolean,
): string {
  const setup = inCheckout
    ? "This directory is inside an Outrig checkout: nothing to install and nothing to build. `outrig/sdk`\nresolves to the checkout, and Node runs the `.ts` files as they are."
    : "Install the SDK once: `npm install` (package.json depends on `outrig`). Node runs the `.ts` files as\nthey are; there is no build step.";
  return `# ${ctx.id}

${template.description} Profile \`${profile}\`, scaffolded by \`outrig module init\`.

${template.explain}

| File | What it is |
|---|---|
| \`${MANIFEST_FILE}\` | The manifest: identity, entrypoint (\`node main.ts\`), consent, declared capabilities. |
| \`module.ts\` | The module: its operations and handlers (\`defineModule\` from \`outrig/sdk\`). |
| \`main.ts\` | The process entry point (\`runModule\`). |
| \`module.test.ts\` | Launches the module as the core does and checks real calls (\`node --test\`). |

${setup}

Requires Node.js 22.18 or newer (TypeScript type stripping); write only erasable TypeScript (no
\`enum\`, no \`namespace\`, no constructor parameter properties).

## Try it

(Inside an Outrig checkout, \`npx outrig\` runs the CLI.)

\`\`\`sh
outrig module validate ${MANIFEST_FILE}     # the manifest is valid
outrig module smoke ${MANIFEST_FILE}        # launch, handshake, health, one round trip, drain, shutdown
node --test                                 # the tests in module.test.ts
\`\`\`

\`outrig module smoke ${MANIFEST_FILE} --operation OP --input '{"...": 1}'\` calls another operation.

## Run it under a core

In the core's config (paths are relative to the config file):

\`\`\`yaml
modules:
  - manifest: path/to/${ctx.id}/${MANIFEST_FILE}
\`\`\`

The entrypoint, health and restart settings come from the manifest. At launch the core checks
that the module's descriptor agrees with the manifest (id, version, profile, capabilities), so
change both together. To run it where the core requires signed manifests
(\`security.require_signed\`): \`outrig module sign ${MANIFEST_FILE} --key <private key>\`.
`;
}

function outrigVersion(root: string): string {
  return (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
}

function packageJson(ctx: ScaffoldContext, outrig: string): string {
  return `${JSON.stringify(
    {
      name: ctx.id,
      version: ctx.version,
      private: true,
      type: "module",
      scripts: { start: "node main.ts", test: "node --test", smoke: `outrig module smoke ${MANIFEST_FILE}` },
      dependencies: { outrig: `^${outrig}` },
    },
    null,
    2,
  )}\n`;
}
