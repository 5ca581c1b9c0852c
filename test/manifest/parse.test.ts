import { formatFromPath, MAX_MANIFEST_BYTES, parseManifest } from "../../src/manifest/index.ts";

const expectFailure = (result: ReturnType<typeof parseManifest>) => {
  if (result.ok) throw new Error(`expected a parse failure, got ${JSON.stringify(result.data)}`);
  return result;
};
const expectData = (result: ReturnType<typeof parseManifest>) => {
  if (!result.ok) throw new Error(`expected success, got ${result.message}`);
  return result;
};

describe("format selection", () => {
  it.each([
    ["m.json", "json"],
    ["m.JSON", "json"],
    ["dir.d/m.toml", "toml"],
    ["m.yaml", "yaml"],
    ["m.yml", "yaml"],
    ["C:\\mods\\m.Yml", "yaml"],
    ["m.conf", undefined],
    ["manifest", undefined],
    [".yaml", undefined],
  ])("%s → %s", (path, format) => {
    expect(formatFromPath(path)).toBe(format);
  });

  it("the extension decides: YAML text in a .json file is a JSON syntax error", () => {
    const failure = expectFailure(parseManifest("id: acme\n", { filename: "m.json" }));
    expect(failure.format).toBe("json");
    expect(failure.code).toBe("manifest.parse.syntax");
  });

  it("an explicit format wins over the extension", () => {
    expect(expectData(parseManifest("id = 'x'\n", { filename: "m.json", format: "toml" })).data).toEqual({
      id: "x",
    });
  });

  it("an unknown extension tries JSON, TOML and YAML in order and says which parsed", () => {
    const toml = expectData(parseManifest('id = "x"\n', { filename: "m.conf" }));
    expect(toml.format).toBe("toml");
    expect(toml.notes).toEqual(['"m.conf": format not known from the extension; tried json, parsed as toml']);
    const json = expectData(parseManifest('{"id": "x"}', { filename: "manifest" }));
    expect(json.format).toBe("json");
    expect(json.notes[0]).toContain("parsed as json");
    const yaml = expectData(parseManifest("id: x\nversion: 1.0.0\n"));
    expect(yaml.format).toBe("yaml");
    expect(yaml.notes[0]).toBe(
      "input: format not known from the extension; tried json, toml, parsed as yaml",
    );
  });

  it("without an extension, a YAML scalar does not count as a manifest: every attempt is reported", () => {
    const failure = expectFailure(parseManifest("just some words\n", { filename: "notes.txt" }));
    expect(failure.code).toBe("manifest.parse.syntax");
    expect(failure.attempts?.map((a) => a.format)).toEqual(["json", "toml", "yaml"]);
    expect(failure.attempts?.[2]?.message).toBe("not a mapping");
    expect(failure.message).toMatch(
      /^not valid JSON, TOML or YAML \(json: .*; toml: .*; yaml: not a mapping\)$/,
    );
  });
});

describe("syntax errors carry line and column", () => {
  it.each([
    ["json", '{\n  "a": 1,\n  "b": tru\n}', 3, 8],
    ["json", '{\n  "a": 1\n  "b": 2\n}', 3, 3],
    ["json", '{"a": "x\ny"}', 1, 9],
    ["json", '{"a": 01}', 1, 8],
    ["json", '{"a": 1} x', 1, 10],
    ["json", "", 1, 1],
    ["toml", 'a = 1\nb = "unterminated\n', 2, undefined],
    ["toml", "a = 1\na = 2\n", 2, undefined],
    ["yaml", "a: 1\n  b: 2\n", 1, undefined],
    ["yaml", "a: [1, 2\n", 2, undefined],
  ] as const)("%s: %j", (format, text, line, column) => {
    const failure = expectFailure(parseManifest(text, { format }));
    expect(failure.code).toBe("manifest.parse.syntax");
    expect(failure.line).toBe(line);
    if (column !== undefined) expect(failure.column).toBe(column);
    expect(failure.message).toMatch(/^line \d+, column \d+: \S/);
    expect(failure.message).not.toContain("\n");
  });
});

describe("duplicate keys are refused in every format", () => {
  it.each([
    ["json", '{"a": 1, "a": 2}'],
    ["json", '{"a": 1, "\\u0061": 2}'],
    ["json", '{"x": {"k": 1, "k": 1}}'],
    ["toml", "a = 1\na = 2\n"],
    ["yaml", "a: 1\na: 2\n"],
  ] as const)("%s: %s", (format, text) => {
    const failure = expectFailure(parseManifest(text, { format }));
    expect(failure.code).toBe("manifest.parse.syntax");
    expect(failure.message.toLowerCase()).toMatch(/duplicate|unique|overwrite|already/);
  });

  it("the same key in sibling objects is fine", () => {
    expect(expectData(parseManifest('[{"a": 1}, {"a": 2}]', { format: "json" })).data).toEqual([
      { a: 1 },
      { a: 2 },
    ]);
  });
});

describe("input that is not text", () => {
  it("decodes UTF-8 bytes and drops a byte order mark", () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"name": "Zoë"}')]);
    expect(expectData(parseManifest(bytes, { format: "json" })).data).toEqual({ name: "Zoë" });
    expect(expectData(parseManifest('\ufeff{"a": 1}', { format: "json" })).data).toEqual({ a: 1 });
  });

  it("refuses invalid UTF-8", () => {
    const failure = expectFailure(
      parseManifest(new Uint8Array([0x61, 0x3a, 0x20, 0xc3, 0x28]), { format: "yaml" }),
    );
    expect(failure.code).toBe("manifest.parse.encoding");
  });

  it("refuses anything over the size limit, as text or bytes, before parsing", () => {
    const big = `{"x": "${"a".repeat(MAX_MANIFEST_BYTES)}"}`;
    expect(expectFailure(parseManifest(big, { format: "json" })).code).toBe("manifest.parse.too_large");
    expect(expectFailure(parseManifest(Buffer.from(big), { format: "json" })).code).toBe(
      "manifest.parse.too_large",
    );
    // Multi-byte characters count as bytes, not as UTF-16 units.
    const wide = "é".repeat(MAX_MANIFEST_BYTES / 2 + 1);
    expect(expectFailure(parseManifest(wide, { format: "yaml" })).code).toBe("manifest.parse.too_large");
  });
});

describe("nesting, aliases and values JSON cannot hold", () => {
  const deepJson = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;

  it("accepts moderate nesting and refuses deep nesting in every format without overflowing the stack", () => {
    expect(parseManifest(deepJson(50), { format: "json" }).ok).toBe(true);
    for (const n of [100, 100_000]) {
      expect(expectFailure(parseManifest(deepJson(n), { format: "json" })).code).toBe(
        "manifest.parse.too_deep",
      );
      const yaml = expectFailure(parseManifest(`a: ${deepJson(n)}`, { format: "yaml" }));
      expect(["manifest.parse.too_deep", "manifest.parse.syntax"]).toContain(yaml.code);
      const toml = expectFailure(parseManifest(`a = ${deepJson(n)}`, { format: "toml" }));
      expect(["manifest.parse.too_deep", "manifest.parse.syntax"]).toContain(toml.code);
    }
  });

  it("expands YAML aliases but stops alias bombs", () => {
    expect(expectData(parseManifest("a: &x [1, 2]\nb: *x\n", { format: "yaml" })).data).toEqual({
      a: [1, 2],
      b: [1, 2],
    });
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    }
    const started = Date.now();
    expect(parseManifest(levels.join("\n"), { format: "yaml" }).ok).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("a self-referencing YAML alias is refused, not looped over", () => {
    expect(parseManifest("a: &a [*a]\n", { format: "yaml" }).ok).toBe(false);
  });

  it.each([
    ["json", '{"a": 1e400}'],
    ["toml", "a = inf"],
    ["toml", "a = nan"],
    ["yaml", "a: .inf"],
    ["yaml", "a: !!binary aGVsbG8="],
    ["json", '{"a": "\\ud800"}'],
    ["json", '{"\\udc00": 1}'],
  ] as const)("%s %s is refused as unsupported", (format, text) => {
    const failure = expectFailure(parseManifest(text, { format }));
    expect(failure.code).toBe("manifest.parse.unsupported_value");
  });

  it("an unknown YAML tag is an error, not a silent string", () => {
    expect(parseManifest("a: !custom 1\n", { format: "yaml" }).ok).toBe(false);
  });

  it("TOML dates become ISO strings", () => {
    const data = expectData(
      parseManifest("d = 1979-05-27T07:32:00Z\nld = 1979-05-27\n", { format: "toml" }),
    ).data;
    expect(data).toEqual({ d: "1979-05-27T07:32:00.000Z", ld: "1979-05-27" });
  });

  it("multi-document YAML is refused", () => {
    expect(parseManifest("a: 1\n---\nb: 2\n", { format: "yaml" }).ok).toBe(false);
  });
});

describe("prototype pollution", () => {
  afterEach(() => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ["json", '{"__proto__": {"polluted": true}, "a": {"__proto__": {"polluted": true}}}'],
    ["toml", '"__proto__" = { polluted = true }\n[a."__proto__"]\npolluted = true\n'],
    ["yaml", "__proto__: { polluted: true }\na:\n  __proto__: { polluted: true }\n"],
  ] as const)("%s keeps __proto__ as an own key on plain objects", (format, text) => {
    const data = expectData(parseManifest(text, { format })).data as Record<string, Record<string, unknown>>;
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(Object.keys(data)).toEqual(["__proto__", "a"]);
    expect(Object.hasOwn(data.a!, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(data.a)).toBe(Object.prototype);
  });
});
