/**
 * Manifest text → plain JSON data. The file extension picks the parser; an unknown
 * extension tries JSON, TOML and YAML in turn and says so. Syntax failures stop here
 * with a line and column; whatever the input, this returns a result and never throws.
 */
import { parse as parseToml, TomlError } from "smol-toml";
import { parseDocument } from "yaml";
import { scanJson } from "./json-scan.ts";
import { isPlainObject, MAX_DEPTH } from "./walk.ts";

export const MANIFEST_FORMATS = ["json", "toml", "yaml"] as const;
export type ManifestFormat = (typeof MANIFEST_FORMATS)[number];

/** Largest manifest accepted, in bytes; real ones are a few kilobytes. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

export type ParseFailureCode =
  | "manifest.parse.syntax"
  | "manifest.parse.too_large"
  | "manifest.parse.too_deep"
  | "manifest.parse.encoding"
  | "manifest.parse.unsupported_value";

export interface ParseAttempt {
  format: ManifestFormat;
  /** Like ParseFailure's: with the position when known. */
  message: string;
  line?: number;
  column?: number;
}

export interface ParseSuccess {
  ok: true;
  format: ManifestFormat;
  data: unknown;
  /** Things worth telling the author, for example which parser an unknown extension got. */
  notes: string[];
}

export interface ParseFailure {
  ok: false;
  code: ParseFailureCode;
  /** One line, with the position when known: `line 3, column 7: expected ","`. */
  message: string;
  format?: ManifestFormat;
  line?: number;
  column?: number;
  /** Every parser tried, when the extension did not pick one. */
  attempts?: ParseAttempt[];
  notes: string[];
}

export type ParseResult = ParseSuccess | ParseFailure;

const EXTENSIONS: Record<string, ManifestFormat> = { json: "json", toml: "toml", yaml: "yaml", yml: "yaml" };

/** The format a file name's extension implies, if any. */
export function formatFromPath(path: string): ManifestFormat | undefined {
  const name = path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? EXTENSIONS[name.slice(dot + 1).toLowerCase()] : undefined;
}

class Failure extends Error {
  readonly code: ParseFailureCode;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(code: ParseFailureCode, message: string, line?: number, column?: number) {
    super(message);
    this.code = code;
    this.line = line;
    this.column = column;
  }
}

export interface ParseOptions {
  /** Used to pick the format from the extension, and in notes. */
  filename?: string;
  /** Forces a format, whatever the file name. */
  format?: ManifestFormat;
}

/** Parses manifest text or bytes (UTF-8). */
export function parseManifest(input: string | Uint8Array, options: ParseOptions = {}): ParseResult {
  const notes: string[] = [];
  let text: string;
  try {
    text = decode(input);
  } catch (error) {
    return failure(error, notes);
  }
  const chosen =
    options.format ?? (options.filename === undefined ? undefined : formatFromPath(options.filename));
  if (chosen) {
    try {
      return { ok: true, format: chosen, data: parseAs(chosen, text), notes };
    } catch (error) {
      return { ...failure(error, notes), format: chosen };
    }
  }
  const attempts: ParseAttempt[] = [];
  for (const format of MANIFEST_FORMATS) {
    try {
      const data = parseAs(format, text);
      // YAML reads almost any text as a scalar; without an extension, only a mapping counts.
      if (!isPlainObject(data)) {
        attempts.push({ format, message: "not a mapping" });
        continue;
      }
      const failed = attempts.map((a) => a.format).join(", ");
      notes.push(
        `${describeName(options.filename)}: format not known from the extension; ` +
          `${failed ? `tried ${failed}, ` : ""}parsed as ${format}`,
      );
      return { ok: true, format, data, notes };
    } catch (error) {
      const f = failure(error, []);
      if (f.code !== "manifest.parse.syntax") return { ...f, format, notes };
      attempts.push({ format, message: f.message, line: f.line, column: f.column });
    }
  }
  return {
    ok: false,
    code: "manifest.parse.syntax",
    message: `not valid JSON, TOML or YAML (${attempts.map((a) => `${a.format}: ${a.message}`).join("; ")})`,
    attempts,
    notes,
  };
}

function describeName(filename: string | undefined): string {
  return filename === undefined ? "input" : JSON.stringify(filename);
}

function decode(input: string | Uint8Array): string {
  if (typeof input === "string") {
    if (input.length > MAX_MANIFEST_BYTES || Buffer.byteLength(input) > MAX_MANIFEST_BYTES) throw tooLarge();
    return input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  }
  if (input.byteLength > MAX_MANIFEST_BYTES) throw tooLarge();
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(input);
  } catch {
    throw new Failure("manifest.parse.encoding", "not valid UTF-8");
  }
}

function tooLarge(): Failure {
  return new Failure("manifest.parse.too_large", `larger than ${MAX_MANIFEST_BYTES} bytes`);
}

function failure(error: unknown, notes: string[]): ParseFailure {
  if (error instanceof Failure) {
    const where = error.line === undefined ? "" : `line ${error.line}, column ${error.column ?? 1}: `;
    const result: ParseFailure = { ok: false, code: error.code, message: `${where}${error.message}`, notes };
    if (error.line !== undefined) result.line = error.line;
    if (error.column !== undefined) result.column = error.column;
    return result;
  }
  // A parser bug or a stack overflow inside a parser: still a report, never a crash.
  const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return { ok: false, code: "manifest.parse.syntax", message: message || "unreadable input", notes };
}

function parseAs(format: ManifestFormat, text: string): unknown {
  switch (format) {
    case "json":
      return toPlain(parseJson(text));
    case "toml":
      return toPlain(parseTomlText(text));
    case "yaml":
      return toPlain(parseYaml(text));
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function parseJson(text: string): unknown {
  const problem = scanJson(text, MAX_DEPTH);
  if (problem) {
    const { line, column } = lineColumn(text, problem.offset);
    const code = problem.message.startsWith("nested deeper")
      ? "manifest.parse.too_deep"
      : "manifest.parse.syntax";
    throw new Failure(code, problem.message, line, column);
  }
  return JSON.parse(text);
}

function parseTomlText(text: string): unknown {
  try {
    return parseToml(text, { maxDepth: MAX_DEPTH });
  } catch (error) {
    if (error instanceof TomlError) {
      const first = error.message.split("\n")[0]?.replace(/^Invalid TOML document:\s*/, "") ?? "invalid TOML";
      const code = /excessively nested/.test(first) ? "manifest.parse.too_deep" : "manifest.parse.syntax";
      throw new Failure(code, first, error.line, error.column);
    }
    throw error;
  }
}

function parseYaml(text: string): unknown {
  const doc = parseDocument(text, {
    schema: "core",
    uniqueKeys: true,
    merge: false,
    stringKeys: true,
    prettyErrors: true,
  });
  // Warnings (an unknown tag read as a plain string, say) would change meaning silently.
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    const pos = problem.linePos?.[0];
    const message =
      problem.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "") ?? "invalid YAML";
    throw new Failure("manifest.parse.syntax", message, pos?.line, pos?.col);
  }
  // Aliases are expanded here; the cap stops "billion laughs" documents.
  return doc.toJS({ maxAliasCount: 100 });
}

/**
 * Copies parsed data into plain JSON values: objects with Object.prototype (an own
 * `__proto__` key stays an own key, for the validator to refuse), finite numbers,
 * dates as ISO strings. Anything JSON cannot hold is refused, since signing works on
 * the JSON data model.
 */
/** In a `u` regex a valid surrogate pair is one code point, so this matches only lone halves. */
const LONE_SURROGATE = /\p{Surrogate}/u;

function toPlain(value: unknown, depth = 0, path = "$"): unknown {
  if (typeof value === "string") {
    // RFC 8785 (and so signing) needs well-formed Unicode; JSON's \ud800 escapes are not.
    if (LONE_SURROGATE.test(value)) throw unsupported(path, "a string holds a lone UTF-16 surrogate");
    return value;
  }
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw unsupported(path, `${value} is not representable in JSON`);
    return value;
  }
  if (depth >= MAX_DEPTH) {
    throw new Failure(
      "manifest.parse.too_deep",
      `nested deeper than ${MAX_DEPTH} levels at ${shorten(path)}`,
    );
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw unsupported(path, "invalid date");
    return value.toISOString();
  }
  if (Array.isArray(value)) return value.map((item, i) => toPlain(item, depth + 1, `${path}[${i}]`));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (LONE_SURROGATE.test(key)) throw unsupported(path, "a key holds a lone UTF-16 surrogate");
      const child = toPlain(value[key], depth + 1, `${path}.${key}`);
      if (key === "__proto__") {
        Object.defineProperty(out, key, {
          value: child,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else out[key] = child;
    }
    return out;
  }
  throw unsupported(path, `a ${describeKind(value)} value is not plain data`);
}

function describeKind(value: unknown): string {
  if (value instanceof Uint8Array) return "binary";
  if (typeof value === "object" && value !== null) return value.constructor?.name ?? "object";
  return typeof value;
}

function unsupported(path: string, message: string): Failure {
  return new Failure("manifest.parse.unsupported_value", `${shorten(path)}: ${message}`);
}

/** Paths in messages stay readable even for absurd nesting or keys. */
function shorten(path: string): string {
  return path.length > 80 ? `${path.slice(0, 77)}...` : path;
}
