/** Manifest files → checked manifests: read (bounded), parse, validate. */
import { readFileSync, type Stats, statSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { ManifestFormat } from "./parse.ts";
import {
  MAX_MANIFEST_BYTES,
  type ParseFailure,
  type ParseFailureCode,
  type ParseOptions,
  parseManifest,
} from "./parse.ts";
import { type ValidationReport, validateManifest } from "./validate.ts";

export type ReadFailureCode = "manifest.load.io_error" | "manifest.parse.too_large";

/** Read failures do not name the file: every caller already does. */
export type ReadResult =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; code: ReadFailureCode; reason: string; message: string };

/** Reads a file of at most MAX_MANIFEST_BYTES without loading a bigger one into memory. */
export async function readManifestBytes(path: string): Promise<ReadResult> {
  try {
    return checkSize(await stat(path)) ?? { ok: true, bytes: await readFile(path) };
  } catch (error) {
    return ioFailure(error);
  }
}

/** readManifestBytes for synchronous callers (the config loader). */
export function readManifestBytesSync(path: string): ReadResult {
  try {
    return checkSize(statSync(path)) ?? { ok: true, bytes: readFileSync(path) };
  } catch (error) {
    return ioFailure(error);
  }
}

/** Refuses, before reading, what is not a file or is too large to be a manifest. */
function checkSize(info: Stats): ReadResult | undefined {
  if (!info.isFile())
    return { ok: false, code: "manifest.load.io_error", reason: "EISDIR", message: "not a file" };
  if (info.size > MAX_MANIFEST_BYTES) {
    return {
      ok: false,
      code: "manifest.parse.too_large",
      reason: "EFBIG",
      message: `larger than ${MAX_MANIFEST_BYTES} bytes`,
    };
  }
  return undefined;
}

function ioFailure(error: unknown): ReadResult {
  const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
  return { ok: false, code: "manifest.load.io_error", reason, message: `cannot read (${reason})` };
}

/** A manifest that could not be read or parsed: nothing was validated. */
export type LoadFailure = Omit<ParseFailure, "code"> & { code: ParseFailureCode | ReadFailureCode };

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
export async function checkManifestFile(path: string): Promise<ManifestCheck> {
  return checkRead(await readManifestBytes(path), path);
}

/** checkManifestFile for synchronous callers (the config loader). */
export function checkManifestFileSync(path: string): ManifestCheck {
  return checkRead(readManifestBytesSync(path), path);
}

function checkRead(read: ReadResult, path: string): ManifestCheck {
  if (!read.ok) return { ok: false, code: read.code, message: read.message, notes: [] };
  return checkManifestSource(read.bytes, { filename: path });
}
