/**
 * Manifest signatures: Ed25519 JWS (alg EdDSA) with a detached payload, over the RFC
 * 8785 (JCS) canonical JSON of the manifest's data. Canonical JSON makes the signature
 * independent of format and layout: the same data as YAML, TOML or JSON verifies the
 * same, while any change to a value, key or list breaks it. Comments and whitespace are
 * not data and are not covered.
 *
 * The signature lives beside the manifest as `<manifest file>.sig` (for example
 * `outrig.module.yaml.sig`): one line, `<protected header>..<signature>`.
 */
import { chmod, open, unlink } from "node:fs/promises";
import { basename } from "node:path";
import canonicalize from "canonicalize";
import {
  base64url,
  type CryptoKey,
  decodeProtectedHeader,
  exportPKCS8,
  exportSPKI,
  FlattenedSign,
  flattenedVerify,
  generateKeyPair,
  importPKCS8,
  errors as joseErrors,
} from "jose";
import type { OutrigError } from "../errors/index.ts";
import { type ManifestErrorCode, manifestError } from "./errors.ts";
import { readManifestBytes } from "./load.ts";
import { type ParseFailureCode, parseManifest } from "./parse.ts";
import { keyId, SIGNING_ALGORITHM, type TrustedSigners } from "./signers.ts";
import { isPlainObject } from "./walk.ts";

/** `typ` of the protected header: says what the JWS is for. */
export const SIGNATURE_TYPE = "outrig-manifest+jws";
export const SIGNATURE_SUFFIX = ".sig";
const ED25519_SIGNATURE_BYTES = 64;

/** Where a manifest's signature lives unless given explicitly. */
export function signaturePathFor(manifestPath: string): string {
  return `${manifestPath}${SIGNATURE_SUFFIX}`;
}

/** The signed bytes: RFC 8785 canonical JSON of the manifest data. Throws on non-JSON data. */
export function canonicalManifestBytes(document: unknown): Uint8Array {
  const text = canonicalize(document);
  if (text === undefined) throw new Error("the manifest has no JSON representation");
  return new TextEncoder().encode(text);
}

export interface SigningKeyPair {
  /** PKCS#8 PEM; keep it secret. */
  privateKeyPem: string;
  /** SPKI PEM; goes into signer registries. */
  publicKeyPem: string;
  kid: string;
}

export async function generateSigningKeyPair(): Promise<SigningKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALGORITHM, {
    crv: "Ed25519",
    extractable: true,
  });
  return {
    privateKeyPem: await exportPKCS8(privateKey),
    publicKeyPem: await exportSPKI(publicKey),
    kid: await keyId(publicKey),
  };
}

export interface WrittenKeyPair {
  privateKeyPath: string;
  publicKeyPath: string;
  /** The public key as written (SPKI PEM), for a signer registry entry. */
  publicKeyPem: string;
  kid: string;
}

/**
 * Writes `<prefix>.key` (private, mode 0600, created with that mode so it is never
 * readable by others) and `<prefix>.pub`. Refuses to overwrite unless `force`.
 */
export async function writeSigningKeyPair(
  prefix: string,
  options: { force?: boolean } = {},
): Promise<WrittenKeyPair> {
  const pair = await generateSigningKeyPair();
  const privateKeyPath = `${prefix}.key`;
  const publicKeyPath = `${prefix}.pub`;
  await writeNew(privateKeyPath, pair.privateKeyPem, 0o600, options.force === true);
  await writeNew(publicKeyPath, pair.publicKeyPem, 0o644, options.force === true);
  return { privateKeyPath, publicKeyPath, publicKeyPem: pair.publicKeyPem, kid: pair.kid };
}

async function writeNew(path: string, content: string, mode: number, force: boolean): Promise<void> {
  if (force)
    await unlink(path).catch((error: NodeJS.ErrnoException) =>
      error.code === "ENOENT" ? undefined : Promise.reject(error),
    );
  const handle = await open(path, "wx", mode);
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
  await chmod(path, mode);
}

/** Imports a PKCS#8 PEM Ed25519 private key. */
export async function importPrivateKey(pem: string): Promise<CryptoKey> {
  try {
    return await importPKCS8(pem.trim(), SIGNING_ALGORITHM, { extractable: true });
  } catch (error) {
    throw manifestError(
      "manifest.key.invalid",
      `not an Ed25519 private key in PKCS#8 PEM: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Signs manifest data; returns the detached compact JWS (`header..signature`) and the key id. */
export async function signManifestDocument(
  document: unknown,
  privateKey: CryptoKey | string,
): Promise<{ signature: string; kid: string }> {
  const key = typeof privateKey === "string" ? await importPrivateKey(privateKey) : privateKey;
  const kid = await keyId(key);
  const jws = await new FlattenedSign(canonicalManifestBytes(document))
    .setProtectedHeader({ alg: SIGNING_ALGORITHM, typ: SIGNATURE_TYPE, kid })
    .sign(key);
  return { signature: `${jws.protected}..${jws.signature}`, kid };
}

export type SignatureFailureCode = Extract<
  ManifestErrorCode,
  | "manifest.signature.missing"
  | "manifest.signature.malformed"
  | "manifest.signature.invalid"
  | "manifest.signature.wrong_key"
  | "manifest.signature.untrusted_signer"
  | "manifest.load.io_error"
  | ParseFailureCode
>;

export type SignatureVerification =
  | { ok: true; signerId: string; kid: string; moduleId: string | undefined; document: unknown }
  | { ok: false; code: SignatureFailureCode; message: string; moduleId: string | undefined };

export interface VerifyManifestSignatureOptions {
  /** The manifest file; read and parsed here. Give this or `manifest`. */
  manifestPath?: string;
  /** The parsed manifest data (what parseManifest returned). */
  manifest?: unknown;
  /** Signature file; default `<manifestPath>.sig`. */
  signaturePath?: string;
  /** The signature itself, instead of a file. */
  signature?: string;
  trustedSigners: TrustedSigners;
}

/**
 * Verifies a manifest's signature against trusted keys. Never throws: every outcome is
 * a result, and each failure has its own code and a message naming the module. On
 * success `document` is the exact data that was verified: use it, not a second read.
 */
export async function verifyManifestSignature(
  options: VerifyManifestSignatureOptions,
): Promise<SignatureVerification> {
  let who =
    options.manifestPath === undefined ? "the manifest" : `manifest ${basename(options.manifestPath)}`;
  let moduleId: string | undefined;
  const fail = (code: SignatureFailureCode, message: string): SignatureVerification => ({
    ok: false,
    code,
    message: `${who}: ${message}`,
    moduleId,
  });

  let document = options.manifest;
  if (options.manifestPath !== undefined && document === undefined) {
    const read = await readManifestBytes(options.manifestPath);
    if (!read.ok) return fail(read.code, read.message);
    const parsed = parseManifest(read.bytes, { filename: options.manifestPath });
    if (!parsed.ok) return fail(parsed.code, `cannot parse the manifest: ${parsed.message}`);
    document = parsed.data;
  }
  if (isPlainObject(document) && typeof document.id === "string") {
    moduleId = document.id;
    who = `module ${JSON.stringify(moduleId)}`;
  }

  let signature = options.signature;
  const signaturePath =
    options.signaturePath ??
    (options.manifestPath === undefined ? undefined : signaturePathFor(options.manifestPath));
  if (signature === undefined) {
    if (signaturePath === undefined) return fail("manifest.signature.missing", "no signature was given");
    const read = await readManifestBytes(signaturePath);
    if (!read.ok) {
      return read.reason === "ENOENT"
        ? fail("manifest.signature.missing", `the manifest is not signed (no ${basename(signaturePath)})`)
        : fail(
            "manifest.signature.malformed",
            `cannot read the signature ${basename(signaturePath)} (${read.reason})`,
          );
    }
    signature = new TextDecoder().decode(read.bytes);
  }

  const parts = parseDetachedJws(signature);
  if (typeof parts === "string")
    return fail("manifest.signature.malformed", `the signature is malformed: ${parts}`);

  const { trustedSigners } = options;
  const signer = trustedSigners.signers.find((s) => s.kid === parts.kid);
  if (!signer) {
    if (trustedSigners.source === "key") {
      const given = trustedSigners.signers[0]?.kid ?? "none";
      return fail(
        "manifest.signature.wrong_key",
        `signed with key ${parts.kid}, not with the given key ${trustedSigners.label} (${given})`,
      );
    }
    return fail(
      "manifest.signature.untrusted_signer",
      `signed with key ${parts.kid}, which is not a trusted signer in ${trustedSigners.label}`,
    );
  }

  let payload: Uint8Array;
  try {
    payload = canonicalManifestBytes(document);
  } catch (error) {
    return fail(
      "manifest.parse.unsupported_value",
      `the manifest has no canonical JSON form: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    await flattenedVerify(
      { protected: parts.protected, payload: base64url.encode(payload), signature: parts.signature },
      signer.publicKey,
      { algorithms: [SIGNING_ALGORITHM] },
    );
  } catch (error) {
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
      return fail(
        "manifest.signature.invalid",
        `the signature by "${signer.id}" does not match the manifest: its content changed after signing`,
      );
    }
    return fail(
      "manifest.signature.malformed",
      `the signature cannot be checked: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return { ok: true, signerId: signer.id, kid: signer.kid, moduleId, document };
}

/** An OutrigError for a failed verification (what the core's `require_signed` raises). */
export function signatureFailureError(failure: Extract<SignatureVerification, { ok: false }>): OutrigError {
  return manifestError(failure.code, failure.message, failure.moduleId);
}

const DETACHED = /^([A-Za-z0-9_-]+)\.\.([A-Za-z0-9_-]+)$/;

/** Splits and checks a detached compact JWS; returns a reason string when malformed. */
function parseDetachedJws(text: string): { protected: string; signature: string; kid: string } | string {
  const trimmed = text.trim();
  if (trimmed === "") return "the signature file is empty";
  if (trimmed.length > 4096) return "longer than any manifest signature";
  const match = DETACHED.exec(trimmed);
  if (!match) {
    return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(trimmed)
      ? "it embeds a payload; expected a detached JWS (header..signature)"
      : "expected a detached compact JWS (header..signature)";
  }
  const [, protectedHeader = "", signature = ""] = match;
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(`${protectedHeader}..${signature}`) as Record<string, unknown>;
  } catch {
    return "the protected header is not base64url JSON";
  }
  if (header.alg !== SIGNING_ALGORITHM)
    return `alg must be ${SIGNING_ALGORITHM}, got ${JSON.stringify(header.alg)}`;
  if (header.typ !== undefined && header.typ !== SIGNATURE_TYPE) return `typ must be ${SIGNATURE_TYPE}`;
  if (header.crit !== undefined || header.b64 !== undefined)
    return "crit and b64 header parameters are not supported";
  if (typeof header.kid !== "string" || header.kid === "") return "the header has no kid";
  try {
    if (base64url.decode(signature).length !== ED25519_SIGNATURE_BYTES)
      return "the signature is not 64 bytes";
  } catch {
    return "the signature is not base64url";
  }
  return { protected: protectedHeader, signature, kid: header.kid };
}
