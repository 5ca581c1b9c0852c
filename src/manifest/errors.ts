/**
 * Error codes (the project's `<family>.<operation>.<reason>` model) for manifest
 * failures that cross a public boundary: loading, parsing, signatures and keys.
 * Validation *issues* (and the launch-time descriptor check) have their own codes
 * (codes.ts); these name the outcome.
 */
import { OutrigError, registerCodes } from "../errors/index.ts";

export const MANIFEST_ERROR_CODES = [
  {
    code: "manifest.load.io_error",
    category: "FAILED_PRECONDITION",
    message: "The manifest file cannot be read.",
  },
  {
    code: "manifest.parse.syntax",
    category: "INVALID_ARGUMENT",
    message: "The manifest is not valid JSON, TOML or YAML.",
  },
  { code: "manifest.parse.too_large", category: "INVALID_ARGUMENT", message: "The manifest is too large." },
  {
    code: "manifest.parse.too_deep",
    category: "INVALID_ARGUMENT",
    message: "The manifest is nested too deeply.",
  },
  {
    code: "manifest.parse.encoding",
    category: "INVALID_ARGUMENT",
    message: "The manifest is not valid UTF-8.",
  },
  {
    code: "manifest.parse.unsupported_value",
    category: "INVALID_ARGUMENT",
    message: "The manifest holds a value JSON cannot represent.",
  },
  {
    code: "manifest.signature.missing",
    category: "FAILED_PRECONDITION",
    message: "The manifest is not signed.",
  },
  {
    code: "manifest.signature.malformed",
    category: "FAILED_PRECONDITION",
    message: "The manifest signature is malformed.",
  },
  {
    code: "manifest.signature.invalid",
    category: "PERMISSION_DENIED",
    message: "The manifest was changed after it was signed.",
  },
  {
    code: "manifest.signature.wrong_key",
    category: "PERMISSION_DENIED",
    message: "The manifest was signed with a different key.",
  },
  {
    code: "manifest.signature.untrusted_signer",
    category: "PERMISSION_DENIED",
    message: "The manifest was signed by a key that is not trusted.",
  },
  {
    code: "manifest.signers.invalid",
    category: "INVALID_ARGUMENT",
    message: "The signer registry is invalid.",
  },
  {
    code: "manifest.key.invalid",
    category: "INVALID_ARGUMENT",
    message: "The key is not a usable Ed25519 key.",
  },
] as const;

registerCodes(MANIFEST_ERROR_CODES);

export type ManifestErrorCode = (typeof MANIFEST_ERROR_CODES)[number]["code"];

/** An OutrigError for a manifest failure; the module id goes into the details when known. */
export function manifestError(code: ManifestErrorCode, message: string, moduleId?: string): OutrigError {
  return OutrigError.fromCode(code, {
    message,
    origin: "core",
    details: moduleId === undefined ? {} : { module_id: moduleId },
  });
}
