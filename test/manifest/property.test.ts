/**
 * Property tests: whatever the input (random bytes, random text, random values, or a
 * valid manifest mutated at random), parsing and validation return a well-formed
 * report and never throw.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { stringify as toToml } from "smol-toml";
import { stringify as toYaml } from "yaml";
import {
  ALL_ISSUE_CODES,
  canonicalManifestBytes,
  checkManifestSource,
  ISSUE_CODES,
  type LoadFailure,
  type ManifestFormat,
  parseManifest,
  type ValidationReport,
  validateManifest,
} from "../../src/manifest/index.ts";
import { ROOT } from "./helpers.ts";

const KNOWN_CODES = new Set<string>(ALL_ISSUE_CODES);
const FILENAMES = ["m.json", "m.toml", "m.yaml", "m.yml", "m.conf", "manifest", undefined] as const;

function expectWellFormed(report: ValidationReport): void {
  expect(Array.isArray(report.issues)).toBe(true);
  for (const issue of report.issues) {
    expect(KNOWN_CODES.has(issue.code)).toBe(true);
    expect(issue.severity).toBe(ISSUE_CODES[issue.code].severity);
    expect(issue.path.startsWith("$")).toBe(true);
    expect(typeof issue.message).toBe("string");
    expect(issue.message.length).toBeGreaterThan(0);
  }
  const errors = report.issues.filter((i) => i.severity === "error").length;
  expect(report.counts.error).toBe(errors);
  expect(report.ok).toBe(errors === 0);
  expect(report.manifest !== undefined).toBe(report.ok);
  if (report.manifest) {
    // Normalizing is a fixpoint: the normalized manifest is valid and normalizes to itself.
    const again = validateManifest(report.manifest);
    expect(again.ok).toBe(true);
    expect(again.manifest).toEqual(report.manifest);
  }
}

function expectParseResult(result: ReturnType<typeof parseManifest> | LoadFailure): void {
  if (result.ok) {
    expect(() => canonicalManifestBytes(result.data)).not.toThrow();
  } else {
    expect(result.code).toMatch(/^manifest\.parse\.[a-z_]+$/);
    expect(result.message.length).toBeGreaterThan(0);
    expect(result.message).not.toContain("\n");
  }
}

describe("random input", () => {
  it("text in any format never crashes the parser or the validator", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 400 }),
        fc.constantFrom(...FILENAMES),
        (text, filename) => {
          const checked = checkManifestSource(text, filename === undefined ? {} : { filename });
          if (checked.ok) expectWellFormed(checked.report);
          else expectParseResult(checked);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("raw bytes never crash the parser", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom(...FILENAMES), (bytes, filename) => {
        expectParseResult(parseManifest(bytes, filename === undefined ? {} : { filename }));
      }),
      { numRuns: 500 },
    );
  });

  it("text that looks like a manifest (keys and punctuation of all three formats) never crashes", () => {
    const token = fc.constantFrom(
      "id",
      "version",
      "profile",
      "health",
      "__proto__",
      ":",
      "=",
      "{",
      "}",
      "[",
      "]",
      "[[",
      ",",
      '"',
      "'",
      "\n",
      "  ",
      "- ",
      "&a ",
      "*a",
      "!!str ",
      "#",
      "1.0",
      "true",
      "null",
      "\\u0000",
      "é",
      "😀",
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), fc.constantFrom(...FILENAMES), (tokens, filename) => {
        const checked = checkManifestSource(tokens.join(""), filename === undefined ? {} : { filename });
        if (checked.ok) expectWellFormed(checked.report);
      }),
      { numRuns: 1000 },
    );
  });

  it("any value never crashes the validator", () => {
    fc.assert(
      fc.property(
        fc.anything({
          withNullPrototype: true,
          withMap: true,
          withSet: true,
          withDate: true,
          withBigInt: true,
        }),
        (value) => {
          expectWellFormed(validateManifest(value));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("mutated valid manifests", () => {
  const examples = readdirSync(join(ROOT, "examples", "manifests")).map((file) => {
    const parsed = parseManifest(readFileSync(join(ROOT, "examples", "manifests", file)), { filename: file });
    if (!parsed.ok) throw new Error(`${file}: ${parsed.message}`);
    return parsed.data as Record<string, unknown>;
  });

  type Path = (string | number)[];
  function paths(value: unknown, at: Path = []): Path[] {
    const out: Path[] = [];
    const visit = (v: unknown, p: Path) => {
      out.push(p);
      if (Array.isArray(v)) {
        for (const [i, item] of v.entries()) visit(item, [...p, i]);
      } else if (v !== null && typeof v === "object")
        for (const [k, item] of Object.entries(v)) visit(item, [...p, k]);
    };
    visit(value, at);
    return out;
  }

  function apply(
    doc: unknown,
    path: Path,
    op: { kind: "delete" } | { kind: "set"; value: unknown },
  ): unknown {
    if (path.length === 0) return op.kind === "set" ? op.value : {};
    const [head, ...rest] = path;
    // Adding below a scalar replaces the scalar with a container (never spread a string).
    const container = (
      Array.isArray(doc) ? [...doc] : doc !== null && typeof doc === "object" ? { ...doc } : {}
    ) as Record<string | number, unknown>;
    if (rest.length === 0) {
      if (op.kind === "delete") {
        if (Array.isArray(container)) (container as unknown[]).splice(head as number, 1);
        else delete container[head!];
      } else if (Array.isArray(container) && head === "length") {
        // An array's own `length` cannot hold a value; the mutation becomes an extra property.
        return Object.assign({}, container, { length: op.value });
      } else {
        Object.defineProperty(container, head!, {
          value: op.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return container;
    }
    container[head!] = apply(container[head!], rest, op);
    return container;
  }

  const deep = fc.nat({ max: 200 }).map((n) => {
    let v: unknown = "bottom";
    for (let i = 0; i < n; i++) v = i % 2 ? [v] : { k: v };
    return v;
  });
  const giant = fc
    .tuple(fc.constantFrom("x", "é", "😀", "\u0000"), fc.nat({ max: 600_000 }))
    .map(([c, n]) => c.repeat(n));
  const value = fc.oneof(
    fc.jsonValue(),
    fc.string({ unit: "grapheme" }),
    fc.string({ unit: "binary" }),
    giant,
    deep,
    fc.constantFrom(0, -1, 1.5, 2 ** 53, -0, 1e308, true, null, "", "1.0", "cuda", "net.egress", "OUTRIG_X"),
    fc.constantFrom([], {}, [[]], { __proto__: null }),
  );
  const key = fc.oneof(
    fc.constantFrom("__proto__", "constructor", "prototype", "x-ext", "$schema", "helth", "", " "),
    fc.string({ unit: "grapheme", maxLength: 12 }),
  );
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value }),
    fc.record({ kind: fc.constant("add" as const), at: fc.nat(), key, value }),
  );

  type Mutation = { kind: "delete" | "set" | "add"; at: number; key?: string; value?: unknown };
  function mutate(doc: unknown, mutations: Mutation[]): unknown {
    let current = doc;
    for (const m of mutations) {
      const all = paths(current);
      const path = all[m.at % all.length]!;
      if (m.kind === "delete") current = apply(current, path, { kind: "delete" });
      else if (m.kind === "set") current = apply(current, path, { kind: "set", value: m.value });
      else current = apply(current, [...path, m.key!], { kind: "set", value: m.value });
    }
    return current;
  }

  function serialize(doc: unknown, format: ManifestFormat): string | undefined {
    try {
      if (format === "json") return JSON.stringify(doc);
      if (format === "yaml") return toYaml(doc);
      return toToml(doc as Record<string, unknown>);
    } catch {
      return undefined; // not every value has a TOML (or JSON) form
    }
  }

  it("validating the mutated data directly never crashes", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...examples),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (doc, mutations) => {
          expectWellFormed(validateManifest(mutate(doc, mutations)));
        },
      ),
      { numRuns: 600 },
    );
  });

  it("serialized to JSON, TOML and YAML and read back, it never crashes", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...examples),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.constantFrom<ManifestFormat>("json", "toml", "yaml"),
        (doc, mutations, format) => {
          const text = serialize(mutate(doc, mutations), format);
          if (text === undefined) return;
          const checked = checkManifestSource(text, { filename: `m.${format}` });
          if (checked.ok) expectWellFormed(checked.report);
          else expectParseResult(checked);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("the same data reads back identically from every format (what makes signatures format-independent)", () => {
    for (const doc of examples) {
      const canonical = Buffer.from(canonicalManifestBytes(doc)).toString();
      for (const format of ["json", "toml", "yaml"] as const) {
        const parsed = parseManifest(serialize(doc, format)!, { format });
        if (!parsed.ok) throw new Error(parsed.message);
        expect(Buffer.from(canonicalManifestBytes(parsed.data)).toString()).toBe(canonical);
      }
    }
  });
});
