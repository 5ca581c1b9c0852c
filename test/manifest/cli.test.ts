/** `outrig module …` run in-process through main(), with console output captured. */

import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jest } from "@jest/globals";
import { main } from "../../src/cli/main.ts";
import { MANIFEST_SCHEMA_FILE } from "../../src/manifest/index.ts";
import { FIXTURES, ROOT } from "./helpers.ts";

let out: string[];
let err: string[];
beforeEach(() => {
  out = [];
  err = [];
  jest.spyOn(console, "log").mockImplementation((...args: unknown[]) => void out.push(args.join(" ")));
  jest.spyOn(console, "error").mockImplementation((...args: unknown[]) => void err.push(args.join(" ")));
});
afterEach(() => jest.restoreAllMocks());

const run = (...argv: string[]) => main(["module", ...argv]);
const stdout = () => out.join("\n");
const stderr = () => err.join("\n");
const fixture = (...parts: string[]) => join(FIXTURES, ...parts);
const example = (name: string) => join(ROOT, "examples", "manifests", name);

describe("outrig module validate", () => {
  it("exits 0 on a valid manifest and prints a verdict", async () => {
    expect(await run("validate", example("mcp.manifest.yaml"))).toBe(0);
    expect(stdout()).toContain("module acme.docs-mcp 1.4.0, profile mcp");
    expect(stdout()).toContain("result: valid (0 errors, 0 warnings, 0 advisories)");
  });

  it("exits 0 with warnings, 1 with --strict-warnings", async () => {
    expect(await run("validate", fixture("warning", "unknown-keys.yaml"))).toBe(0);
    expect(stdout()).toMatch(
      /warning\s+UNKNOWN_KEY\s+\$\.helth\s+unknown key "helth" \(did you mean "health"\?\)/,
    );
    expect(await run("validate", fixture("warning", "unknown-keys.yaml"), "--strict-warnings")).toBe(1);
    expect(stdout()).toContain("valid, but warnings fail under --strict-warnings");
  });

  it("advisories never fail, even strict", async () => {
    expect(await run("validate", fixture("valid", "advisories.toml"), "--strict-warnings")).toBe(0);
  });

  it("exits 1 on errors, listing code and path", async () => {
    expect(await run("validate", fixture("invalid", "network-without-egress.yaml"))).toBe(1);
    expect(stdout()).toMatch(/error\s+NETWORK_WITHOUT_EGRESS\s+\$\.resources\.requires_network/);
    expect(stdout()).toContain("result: invalid (1 error, 0 warnings, 0 advisories)");
  });

  it("exits 2 on a parse failure, with line and column, and on a missing file", async () => {
    expect(await run("validate", fixture("unparseable", "trailing-comma.json"))).toBe(2);
    expect(stderr()).toContain("trailing-comma.json: cannot parse as json: line 4, column 1:");
    expect(stderr()).toContain("[manifest.parse.syntax]");
    expect(await run("validate", fixture("nope.yaml"))).toBe(2);
    expect(stderr()).toContain(`${fixture("nope.yaml")}: cannot read (ENOENT) [manifest.load.io_error]`);
  });

  it("prints a parse failure once: each position and each parser tried appear exactly once", async () => {
    const file = fixture("unparseable", "garbage.conf");
    expect(await run("validate", file)).toBe(2);
    expect(stderr()).toBe(
      `${file}: not valid JSON, TOML or YAML (json: line 1, column 1: unexpected "t", expected a value; ` +
        "toml: line 1, column 6: illegal character in key; yaml: line 2, column 1: " +
        "Flow sequence in block collection must be sufficiently indented and end with a ]) [manifest.parse.syntax]",
    );
    const json = fixture("unparseable", "trailing-comma.json");
    expect(await run("validate", json)).toBe(2);
    expect(err.at(-1)).toBe(
      `${json}: cannot parse as json: line 4, column 1: expected a key in double quotes, found "}" [manifest.parse.syntax]`,
    );
  });

  it("an unknown extension says which parsers it tried", async () => {
    expect(await run("validate", fixture("valid", "unknown-extension.conf"))).toBe(0);
    expect(stdout()).toContain('note: "');
    expect(stdout()).toContain("tried json, parsed as toml");
  });

  it("--json prints the report; --print-normalized adds the manifest with defaults", async () => {
    expect(await run("validate", fixture("valid", "minimal.yaml"), "--json", "--print-normalized")).toBe(0);
    const report = JSON.parse(stdout());
    expect(report).toMatchObject({
      ok: true,
      passed: true,
      format: "yaml",
      counts: { error: 0, warning: 0, advisory: 1 },
      issues: [{ code: "DESCRIPTION_MISSING", severity: "advisory", path: "$.description" }],
    });
    expect(report.manifest.health).toEqual({
      poll_interval_ms: 5000,
      failure_threshold: 3,
      grace_period_ms: 10000,
      startup_timeout_ms: 30000,
    });
    expect(stdout()).not.toContain("\n");
  });

  it("--json --pretty indents; parse failures are JSON too", async () => {
    expect(await run("validate", fixture("unparseable", "bad.yaml"), "--json", "--pretty")).toBe(2);
    const report = JSON.parse(stdout());
    expect(report).toMatchObject({
      ok: false,
      passed: false,
      error: { code: "manifest.parse.syntax", format: "yaml" },
    });
    expect(stdout()).toContain('\n  "ok": false');
  });

  it("--print-normalized prints the normalized manifest after a human report", async () => {
    expect(await run("validate", fixture("valid", "accelerator-alias.yaml"), "--print-normalized")).toBe(0);
    expect(stdout()).toContain('"accelerator": "gpu_cuda"');
  });

  it.each([
    [["validate"]],
    [["validate", "a.yaml", "b.yaml"]],
    [["validate", "a.yaml", "--pretty"]],
    [["validate", "a.yaml", "--bogus"]],
    [["frobnicate"]],
    [[]],
  ])("usage mistakes exit 2: %j", async (argv) => {
    expect(await run(...argv)).toBe(2);
    expect(stderr()).toContain("Usage: outrig module");
  });

  it("help shows a subcommand's usage", async () => {
    expect(await run("help", "verify")).toBe(0);
    expect(stdout()).toMatch(/^Usage: outrig module verify <manifest>/);
    expect(await main(["module", "--help"])).toBe(0);
    expect(stdout()).toContain("Subcommands:");
  });
});

describe("outrig module lint", () => {
  it("prints a table and exits 0 when every manifest passes", async () => {
    expect(await run("lint", join(ROOT, "examples"))).toBe(0);
    const lines = stdout().split("\n");
    expect(lines[0]).toMatch(/^MANIFEST\s+FORMAT\s+ERRORS\s+WARNINGS\s+ADVISORIES\s+STATUS$/);
    expect(stdout()).toMatch(/manifests\/mcp\.manifest\.yaml\s+yaml\s+0\s+0\s+0\s+ok/);
    expect(stdout()).toContain("6 manifests: 6 passed, 0 failed, 0 unreadable");
  });

  it("finds outrig.module.* and *.manifest.* only, and exits by the worst result", async () => {
    const dir = await mkdtemp(join(tmpdir(), "outrig-lint-"));
    try {
      await copyFile(example("mcp.manifest.yaml"), join(dir, "outrig.module.yaml"));
      await copyFile(fixture("warning", "consent.yaml"), join(dir, "warn.manifest.yaml"));
      await copyFile(fixture("invalid", "backoff.toml"), join(dir, "ignored.toml"));
      expect(await run("lint", dir)).toBe(0);
      expect(stdout()).toContain("2 manifests: 2 passed, 0 failed, 0 unreadable");
      expect(stdout()).toMatch(/warn\.manifest\.yaml:\n\s+warning\s+ACCELERATOR_WITHOUT_GPU_CONSENT/);

      expect(await run("lint", dir, "--strict-warnings")).toBe(1);
      await copyFile(fixture("invalid", "backoff.toml"), join(dir, "bad.manifest.toml"));
      expect(await run("lint", dir)).toBe(1);
      await copyFile(fixture("unparseable", "bad.yaml"), join(dir, "broken.manifest.yaml"));
      expect(await run("lint", dir, "--json")).toBe(2);
      const json = JSON.parse(out.at(-1)!);
      expect(json.summary).toEqual({ total: 4, passed: 2, failed: 1, unreadable: 1 });
      expect(json.files.map((f: { file: string; status: string }) => [f.file, f.status])).toEqual([
        ["bad.manifest.toml", "fail"],
        ["broken.manifest.yaml", "unreadable"],
        ["outrig.module.yaml", "ok"],
        ["warn.manifest.yaml", "ok"],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("an empty tree passes with a note; a missing directory exits 2", async () => {
    const dir = await mkdtemp(join(tmpdir(), "outrig-lint-"));
    try {
      expect(await run("lint", dir)).toBe(0);
      expect(stdout()).toContain("no manifests under");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(await run("lint", join(dir, "gone"))).toBe(2);
  });
});

describe("outrig module schema", () => {
  it("prints the committed JSON Schema", async () => {
    expect(await run("schema")).toBe(0);
    expect(`${stdout()}\n`).toBe(await readFile(join(ROOT, MANIFEST_SCHEMA_FILE), "utf8"));
  });
});

describe("outrig module keygen / sign / verify", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "outrig-cli-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function setup() {
    const manifest = join(dir, "outrig.module.yaml");
    await copyFile(example("mcp.manifest.yaml"), manifest);
    expect(await run("keygen", "--out", join(dir, "release"))).toBe(0);
    expect(await run("keygen", "--out", join(dir, "other"))).toBe(0);
    const registry = join(dir, "signers.yaml");
    await writeFile(
      registry,
      `signers:\n  - id: release\n    public_key: |\n${(await readFile(join(dir, "release.pub"), "utf8")).replace(/^/gm, "      ")}`,
    );
    const otherRegistry = join(dir, "other-signers.json");
    await writeFile(
      otherRegistry,
      JSON.stringify({
        signers: [{ id: "other", public_key: await readFile(join(dir, "other.pub"), "utf8") }],
      }),
    );
    return { manifest, registry, otherRegistry };
  }

  it("keygen prints the key id and a registry snippet, writes 0600, refuses to overwrite", async () => {
    expect(await run("keygen", "--out", join(dir, "k"))).toBe(0);
    expect(stdout()).toMatch(/key id:\s+[\w-]{43}/);
    expect(stdout()).toContain("-----BEGIN PUBLIC KEY-----");
    expect((await stat(join(dir, "k.key"))).mode & 0o777).toBe(0o600);
    expect(await run("keygen", "--out", join(dir, "k"))).toBe(2);
    expect(stderr()).toContain("refusing to overwrite (use --force)");
    expect(await run("keygen", "--out", join(dir, "k"), "--force")).toBe(0);
    expect(await run("keygen")).toBe(2);
  });

  it("sign then verify with --pubkey and with --signers", async () => {
    const { manifest, registry } = await setup();
    expect(await run("sign", manifest, "--key", join(dir, "release.key"))).toBe(0);
    expect(stdout()).toContain(`signed module "acme.docs-mcp" 1.4.0 with key`);
    expect(await readFile(`${manifest}.sig`, "utf8")).toMatch(/^[\w-]+\.\.[\w-]+\n$/);
    expect(await run("verify", manifest, "--pubkey", join(dir, "release.pub"))).toBe(0);
    expect(await run("verify", manifest, "--signers", registry)).toBe(0);
    expect(stdout()).toContain('verified: module "acme.docs-mcp" signed by "release"');
    expect(await run("verify", manifest, "--signers", registry, "--json")).toBe(0);
    expect(JSON.parse(out.at(-1)!)).toMatchObject({
      ok: true,
      module_id: "acme.docs-mcp",
      signer_id: "release",
    });
  });

  it("--out and --signature place the signature elsewhere", async () => {
    const { manifest } = await setup();
    const sig = join(dir, "elsewhere.jws");
    expect(await run("sign", manifest, "--key", join(dir, "release.key"), "--out", sig)).toBe(0);
    expect(await run("verify", manifest, "--pubkey", join(dir, "release.pub"))).toBe(1);
    expect(stderr()).toContain("[manifest.signature.missing]");
    expect(await run("verify", manifest, "--pubkey", join(dir, "release.pub"), "--signature", sig)).toBe(0);
  });

  it("tampered, wrong key and untrusted signer each exit 1 with their own code", async () => {
    const { manifest, otherRegistry } = await setup();
    expect(await run("sign", manifest, "--key", join(dir, "release.key"))).toBe(0);

    expect(await run("verify", manifest, "--pubkey", join(dir, "other.pub"))).toBe(1);
    expect(err.at(-1)).toMatch(
      /^not verified: module "acme.docs-mcp": signed with key .* \[manifest\.signature\.wrong_key\]$/,
    );

    expect(await run("verify", manifest, "--signers", otherRegistry)).toBe(1);
    expect(err.at(-1)).toMatch(
      /not a trusted signer in other-signers\.json \[manifest\.signature\.untrusted_signer\]$/,
    );

    const text = await readFile(manifest, "utf8");
    await writeFile(manifest, text.replace("memory_mb: 256", "memory_mb: 257"));
    expect(await run("verify", manifest, "--pubkey", join(dir, "release.pub"))).toBe(1);
    expect(err.at(-1)).toMatch(/changed after signing \[manifest\.signature\.invalid\]$/);
  });

  it("sign refuses an invalid manifest (exit 1) and a bad key (exit 2)", async () => {
    await setup();
    expect(await run("sign", fixture("invalid", "backoff.toml"), "--key", join(dir, "release.key"))).toBe(1);
    expect(stderr()).toContain("refusing to sign an invalid manifest");
    expect(stderr()).toContain("BACKOFF_MAX_LT_INITIAL");
    const manifest = join(dir, "outrig.module.yaml");
    expect(await run("sign", manifest, "--key", join(dir, "release.pub"))).toBe(2);
    expect(stderr()).toContain("not an Ed25519 private key");
    expect(await run("sign", manifest, "--key", join(dir, "missing.key"))).toBe(2);
    expect(await run("sign", manifest)).toBe(2);
  });

  it("verify needs exactly one trust source, and a readable one", async () => {
    const { manifest, registry } = await setup();
    expect(await run("verify", manifest)).toBe(2);
    expect(await run("verify", manifest, "--pubkey", join(dir, "release.pub"), "--signers", registry)).toBe(
      2,
    );
    expect(await run("verify", manifest, "--signers", join(dir, "missing.yaml"))).toBe(2);
    await writeFile(join(dir, "bad-signers.yaml"), "signers: nope\n");
    expect(await run("verify", manifest, "--signers", join(dir, "bad-signers.yaml"))).toBe(2);
    expect(stderr()).toContain("[manifest.signers.invalid]");
    expect(await run("verify", join(dir, "missing.yaml"), "--signers", registry)).toBe(2);
  });
});
