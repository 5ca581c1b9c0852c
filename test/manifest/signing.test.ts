import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { exportJWK } from "jose";
import { stringify as toToml } from "smol-toml";
import { stringify as toYaml } from "yaml";
import { OutrigError } from "../../src/errors/index.ts";
import {
  canonicalManifestBytes,
  generateSigningKeyPair,
  importPublicKey,
  keyId,
  parseManifest,
  parseSignerRegistry,
  SIGNATURE_TYPE,
  type SignatureVerification,
  signatureFailureError,
  signaturePathFor,
  signManifestDocument,
  type TrustedSigners,
  verifyManifestSignature,
  writeSigningKeyPair,
} from "../../src/manifest/index.ts";
import { ROOT } from "./helpers.ts";

const EXAMPLE = join(ROOT, "examples", "manifests", "mcp.manifest.yaml");

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "outrig-sign-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function trustKey(publicKeyPem: string, label = "release.pub"): Promise<TrustedSigners> {
  const publicKey = await importPublicKey(publicKeyPem);
  return { source: "key", label, signers: [{ id: label, kid: await keyId(publicKey), publicKey }] };
}

function registryYaml(entries: { id: string; pem: string }[]): string {
  return toYaml({ signers: entries.map((e) => ({ id: e.id, public_key: e.pem, comment: "test" })) });
}

async function signedCopy(name = "outrig.module.yaml") {
  const pair = await generateSigningKeyPair();
  const manifestPath = join(dir, name);
  const text = await readFile(EXAMPLE, "utf8");
  await writeFile(manifestPath, text);
  const parsed = parseManifest(text, { filename: name });
  if (!parsed.ok) throw new Error(parsed.message);
  const { signature, kid } = await signManifestDocument(parsed.data, pair.privateKeyPem);
  await writeFile(signaturePathFor(manifestPath), `${signature}\n`);
  return { pair, manifestPath, text, document: parsed.data, signature, kid };
}

const failed = (result: SignatureVerification) => {
  if (result.ok) throw new Error("expected the verification to fail");
  return result;
};

describe("sign → verify", () => {
  it("round-trips with a public key and with a registry", async () => {
    const { pair, manifestPath, kid } = await signedCopy();
    expect(kid).toBe(pair.kid);
    const byKey = await verifyManifestSignature({
      manifestPath,
      trustedSigners: await trustKey(pair.publicKeyPem),
    });
    expect(byKey).toMatchObject({
      ok: true,
      kid: pair.kid,
      moduleId: "acme.docs-mcp",
      signerId: "release.pub",
    });

    const registry = await parseSignerRegistry(
      registryYaml([
        { id: "someone-else", pem: (await generateSigningKeyPair()).publicKeyPem },
        { id: "release-2026", pem: pair.publicKeyPem },
      ]),
      "signers.yaml",
    );
    const byRegistry = await verifyManifestSignature({ manifestPath, trustedSigners: registry });
    expect(byRegistry).toMatchObject({ ok: true, signerId: "release-2026", moduleId: "acme.docs-mcp" });
  });

  it("writes a detached compact JWS with EdDSA, the key id and the Outrig type", async () => {
    const { signature, kid } = await signedCopy();
    expect(signature).toMatch(/^[\w-]+\.\.[\w-]{86}$/);
    const header = JSON.parse(Buffer.from(signature.split(".")[0]!, "base64url").toString());
    expect(header).toEqual({ alg: "EdDSA", typ: SIGNATURE_TYPE, kid });
  });

  it("signs the RFC 8785 canonical JSON, so the same data in another format verifies", async () => {
    const { pair, document, signature } = await signedCopy();
    const trust = await trustKey(pair.publicKeyPem);
    for (const [name, text] of [
      ["m.json", JSON.stringify(document, null, 4)],
      ["m.toml", toToml(document as Record<string, unknown>)],
      ["m.yaml", toYaml(document)],
    ] as const) {
      const path = join(dir, name);
      await writeFile(path, text);
      const result = await verifyManifestSignature({ manifestPath: path, signature, trustedSigners: trust });
      expect([name, result.ok]).toEqual([name, true]);
    }
    expect(new TextDecoder().decode(canonicalManifestBytes({ b: 1, a: [true, null, "é"] }))).toBe(
      '{"a":[true,null,"é"],"b":1}',
    );
  });

  it("accepts parsed data and an in-memory signature (how the core calls it)", async () => {
    const { pair, document, signature } = await signedCopy();
    const result = await verifyManifestSignature({
      manifest: document,
      signature,
      trustedSigners: await trustKey(pair.publicKeyPem),
    });
    expect(result.ok && result.document).toBe(document);
  });
});

describe("failures are distinct", () => {
  it("a one-byte change, a wrong key and an untrusted signer fail with distinct codes and messages naming the module", async () => {
    const { pair, manifestPath, text } = await signedCopy();
    const trust = await trustKey(pair.publicKeyPem);

    await writeFile(manifestPath, text.replace("version: 1.4.0", "version: 1.4.1"));
    const tampered = failed(await verifyManifestSignature({ manifestPath, trustedSigners: trust }));
    await writeFile(manifestPath, text);

    const other = await generateSigningKeyPair();
    const wrongKey = failed(
      await verifyManifestSignature({ manifestPath, trustedSigners: await trustKey(other.publicKeyPem) }),
    );

    const registry = await parseSignerRegistry(
      registryYaml([{ id: "ops", pem: other.publicKeyPem }]),
      "signers.yaml",
    );
    const untrusted = failed(await verifyManifestSignature({ manifestPath, trustedSigners: registry }));

    expect([tampered.code, wrongKey.code, untrusted.code]).toEqual([
      "manifest.signature.invalid",
      "manifest.signature.wrong_key",
      "manifest.signature.untrusted_signer",
    ]);
    expect(new Set([tampered.message, wrongKey.message, untrusted.message]).size).toBe(3);
    for (const failure of [tampered, wrongKey, untrusted]) {
      expect(failure.message.startsWith('module "acme.docs-mcp": ')).toBe(true);
      expect(failure.moduleId).toBe("acme.docs-mcp");
    }
    expect(tampered.message).toContain("changed after signing");
    expect(wrongKey.message).toContain("not with the given key release.pub");
    expect(untrusted.message).toContain("not a trusted signer in signers.yaml");
  });

  it("any byte flip that changes the data fails; one that only changes layout verifies", async () => {
    const pair = await generateSigningKeyPair();
    const trust = await trustKey(pair.publicKeyPem);
    const example = parseManifest(await readFile(EXAMPLE), { filename: "m.yaml" });
    if (!example.ok) throw new Error(example.message);
    const text = JSON.stringify(example.data, null, 2);
    const { signature } = await signManifestDocument(example.data, pair.privateKeyPem);
    const canonical = Buffer.from(canonicalManifestBytes(example.data)).toString();
    const outcomes = { changed: 0, layoutOnly: 0, unparseable: 0 };
    await fc.assert(
      fc.asyncProperty(fc.nat(text.length - 1), fc.integer({ min: 1, max: 255 }), async (at, delta) => {
        const bytes = Buffer.from(text);
        bytes[at] = (bytes[at]! + delta) % 256;
        const parsed = parseManifest(bytes, { format: "json" });
        if (!parsed.ok) {
          outcomes.unparseable++;
          return;
        }
        const sameData = Buffer.from(canonicalManifestBytes(parsed.data)).toString() === canonical;
        outcomes[sameData ? "layoutOnly" : "changed"]++;
        const result = await verifyManifestSignature({
          manifest: parsed.data,
          signature,
          trustedSigners: trust,
        });
        expect(result.ok).toBe(sameData);
        if (!result.ok) expect(result.code).toBe("manifest.signature.invalid");
      }),
      { numRuns: 400 },
    );
    // The property was exercised where it matters: many flips changed the data.
    expect(outcomes.changed).toBeGreaterThan(50);
  });

  it("a missing signature file is reported as missing", async () => {
    const { pair, manifestPath } = await signedCopy();
    await rm(signaturePathFor(manifestPath));
    const result = failed(
      await verifyManifestSignature({ manifestPath, trustedSigners: await trustKey(pair.publicKeyPem) }),
    );
    expect(result.code).toBe("manifest.signature.missing");
    expect(result.message).toBe(
      'module "acme.docs-mcp": the manifest is not signed (no outrig.module.yaml.sig)',
    );
  });

  it.each([
    ["empty", () => ""],
    ["garbage", () => "not a signature"],
    ["attached payload", (s: string) => s.replace("..", ".e30.")],
    [
      "other alg",
      (s: string) => `${Buffer.from('{"alg":"HS256","kid":"k"}').toString("base64url")}..${s.split("..")[1]}`,
    ],
    ["no kid", (s: string) => `${Buffer.from('{"alg":"EdDSA"}').toString("base64url")}..${s.split("..")[1]}`],
    [
      "crit header",
      (s: string) =>
        `${Buffer.from('{"alg":"EdDSA","kid":"k","crit":["b64"],"b64":false}').toString("base64url")}..${s.split("..")[1]}`,
    ],
    ["short signature", (s: string) => s.slice(0, -10)],
    ["header not JSON", (s: string) => `bm90IGpzb24..${s.split("..")[1]}`],
  ])("a malformed signature (%s) is reported as malformed", async (_name, mangle) => {
    const { pair, manifestPath, signature } = await signedCopy();
    await writeFile(signaturePathFor(manifestPath), mangle(signature));
    const result = failed(
      await verifyManifestSignature({ manifestPath, trustedSigners: await trustKey(pair.publicKeyPem) }),
    );
    expect(result.code).toBe("manifest.signature.malformed");
    expect(result.message.startsWith('module "acme.docs-mcp": the signature is malformed: ')).toBe(true);
  });

  it("an unreadable or unparseable manifest is reported as such, never thrown", async () => {
    const trust = await trustKey((await generateSigningKeyPair()).publicKeyPem);
    const missing = failed(
      await verifyManifestSignature({ manifestPath: join(dir, "nope.yaml"), trustedSigners: trust }),
    );
    expect(missing.code).toBe("manifest.load.io_error");
    await writeFile(join(dir, "bad.json"), "{");
    const bad = failed(
      await verifyManifestSignature({ manifestPath: join(dir, "bad.json"), trustedSigners: trust }),
    );
    expect(bad.code).toBe("manifest.parse.syntax");
    expect(bad.message).toContain("manifest bad.json");
    const none = failed(await verifyManifestSignature({ manifest: { id: "x" }, trustedSigners: trust }));
    expect(none.code).toBe("manifest.signature.missing");
  });

  it("becomes an OutrigError for the core with the module id in the details", async () => {
    const { manifestPath } = await signedCopy();
    const other = await generateSigningKeyPair();
    const failure = failed(
      await verifyManifestSignature({ manifestPath, trustedSigners: await trustKey(other.publicKeyPem) }),
    );
    const error = signatureFailureError(failure);
    expect(error).toBeInstanceOf(OutrigError);
    expect(error.code).toBe("manifest.signature.wrong_key");
    expect(error.category).toBe("PERMISSION_DENIED");
    expect(error.details).toEqual({ module_id: "acme.docs-mcp" });
    expect(error.message).toBe(failure.message);
  });
});

describe("keys and registries", () => {
  it("keygen writes a 0600 private key and a public key, and refuses to overwrite", async () => {
    const prefix = join(dir, "release");
    const written = await writeSigningKeyPair(prefix);
    expect((await stat(written.privateKeyPath)).mode & 0o777).toBe(0o600);
    expect((await stat(written.publicKeyPath)).mode & 0o777).toBe(0o644);
    expect(await readFile(written.privateKeyPath, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const pub = await readFile(written.publicKeyPath, "utf8");
    expect(pub).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(written.publicKeyPem).toBe(pub);
    expect(await keyId(await importPublicKey(pub))).toBe(written.kid);
    await expect(writeSigningKeyPair(prefix)).rejects.toMatchObject({ code: "EEXIST" });
    const again = await writeSigningKeyPair(prefix, { force: true });
    expect(again.kid).not.toBe(written.kid);
    expect((await stat(again.privateKeyPath)).mode & 0o777).toBe(0o600);
  });

  it("reads registries in JSON, TOML and YAML, as a list or under signers, with PEM or JWK keys", async () => {
    const a = await generateSigningKeyPair();
    const b = await generateSigningKeyPair();
    const jwk = await exportJWK(await importPublicKey(b.publicKeyPem));
    const entries = [
      { id: "a", public_key: a.publicKeyPem, comment: "first" },
      { id: "b", public_key: jwk },
    ];
    for (const [name, text] of [
      ["s.json", JSON.stringify({ signers: entries })],
      ["s.yaml", toYaml(entries)],
      ["s.toml", toToml({ signers: entries })],
    ] as const) {
      const trust = await parseSignerRegistry(text, name);
      expect(trust.source).toBe("registry");
      expect(trust.signers.map((s) => [s.id, s.kid])).toEqual([
        ["a", a.kid],
        ["b", b.kid],
      ]);
      expect(trust.signers[0]?.comment).toBe("first");
    }
  });

  it.each([
    ["not a list", "signers: 5\n", /expected \{ signers/],
    ["unknown field", "signers:\n  - { id: a, public_key: x, trust: full }\n", /expected/],
    ["bad id", "signers:\n  - { id: 'has space', public_key: x }\n", /expected/],
    [
      "bad key",
      "signers:\n  - { id: a, public_key: not-a-key }\n",
      /signer "a": public_key is not an Ed25519 public key/,
    ],
    ["syntax", "signers: [\n", /line/],
  ])("refuses a registry with %s", async (_name, text, message) => {
    const error = await parseSignerRegistry(text, "signers.yaml").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutrigError);
    expect((error as OutrigError).code).toBe("manifest.signers.invalid");
    expect((error as OutrigError).message).toMatch(message);
  });

  it("refuses duplicate ids and duplicate keys in a registry", async () => {
    const a = await generateSigningKeyPair();
    const b = await generateSigningKeyPair();
    await expect(
      parseSignerRegistry(
        registryYaml([
          { id: "x", pem: a.publicKeyPem },
          { id: "x", pem: b.publicKeyPem },
        ]),
        "s.yaml",
      ),
    ).rejects.toThrow(/signer id "x" appears twice/);
    await expect(
      parseSignerRegistry(
        registryYaml([
          { id: "x", pem: a.publicKeyPem },
          { id: "y", pem: a.publicKeyPem },
        ]),
        "s.yaml",
      ),
    ).rejects.toThrow(/signers "x" and "y" have the same key/);
  });

  it("refuses keys that are not Ed25519 public keys", async () => {
    const a = await generateSigningKeyPair();
    await expect(importPublicKey(a.privateKeyPem)).rejects.toMatchObject({ code: "manifest.key.invalid" });
    await expect(importPublicKey('{"kty":"OKP","crv":"X25519","x":"AAAA"}')).rejects.toMatchObject({
      code: "manifest.key.invalid",
    });
    await expect(signManifestDocument({ id: "x" }, a.publicKeyPem)).rejects.toMatchObject({
      code: "manifest.key.invalid",
    });
  });
});
