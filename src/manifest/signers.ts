/**
 * Who may sign manifests: one public key (`--pubkey`) or a signer registry
 * (`--signers`). Keys are Ed25519, identified by their RFC 7638 JWK thumbprint (the
 * `kid` a signature carries), so a registry entry cannot claim someone else's kid.
 */
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { type CryptoKey, calculateJwkThumbprint, exportJWK, importJWK, importSPKI, type JWK } from "jose";
import { z } from "zod";
import { manifestError } from "./errors.ts";
import { parseManifest } from "./parse.ts";

export const SIGNING_ALGORITHM = "EdDSA";

export interface TrustedSigner {
  /** Human-chosen name from the registry (or the key file's name for --pubkey). */
  id: string;
  /** RFC 7638 SHA-256 thumbprint of the public key. */
  kid: string;
  publicKey: CryptoKey;
  comment?: string;
}

/**
 * The keys a verification trusts. `source` decides the wording of a kid mismatch:
 * against one given key it is "wrong key", against a registry "untrusted signer".
 */
export interface TrustedSigners {
  source: "key" | "registry";
  /** Where the trust came from, for messages (a file name). */
  label: string;
  signers: TrustedSigner[];
}

/** Imports an Ed25519 public key from SPKI PEM or a JWK (object or JSON text). */
export async function importPublicKey(key: string | JWK): Promise<CryptoKey> {
  try {
    const text = typeof key === "string" ? key.trim() : undefined;
    if (text?.startsWith("-----BEGIN PUBLIC KEY-----"))
      return await importSPKI(text, SIGNING_ALGORITHM, { extractable: true });
    const jwk = (text === undefined ? key : JSON.parse(text)) as JWK;
    if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string" || "d" in jwk) {
      throw new Error("not an Ed25519 public JWK");
    }
    const imported = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, SIGNING_ALGORITHM, {
      extractable: true,
    });
    if (imported instanceof Uint8Array) throw new Error("not an asymmetric key");
    return imported;
  } catch (error) {
    throw manifestError(
      "manifest.key.invalid",
      `not an Ed25519 public key (SPKI PEM or OKP JWK): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * The key id a signature made with this key pair carries: the RFC 7638 thumbprint of the
 * public key. Works on either half (an OKP private JWK carries the public `x`); the key
 * must be extractable.
 */
export async function keyId(key: CryptoKey): Promise<string> {
  const jwk = await exportJWK(key);
  return calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x } as JWK, "sha256");
}

/** Trust exactly one public key, read from a PEM or JWK file. */
export async function trustPublicKeyFile(path: string): Promise<TrustedSigners> {
  const text = await readText(path, "public key");
  const publicKey = await importPublicKey(text);
  return {
    source: "key",
    label: basename(path),
    signers: [{ id: basename(path), kid: await keyId(publicKey), publicKey }],
  };
}

const SIGNER_ID = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

const SignerEntrySchema = z.strictObject({
  id: z.string().regex(SIGNER_ID),
  public_key: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  comment: z.string().max(1024).optional(),
});

/** `{ signers: [...] }`, or the bare list. */
export const SignerRegistrySchema = z.union([
  z.strictObject({ $schema: z.string().optional(), signers: z.array(SignerEntrySchema) }),
  z.array(SignerEntrySchema),
]);

/** Parses a signer registry (JSON, TOML or YAML text); ids and keys must be unique. */
export async function parseSignerRegistry(text: string, filename: string): Promise<TrustedSigners> {
  const invalid = (message: string) =>
    manifestError("manifest.signers.invalid", `signer registry ${basename(filename)}: ${message}`);
  const parsed = parseManifest(text, { filename });
  if (!parsed.ok) throw invalid(parsed.message);
  const result = SignerRegistrySchema.safeParse(parsed.data);
  if (!result.success) {
    const first = result.error.issues[0];
    throw invalid(
      `expected { signers: [{ id, public_key, comment? }] }; problem at ${first?.path.join(".") || "top level"}: ${first?.message ?? "invalid"}`,
    );
  }
  const entries = Array.isArray(result.data) ? result.data : result.data.signers;
  const signers: TrustedSigner[] = [];
  for (const entry of entries) {
    let publicKey: CryptoKey;
    try {
      publicKey = await importPublicKey(entry.public_key as string | JWK);
    } catch {
      throw invalid(`signer "${entry.id}": public_key is not an Ed25519 public key (SPKI PEM or OKP JWK)`);
    }
    const kid = await keyId(publicKey);
    if (signers.some((s) => s.id === entry.id)) throw invalid(`signer id "${entry.id}" appears twice`);
    const sameKey = signers.find((s) => s.kid === kid);
    if (sameKey) throw invalid(`signers "${sameKey.id}" and "${entry.id}" have the same key`);
    signers.push({
      id: entry.id,
      kid,
      publicKey,
      ...(entry.comment === undefined ? {} : { comment: entry.comment }),
    });
  }
  return { source: "registry", label: basename(filename), signers };
}

export async function loadSignerRegistry(path: string): Promise<TrustedSigners> {
  return parseSignerRegistry(await readText(path, "signer registry"), path);
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw manifestError("manifest.load.io_error", `cannot read the ${what} ${basename(path)} (${reason})`);
  }
}
