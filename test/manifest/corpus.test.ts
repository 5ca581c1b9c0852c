/**
 * The manifest corpus: every file under test/fixtures/manifests/<kind>/ with the exact
 * issues (code and path) its directory's expected.json lists. `valid` files have no
 * errors or warnings, `warning` files warnings but no errors, `invalid` files errors,
 * `unparseable` files a parse failure.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { checkManifestSource } from "../../src/manifest/index.ts";
import { FIXTURES } from "./helpers.ts";

type IssueExpectation = [code: string, path: string][];
type Expected = Record<string, IssueExpectation | { format: string; issues: IssueExpectation }>;
type ParseExpected = Record<string, { code: string; line?: number; column?: number }>;

function load<T>(kind: string): { files: string[]; expected: T } {
  const dir = join(FIXTURES, kind);
  const files = readdirSync(dir)
    .filter((f) => f !== "expected.json")
    .sort();
  return { files, expected: JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as T };
}

const sorted = (pairs: IssueExpectation) => pairs.map(([code, path]) => `${code} ${path}`).sort();

describe.each(["valid", "warning", "invalid"])("%s manifests", (kind) => {
  const { files, expected } = load<Expected>(kind);

  it("has an expectation for every file and a file for every expectation", () => {
    expect(Object.keys(expected).sort()).toEqual(files);
  });

  it.each(files)("%s", (file) => {
    const entry = expected[file]!;
    const { issues, format } = Array.isArray(entry) ? { issues: entry, format: undefined } : entry;
    const checked = checkManifestSource(readFileSync(join(FIXTURES, kind, file)), { filename: file });
    if (!checked.ok) throw new Error(`${file} did not parse: ${checked.message}`);
    if (format) expect(checked.format).toBe(format);
    const actual: IssueExpectation = checked.report.issues.map((i) => [i.code, i.path]);
    expect(sorted(actual)).toEqual(sorted(issues));

    const { error, warning } = checked.report.counts;
    if (kind === "valid") expect([error, warning]).toEqual([0, 0]);
    if (kind === "warning") expect(error === 0 && warning > 0).toBe(true);
    if (kind === "invalid") expect(error).toBeGreaterThan(0);
    // The normalized manifest is there exactly when there are no errors.
    expect(checked.report.manifest !== undefined).toBe(error === 0);
    for (const issue of checked.report.issues) expect(issue.message.length).toBeGreaterThan(0);
  });
});

describe("unparseable manifests", () => {
  const { files, expected } = load<ParseExpected>("unparseable");

  it("has an expectation for every file", () => {
    expect(Object.keys(expected).sort()).toEqual(files);
  });

  it.each(files)("%s", (file) => {
    const want = expected[file]!;
    const checked = checkManifestSource(readFileSync(join(FIXTURES, "unparseable", file)), {
      filename: file,
    });
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.code).toBe(want.code);
    if (want.line !== undefined) expect(checked.line).toBe(want.line);
    if (want.column !== undefined) expect(checked.column).toBe(want.column);
    if (want.line !== undefined)
      expect(checked.message).toMatch(new RegExp(`^line ${want.line}, column \\d+: `));
  });
});

it("the corpus covers JSON, TOML and YAML in every kind, at least 25 files", () => {
  let total = 0;
  for (const kind of ["valid", "warning", "invalid", "unparseable"]) {
    const { files } = load<unknown>(kind);
    total += files.length;
    const extensions = new Set(files.map((f) => f.split(".").pop()!.replace("yml", "yaml")));
    for (const ext of ["json", "toml", "yaml"]) expect([kind, extensions.has(ext)]).toEqual([kind, true]);
  }
  expect(total).toBeGreaterThanOrEqual(25);
});
