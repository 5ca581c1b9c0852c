/**
 * Manifests in the core's config: the entrypoint, health and restart come from the
 * manifest unless the config sets them; ids must agree; a broken manifest is a
 * ConfigError naming the file, the key and the manifest's issues; `security`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { ConfigError, loadConfigFile, validateConfig } from "../../src/core/config/load.ts";
import type { SupervisedModuleConfig } from "../../src/core/config/schema.ts";
import { HEALTH_DEFAULTS, MAX_MANIFEST_BYTES } from "../../src/manifest/index.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "outrig-cfg-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function manifest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "demo",
    version: "1.2.3",
    description: "A demo.",
    profile: "custom",
    spi: { min: "1.0", max: "1.0" },
    entrypoint: {
      command: "node",
      args: ["main.ts", "./lib/x.js"],
      env: { MODE: "manifest", ONLY_MANIFEST: "1" },
    },
    health: { poll_interval_ms: 2000, failure_threshold: 5, grace_period_ms: 4000, startup_timeout_ms: 9000 },
    restart: { max_restarts: 7, window_ms: 60_000, backoff: { initial_ms: 100, max_ms: 1000 } },
    ...overrides,
  };
}

/** Writes `mods/demo/outrig.module.yaml` and a config naming it; returns the config path. */
function writeFiles(
  entry: Record<string, unknown>,
  man: Record<string, unknown> = manifest(),
  extra = {},
): string {
  const sub = join(dir, "mods", "demo");
  mkdirSync(sub, { recursive: true });
  writeFileSync(join(sub, "outrig.module.yaml"), stringify(man));
  const config = join(dir, "outrig.yaml");
  writeFileSync(
    config,
    stringify({ modules: [{ manifest: "mods/demo/outrig.module.yaml", ...entry }], ...extra }),
  );
  return config;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

function supervised(path: string): SupervisedModuleConfig {
  return loadConfigFile(path).modules[0] as SupervisedModuleConfig;
}

test("the entrypoint, health and restart come from the manifest; relative paths resolve against it", () => {
  const m = supervised(writeFiles({}));
  const sub = join(dir, "mods", "demo");
  expect(m.id).toBe("demo");
  expect(m.command).toBe("node");
  // A bare argument runs relative to the working directory, which is the manifest's.
  expect(m.args).toEqual(["main.ts", join(sub, "lib", "x.js")]);
  expect(m.workdir).toBe(sub);
  expect(m.env).toEqual({ MODE: "manifest", ONLY_MANIFEST: "1" });
  expect(m.health).toEqual({
    poll_interval_ms: 2000,
    failure_threshold: 5,
    grace_period_ms: 4000,
    startup_timeout_ms: 9000,
  });
  expect(m.restart).toEqual({
    max_restarts: 7,
    window_ms: 60_000,
    backoff: { initial_ms: 100, max_ms: 1000, multiplier: 2, jitter: 0.2 },
  });
  expect(m.manifest).toBe(join(sub, "outrig.module.yaml"));
  expect(m.loadedManifest?.manifest.version).toBe("1.2.3");
  expect(m.loadedManifest?.document).toMatchObject({ id: "demo", version: "1.2.3" });
});

test("what the config sets wins, key by key; env is merged", () => {
  const m = supervised(
    writeFiles({
      id: "demo",
      args: ["./other.js"],
      env: { MODE: "config" },
      workdir: "work",
      health: { poll_interval_ms: 300 },
      restart: { backoff: { initial_ms: 5 } },
    }),
  );
  expect(m.command).toBe("node");
  expect(m.args).toEqual([join(dir, "other.js")]); // config paths resolve against the config
  expect(m.workdir).toBe(join(dir, "work"));
  expect(m.env).toEqual({ MODE: "config", ONLY_MANIFEST: "1" });
  expect(m.health.poll_interval_ms).toBe(300);
  expect(m.health.failure_threshold).toBe(5);
  expect(m.restart.max_restarts).toBe(7);
  expect(m.restart.backoff).toEqual({ initial_ms: 5, max_ms: 1000, multiplier: 2, jitter: 0.2 });
});

test("without a manifest the defaults apply, defined once in the manifest schema", () => {
  const config = validateConfig(
    { modules: [{ id: "plain", command: "node", args: ["m.js"] }] },
    "c.yaml",
    dir,
  );
  const m = config.modules[0] as SupervisedModuleConfig;
  expect(m.health).toEqual(HEALTH_DEFAULTS);
  expect(m.loadedManifest).toBeUndefined();
  expect(m.workdir).toBeUndefined();
});

test("a config id that differs from the manifest's is an error naming both", () => {
  const path = writeFiles({ id: "other" });
  expect(() => loadConfigFile(path)).toThrow(ConfigError);
  expect(() => loadConfigFile(path)).toThrow(
    `${path}: modules[0].id: "other" differs from the id "demo" of its manifest ${join(dir, "mods", "demo", "outrig.module.yaml")}`,
  );
});

test("an invalid manifest is a ConfigError with the config file, the key and each issue", () => {
  const path = writeFiles({}, manifest({ id: "Bad Id", version: "1.0" }));
  let message = "";
  try {
    loadConfigFile(path);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    message = (error as Error).message;
  }
  const lines = message.split("\n");
  expect(lines.every((l) => l.startsWith(`${path}: modules[0].manifest: `))).toBe(true);
  expect(message).toContain("outrig.module.yaml is invalid (2 errors");
  expect(message).toMatch(/MANIFEST_ID_INVALID at \$\.id: /);
  expect(message).toMatch(/MANIFEST_VERSION_INVALID at \$\.version: /);
});

test("an unreadable or unparseable manifest names the file and the reason", () => {
  const config = join(dir, "outrig.yaml");
  writeFileSync(config, stringify({ modules: [{ manifest: "missing.yaml" }] }));
  expect(() => loadConfigFile(config)).toThrow(
    `${config}: modules[0].manifest: ${join(dir, "missing.yaml")}: cannot read (ENOENT) [manifest.load.io_error]`,
  );
  writeFileSync(join(dir, "broken.yaml"), "id: [unclosed\n");
  writeFileSync(config, stringify({ modules: [{ manifest: "broken.yaml" }] }));
  expect(() => loadConfigFile(config)).toThrow(
    /modules\[0\]\.manifest: .*broken\.yaml: .*\[manifest\.parse\.syntax\]/,
  );
});

test("a parse failure names its position once", () => {
  const config = join(dir, "outrig.yaml");
  writeFileSync(join(dir, "bad.json"), '{\n  "id": ,\n}');
  writeFileSync(config, stringify({ modules: [{ manifest: "bad.json" }] }));
  expect(errorOf(() => loadConfigFile(config))).toBe(
    `${config}: modules[0].manifest: ${join(dir, "bad.json")}: line 2, column 9: unexpected ",", expected a value [manifest.parse.syntax]`,
  );
});

test("a directory or an oversized file is refused before it is read", () => {
  const config = join(dir, "outrig.yaml");
  mkdirSync(join(dir, "adir"));
  writeFileSync(config, stringify({ modules: [{ manifest: "adir" }] }));
  expect(errorOf(() => loadConfigFile(config))).toBe(
    `${config}: modules[0].manifest: ${join(dir, "adir")}: not a file [manifest.load.io_error]`,
  );
  writeFileSync(join(dir, "big.yaml"), "x".repeat(MAX_MANIFEST_BYTES + 1));
  writeFileSync(config, stringify({ modules: [{ manifest: "big.yaml" }] }));
  expect(errorOf(() => loadConfigFile(config))).toBe(
    `${config}: modules[0].manifest: ${join(dir, "big.yaml")}: larger than ${MAX_MANIFEST_BYTES} bytes [manifest.parse.too_large]`,
  );
});

test("a supervised module needs a command or a manifest", () => {
  expect(() => validateConfig({ modules: [{ id: "nothing" }] }, "c.yaml", dir)).toThrow(
    "c.yaml: modules[0].command: required: give the executable (and args), or `manifest:` the path of the module's manifest",
  );
});

test("an attached module takes its manifest's health, and keeps it for the descriptor check", () => {
  const path = writeFiles({ launch: "attached" }, manifest(), {
    spi: { bootstrap_token: { value: "x".repeat(32) } },
  });
  const m = loadConfigFile(path).modules[0]!;
  expect(m.launch).toBe("attached");
  expect(m.health.poll_interval_ms).toBe(2000);
  expect(m.loadedManifest?.manifest.id).toBe("demo");
});

describe("security", () => {
  test("defaults to not requiring signatures", () => {
    expect(validateConfig({}, "c.yaml", dir).security).toEqual({ require_signed: false });
  });

  test("require_signed without trusted_signers is a ConfigError", () => {
    expect(() => validateConfig({ security: { require_signed: true } }, "c.yaml", dir)).toThrow(
      "c.yaml: security.trusted_signers: required when security.require_signed is true",
    );
  });

  test("trusted_signers resolves against the config file", () => {
    const config = validateConfig(
      { security: { require_signed: true, trusted_signers: "keys/signers.yaml" } },
      "c.yaml",
      dir,
    );
    expect(config.security.trusted_signers).toBe(join(dir, "keys", "signers.yaml"));
  });

  test("under require_signed the config may not override a signed entrypoint", () => {
    const path = writeFiles({ args: ["evil.js"] }, manifest(), {
      security: { require_signed: true, trusted_signers: "signers.yaml" },
    });
    expect(() => loadConfigFile(path)).toThrow(
      /modules\[0\]\.args: overrides the entrypoint of the signed manifest/,
    );
  });
});

test("health and restart keep sensible ranges (the manifest schema's)", () => {
  const bad = (health: Record<string, unknown>) => () =>
    validateConfig({ modules: [{ id: "m", command: "x", health }] }, "c.yaml", dir);
  expect(bad({ poll_interval_ms: 10 })).toThrow(/modules\[0\]\.health\.poll_interval_ms/);
  expect(bad({ failure_threshold: 0 })).toThrow(/modules\[0\]\.health\.failure_threshold/);
  expect(bad({ typo: 1 })).toThrow(/unknown key\(s\) "typo"/);
});
