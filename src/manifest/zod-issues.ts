/**
 * Turns zod's issues into manifest issues with stable codes and our own messages:
 * zod's codes and wording are internal and may change between zod versions.
 */
import type { z } from "zod";
import { CAPABILITY_PATTERN } from "../spi/descriptor.ts";
import { type IssueCode, type ManifestIssue, makeIssue } from "./codes.ts";
import { jsonPath } from "./json-path.ts";
import { didYouMean } from "./suggest.ts";

type ZodIssue = z.core.$ZodIssue;

interface FieldRule {
  /** The code for any issue at this field other than a missing key. */
  code: IssueCode | ((input: unknown) => IssueCode);
  /** What a valid value looks like, for pattern failures. */
  expect?: string;
}

/** Field-specific codes, keyed by path template (`*` stands for a list index or record key). */
const FIELD_RULES: Record<string, FieldRule> = {
  id: {
    code: "MANIFEST_ID_INVALID",
    expect:
      "lowercase letters, digits, '.', '_' or '-', starting with a letter or digit, at most 64 characters",
  },
  version: { code: "MANIFEST_VERSION_INVALID", expect: 'strict SemVer, for example "1.2.3" or "1.2.3-rc.1"' },
  "tags.*": {
    code: "TAG_INVALID",
    expect: "lowercase letters, digits, '.', '_' or '-', at most 32 characters",
  },
  profile: { code: "PROFILE_UNKNOWN" },
  "modalities.*": { code: "MODALITY_UNKNOWN" },
  "spi.min": { code: "SPI_VERSION_INVALID", expect: 'MAJOR.MINOR, for example "1.0"' },
  "spi.max": { code: "SPI_VERSION_INVALID", expect: 'MAJOR.MINOR, for example "1.0"' },
  "entrypoint.command": { code: "ENTRYPOINT_COMMAND_INVALID" },
  "entrypoint.env.*": {
    code: "ENV_NAME_INVALID",
    expect: "letters, digits and '_', not starting with a digit, at most 128 characters",
  },
  "entrypoint.image": {
    code: "VALUE_INVALID",
    expect: "an image reference without whitespace, at most 512 characters",
  },
  "resources.accelerator": { code: "ACCELERATOR_UNKNOWN" },
  "consent.capabilities.*": { code: "CONSENT_CAPABILITY_UNKNOWN" },
  "consent.details_url": { code: detailsUrlCode, expect: "an absolute https:// URL" },
  "consent.egress.*": {
    code: "EGRESS_ENTRY_INVALID",
    expect: "host:port, where host is a DNS name (optionally *.-prefixed), IPv4 or [IPv6]",
  },
  "metrics.*.name": { code: "METRIC_NAME_INVALID", expect: "a Prometheus name: ^[a-zA-Z_:][a-zA-Z0-9_:]*$" },
  "capabilities.*": { code: "CAPABILITY_INVALID", expect: CAPABILITY_PATTERN.source },
};

function detailsUrlCode(input: unknown): IssueCode {
  if (typeof input === "string" && URL.canParse(input) && new URL(input).protocol === "http:") {
    return "CONSENT_URL_NOT_HTTPS";
  }
  return "CONSENT_URL_INVALID";
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
  record: "a mapping",
};

/** A short, safe rendering of a value for messages (never the whole of a giant string). */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return typeof value;
}

function template(path: readonly PropertyKey[]): string {
  return path.map((segment) => (typeof segment === "number" ? "*" : String(segment))).join(".");
}

function bound(issue: { inclusive?: boolean }, op: "≥" | "≤"): string {
  if (issue.inclusive === false) return op === "≥" ? ">" : "<";
  return op;
}

function sizeMessage(issue: Extract<ZodIssue, { code: "too_small" | "too_big" }>): string {
  const small = issue.code === "too_small";
  const limit = Number(
    small ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum,
  );
  const side = small ? "at least" : "at most";
  switch (issue.origin) {
    case "string":
      return `must be ${side} ${limit} character${limit === 1 ? "" : "s"} long`;
    case "array":
    case "set":
      return `must have ${side} ${limit} item${limit === 1 ? "" : "s"}`;
    default:
      return `must be ${bound(issue, small ? "≥" : "≤")} ${limit}, got ${describeValue(issue.input)}`;
  }
}

/**
 * Maps one zod issue. `prefix` is the path of the section the issue's schema was
 * applied to (validation runs section by section).
 */
export function fromZodIssue(issue: ZodIssue, prefix: readonly PropertyKey[]): ManifestIssue {
  const segments = [...prefix, ...issue.path];
  const path = jsonPath(segments);
  const key = segments.at(-1);
  const fieldTemplate =
    issue.code === "invalid_key" ? template([...segments.slice(0, -1), 0]) : template(segments);
  const rule = FIELD_RULES[fieldTemplate];
  const input = issue.input;
  const fieldCode = (fallback: IssueCode): IssueCode =>
    rule === undefined ? fallback : typeof rule.code === "function" ? rule.code(input) : rule.code;

  // Parsed data never holds `undefined`: an undefined input is a missing key.
  if (input === undefined && (issue.code === "invalid_type" || issue.code === "invalid_value")) {
    const wanted =
      issue.code === "invalid_type"
        ? (TYPE_NAMES[issue.expected] ?? issue.expected)
        : `one of: ${issue.values.join(", ")}`;
    return makeIssue(
      "FIELD_REQUIRED",
      path,
      `${JSON.stringify(String(key ?? "manifest"))} is required (${wanted})`,
    );
  }

  switch (issue.code) {
    case "invalid_type": {
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      // YAML and TOML read an unquoted 1.0 as a number; say how to keep it a string.
      const hint = issue.expected === "string" && typeof input === "number" ? " (quote it)" : "";
      return makeIssue(
        fieldCode("FIELD_TYPE_INVALID"),
        path,
        `expected ${expected}, got ${describeValue(input)}${hint}`,
      );
    }
    case "too_small":
    case "too_big": {
      const generic =
        issue.origin === "number" || issue.origin === "int" ? "VALUE_OUT_OF_RANGE" : "VALUE_LENGTH_INVALID";
      return makeIssue(fieldCode(generic), path, sizeMessage(issue));
    }
    case "invalid_format": {
      const code = fieldCode("VALUE_INVALID");
      const expect =
        rule?.expect ??
        ("pattern" in issue && issue.pattern ? `a value matching ${issue.pattern}` : issue.format);
      const what = code === "CONSENT_URL_NOT_HTTPS" ? "is not https" : "is not valid";
      return makeIssue(code, path, `${describeValue(input)} ${what}: expected ${expect}`);
    }
    case "invalid_value": {
      const allowed = issue.values.map(String);
      const listed = allowed.length > 12 ? `${allowed.slice(0, 12).join(", ")}, ...` : allowed.join(", ");
      return makeIssue(
        fieldCode("VALUE_NOT_ALLOWED"),
        path,
        `${describeValue(input)} is not allowed; use one of: ${listed}${didYouMean(input, allowed)}`,
      );
    }
    case "invalid_key":
      return makeIssue(
        fieldCode("VALUE_INVALID"),
        path,
        `key ${describeValue(key)} is not valid${rule?.expect ? `: expected ${rule.expect}` : ""}`,
      );
    case "not_multiple_of":
      return makeIssue(fieldCode("VALUE_INVALID"), path, `must be a multiple of ${String(issue.divisor)}`);
    default:
      return makeIssue(fieldCode("VALUE_INVALID"), path, `${describeValue(input)} is not valid here`);
  }
}
