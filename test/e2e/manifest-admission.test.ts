/**
 * Manifests at launch, with real module processes: `security.require_signed` refuses
 * unsigned, tampered and untrusted manifests by name (never spawning them) while the
 * other modules serve; a module whose descriptor disagrees with its manifest is
 * refused before Initialize.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { validateConfig } from "../../src/core/config/load.ts";
import { Core } from "../../src/core/core.ts";
import {
  generateSigningKeyPair,
  parseManifest,
  type SigningKeyPair,
  signManifestDocument,
} from "../../src/manifest/index.ts";
import {
  coreFetch,
  ECHO_MAIN,
  FAST,
  fixtureCalls,
  invokeJson,
  RAW_MODULE,
  ROOT,
  useCores,
  waitForState,
} from "../support/harness.ts";

let dir: string;
const core = useCores();
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "outrig-adm-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `<dir>/<name>/outrig.module.yaml`; returns its path. */
function writeManifest(name: string, manifest: Record<string, unknown>): string {
  mkdirSync(join(dir, name), { recursive: true });
  const path = join(dir, name, "outrig.module.yaml");
  writeFileSync(path, stringify(manifest));
  return path;
}

/** The echo module's manifest: what its descriptor says (modules/examples/echo). */
function echoManifest(id = "echo"): Record<string, unknown> {
  return {
    id,
    version: "0.1.0",
    description: "Echoes requests.",
    profile: "custom",
    spi: { min: "1.0", max: "1.0" },
    entrypoint: { command: "node", args: [ECHO_MAIN] },
    capabilities: ["echo", "streaming"],
  };
}

/** A raw fixture module that logs every RPC it receives to `log`. */
function rawManifest(
  id: string,
  log: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    version: "1.0.0",
    description: "The raw fixture.",
    profile: "custom",
    spi: { min: "1.0", max: "1.0" },
    entrypoint: { command: "node", args: [RAW_MODULE], env: { FIXTURE_MODE: "healthy", FIXTURE_LOG: log } },
    ...overrides,
  };
}

async function sign(path: string, key: SigningKeyPair): Promise<void> {
  const parsed = parseManifest(readFileSync(path), { filename: path });
  if (!parsed.ok) throw new Error(parsed.message);
  writeFileSync(`${path}.sig`, `${(await signManifestDocument(parsed.data, key.privateKeyPem)).signature}\n`);
}

function writeRegistry(key: SigningKeyPair): string {
  const path = join(dir, "signers.yaml");
  writeFileSync(path, stringify({ signers: [{ id: "release", public_key: key.publicKeyPem }] }));
  return path;
}

describe("security.require_signed", () => {
  test("refuses unsigned, tampered, untrusted and manifest-less modules by name; signed ones serve", async () => {
    const trusted = await generateSigningKeyPair();
    const stranger = await generateSigningKeyPair();
    const logs = Object.fromEntries(
      ["unsigned", "tampered", "untrusted"].map((id) => [id, join(dir, `${id}.log`)]),
    );

    const echo = writeManifest("echo", echoManifest());
    await sign(echo, trusted);
    const unsigned = writeManifest("unsigned", rawManifest("unsigned", logs.unsigned!));
    const tampered = writeManifest("tampered", rawManifest("tampered", logs.tampered!));
    await sign(tampered, trusted);
    // One byte: "raw" → "caw" in the description, after signing.
    writeFileSync(tampered, readFileSync(tampered, "utf8").replace("The raw fixture.", "The caw fixture."));
    const untrusted = writeManifest("untrusted", rawManifest("untrusted", logs.untrusted!));
    await sign(untrusted, stranger);

    const c = await core({
      security: { require_signed: true, trusted_signers: writeRegistry(trusted) },
      modules: [
        { manifest: echo, ...FAST },
        { manifest: unsigned, ...FAST },
        { manifest: tampered, ...FAST },
        { manifest: untrusted, ...FAST },
        { id: "nomanifest", command: "node", args: [ECHO_MAIN], ...FAST },
      ],
    });

    // The signed module starts from its manifest's entrypoint alone and serves.
    await waitForState(c, "echo", "ready");
    const res = await invokeJson(c.url, "echo", "echo", { signed: true });
    expect(res.status).toBe(200);
    expect(res.body.echo).toEqual({ signed: true });

    const expected: Record<string, RegExp> = {
      unsigned:
        /^refused by security\.require_signed: module "unsigned": the manifest is not signed \(no outrig\.module\.yaml\.sig\) \[manifest\.signature\.missing\]$/,
      tampered:
        /^refused by security\.require_signed: module "tampered": the signature by "release" does not match the manifest: its content changed after signing \[manifest\.signature\.invalid\]$/,
      untrusted:
        /^refused by security\.require_signed: module "untrusted": signed with key \S+, which is not a trusted signer in signers\.yaml \[manifest\.signature\.untrusted_signer\]$/,
      nomanifest:
        /^refused by security\.require_signed: module "nomanifest": has no manifest .*only modules with a signed manifest may run \[manifest\.signature\.missing\]$/,
    };
    const messages = new Set<string>();
    for (const [id, pattern] of Object.entries(expected)) {
      const status = c.core.supervisor.get(id)!;
      expect(status.state).toBe("failed");
      expect(status.lastError?.message).toMatch(pattern);
      messages.add(status.lastError!.message);
      // Never spawned: no instance, no restart, and no RPC ever reached the process.
      expect(status.instances).toEqual([]);
      expect(status.restarts.total).toBe(0);
      if (logs[id]) expect(fixtureCalls(logs[id])).toEqual([]);
      // An error line in the core's log, tagged with the module.
      expect(c.entries().some((e) => e.level === "error" && e.module_id === id && pattern.test(e.msg))).toBe(
        true,
      );
      // The admin API (and so `outrig status`) shows the same.
      const admin = (await (await coreFetch(`${c.url}/admin/modules/${id}`)).json()) as {
        module: { state: string; lastError: { message: string } };
      };
      expect(admin.module.state).toBe("failed");
      expect(admin.module.lastError.message).toMatch(pattern);
    }
    expect(messages.size).toBe(4);

    // No admin operation launches a refused module.
    const restart = await coreFetch(`${c.url}/admin/modules/tampered/restart`, { method: "POST" });
    expect(((await restart.json()) as { error: { code: string } }).error.code).toBe(
      "manifest.signature.invalid",
    );
    expect(c.core.supervisor.get("tampered")!.instances).toEqual([]);

    // Readiness names the refusal; the signed module keeps serving.
    const ready = (await (await coreFetch(`${c.url}/readyz`)).json()) as {
      modules: Array<{ id: string; state: string; reason?: string }>;
    };
    expect(ready.modules.find((m) => m.id === "untrusted")?.reason).toMatch(/untrusted_signer/);
    expect((await invokeJson(c.url, "echo", "echo", {})).status).toBe(200);
  });

  test("a signer registry that cannot be read stops the core, naming the key", async () => {
    const config = validateConfig(
      { server: { port: 0 }, security: { require_signed: true, trusted_signers: join(dir, "nope.yaml") } },
      "test-config",
      ROOT,
    );
    await expect(
      Core.start({ config, home: join(dir, "home"), logDestination: { write: () => true } }),
    ).rejects.toThrow(/^security\.trusted_signers: cannot read the signer registry nope\.yaml \(ENOENT\)$/);
  });
});

describe("descriptor against manifest", () => {
  test("a module whose descriptor disagrees with its manifest is refused before Initialize, for good", async () => {
    const log = join(dir, "calls.log");
    const manifest = writeManifest(
      "liar",
      rawManifest("liar", log, { version: "2.0.0", profile: "mcp", capabilities: ["tools"] }),
    );
    const c = await core({ modules: [{ manifest, ...FAST }] });
    const status = await waitForState(c, "liar", "failed");
    const message = status.lastError!.message;
    expect(message).toMatch(
      /^module "liar" \(instance liar-1\) does not match its manifest outrig\.module\.yaml: /,
    );
    expect(message).toContain(
      'DESCRIPTOR_VERSION_MISMATCH at $.module_version: descriptor says version "1.0.0", manifest says "2.0.0"',
    );
    expect(message).toContain(
      "DESCRIPTOR_PROFILE_MISMATCH at $.profile: descriptor says profile custom, manifest says mcp",
    );
    expect(message).toMatch(/refusing before Initialize; not restarting$/);
    // Only the descriptor was read: Initialize and Invoke never reached the module.
    expect(fixtureCalls(log)).toEqual(["GetDescriptor"]);
    expect(status.restarts.total).toBe(0);
  });

  test("a descriptor claiming a capability the manifest does not declare is refused", async () => {
    // The echo module claims echo and streaming; this manifest declares only echo.
    const manifest = writeManifest("echo", { ...echoManifest(), capabilities: ["echo"] });
    const c = await core({ modules: [{ manifest, ...FAST }] });
    const status = await waitForState(c, "echo", "failed");
    expect(status.lastError?.message).toContain(
      'DESCRIPTOR_CAPABILITY_UNDECLARED at $.capabilities[1]: capability "streaming" is not declared in the manifest (declared: echo)',
    );
    expect(status.instances).toEqual([]);
  });

  test("a module that agrees with its manifest starts from the manifest alone", async () => {
    const manifest = writeManifest("echo", echoManifest());
    const c = await core({ modules: [{ manifest, ...FAST }] });
    await c.core.waitReady(10_000);
    const status = c.core.supervisor.get("echo")!;
    expect(status.version).toBe("0.1.0");
    expect((await invokeJson(c.url, "echo", "echo", { from: "manifest" })).body.echo).toEqual({
      from: "manifest",
    });
  });
});
