/** Manifest files → checked manifests: read (bounded), parse, validate. */
import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { manifestError } from "./errors.ts";
import type { ManifestFormat } from "./parse.ts";
import {
  MAX_MANIFEST_BYTES,
  type ParseAttempt,
  type ParseFailureCode,
  type ParseOptions,
  parseManifest,
} from "./parse.ts";
import type { Manifest } from "./schema.ts";
import { type ValidationReport, validateManifest } from "./validate.ts";
import { isPlainObject } from "./walk.ts";

export type ReadResult =
  | { ok: true; bytes: Uint8Array }
  | {
      ok: false;
      code: "manifest.load.io_error" | "manifest.parse.too_large";
      reason: string;
      message: string;
    };

/** Reads a file of at most MAX_MANIFEST_BYTES without loading a bigger one into memory. */
export async function readManifestBytes(path: string): Promise<ReadResult> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return ioFailure("EISDIR", `${basename(path)} is not a file`);
    if (info.size > MAX_MANIFEST_BYTES) {
      return {
        ok: false,
        code: "manifest.parse.too_large",
        reason: "EFBIG",
        message: `${basename(path)} is larger than ${MAX_MANIFEST_BYTES} bytes`,
      };
    }
    return { ok: true, bytes: await readFile(path) };
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    return ioFailure(reason, `cannot read ${basename(path)} (${reason})`);
  }
}

function ioFailure(reason: string, message: string): ReadResult {
  return { ok: false, code: "manifest.load.io_error", reason, message };
}

/** A manifest that could not be read or parsed: nothing was validated. */
export interface LoadFailure {
  ok: false;
  code: ParseFailureCode | "manifest.load.io_error";
  message: string;
  format?: ManifestFormat;
  line?: number;
  column?: number;
  attempts?: ParseAttempt[];
  notes: string[];
}

/** A manifest that was parsed and validated (the report says whether it is valid). */
export interface CheckedManifest {
  ok: true;
  format: ManifestFormat;
  notes: string[];
  /** The data as written, before defaults: what a signature covers. */
  document: unknown;
  report: ValidationReport;
}

export type ManifestCheck = CheckedManifest | LoadFailure;

/** Parses and validates manifest text or bytes. Never throws. */
export function checkManifestSource(input: string | Uint8Array, options: ParseOptions = {}): ManifestCheck {
  const parsed = parseManifest(input, options);
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    format: parsed.format,
    notes: parsed.notes,
    document: parsed.data,
    report: validateManifest(parsed.data),
  };
}

/** Reads, parses and validates a manifest file. Never throws. */
export async function checkManifestFile(
  path: string,
  options: Omit<ParseOptions, "filename"> = {},
): Promise<ManifestCheck> {
  const read = await readManifestBytes(path);
  if (!read.ok) return { ok: false, code: read.code, message: read.message, notes: [] };
  return checkManifestSource(read.bytes, { ...options, filename: path });
}

/**
 * For the core: a valid manifest or an OutrigError (`manifest.load.io_error`,
 * `manifest.parse.*`, `manifest.validate.invalid` listing the errors).
 */
export async function loadManifest(
  path: string,
): Promise<{ manifest: Manifest; document: unknown; report: ValidationReport }> {
  const checked = await checkManifestFile(path);
  if (!checked.ok) throw manifestError(checked.code, `${basename(path)}: ${checked.message}`);
  const { report, document } = checked;
  if (!report.ok || !report.manifest) {
    const errors = report.issues.filter((i) => i.severity === "error");
    const id = isPlainObject(document) && typeof document.id === "string" ? document.id : undefined;
    const summary = errors
      .slice(0, 3)
      .map((i) => `${i.code} at ${i.path}`)
      .join("; ");
    throw manifestError(
      "manifest.validate.invalid",
      `${id === undefined ? basename(path) : `module "${id}"`}: ${errors.length} error(s): ${summary}${errors.length > 3 ? "; ..." : ""}`,
      id,
    );
  }
  return { manifest: report.manifest, document, report };
}
