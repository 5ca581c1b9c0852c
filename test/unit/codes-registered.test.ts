/**
 * Every error code the source builds with `OutrigError.fromCode("…")` is registered,
 * so no client ever gets an error whose construction itself failed.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import "../../src/errors/index.ts";
import { lookupCode, registeredCodes } from "../../src/errors/registry.ts";
import { ROOT } from "../support/harness.ts";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "gen" ? [] : sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

test("every code passed to fromCode is registered", async () => {
  // Registrations of other areas load with their modules.
  for (const path of sources(join(ROOT, "src")).filter((p) => p.endsWith("codes.ts"))) await import(path);
  const missing: string[] = [];
  for (const path of sources(join(ROOT, "src"))) {
    for (const match of readFileSync(path, "utf8").matchAll(/fromCode\(\s*"([^"]+)"/g)) {
      if (!lookupCode(match[1])) missing.push(`${path.slice(ROOT.length + 1)}: ${match[1]}`);
    }
  }
  expect(missing).toEqual([]);
});

test("docs/errors.md lists every core and SPI code", () => {
  // Table cells may be padded; compare with runs of spaces collapsed.
  const doc = readFileSync(join(ROOT, "docs/errors.md"), "utf8").replace(/ +/g, " ");
  const missing = registeredCodes()
    .filter((c) => /^(core|spi)\./.test(c.code))
    .filter((c) => !doc.includes(`| \`${c.code}\` | ${c.category} |`))
    .map((c) => c.code);
  expect(missing).toEqual([]);
});
