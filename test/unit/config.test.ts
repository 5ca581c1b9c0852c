/** The core's config file: a bad file fails with the file, the key and the problem. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfigFile } from "../../src/core/config/load.ts";

const dir = mkdtempSync(join(tmpdir(), "cfg-"));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

test("YAML, TOML and JSON files load, with defaults applied and paths resolved", () => {
  const yaml = loadConfigFile(file("a.yaml", "modules:\n  - id: echo\n    command: ./bin/echo\n"));
  expect(yaml.server).toEqual({ host: "127.0.0.1", port: 8080, max_body_bytes: 1048576 });
  expect(yaml.modules[0]).toMatchObject({
    command: join(dir, "bin/echo"),
    replicas: 1,
    restart: { max_restarts: 3, window_ms: 600000 },
  });
  const toml = loadConfigFile(
    file("a.toml", '[server]\nport = 9000\n[[modules]]\nid = "echo"\ncommand = "node"\n'),
  );
  expect(toml.server.port).toBe(9000);
  const json = loadConfigFile(file("a.json", JSON.stringify({ logging: { level: "debug" } })));
  expect(json.logging.level).toBe("debug");
});

test("a wrong value names the file, the key and the problem", () => {
  const path = file(
    "bad.yaml",
    "modules:\n  - id: echo\n    command: node\n    health:\n      failure_threshold: 0\n",
  );
  expect(errorOf(() => loadConfigFile(path))).toMatch(
    new RegExp(`^${path}: modules\\[0\\]\\.health\\.failure_threshold: Too small`),
  );
});

test("an unknown key is an error, so typos do not pass silently", () => {
  const path = file("typo.yaml", "modules:\n  - id: echo\n    command: node\n    replicaz: 2\n");
  expect(errorOf(() => loadConfigFile(path))).toBe(`${path}: modules[0]: unknown key(s) "replicaz"`);
});

test("a parse error, an unknown format and a missing file are clear", () => {
  const broken = file("broken.toml", "[server\nport = 1");
  expect(errorOf(() => loadConfigFile(broken))).toMatch(new RegExp(`^${broken}: cannot parse`));
  const ini = file("x.ini", "a=1");
  expect(errorOf(() => loadConfigFile(ini))).toBe(
    `${ini}: unknown config format ".ini" (use .yaml, .yml, .toml or .json)`,
  );
  expect(errorOf(() => loadConfigFile(join(dir, "nope.yaml")))).toBe(
    `${join(dir, "nope.yaml")}: cannot read (ENOENT)`,
  );
});

test("a duplicate key is an error in every format, with its line and column", () => {
  const json = file("dup.json", '{\n  "server": { "port": 9000 },\n  "server": { "port": 9001 }\n}');
  expect(errorOf(() => loadConfigFile(json))).toMatch(
    new RegExp(
      `^${json}: cannot parse: line 3, column 3: duplicate key "server" \\[manifest\\.parse\\.syntax\\]$`,
    ),
  );
  const yaml = file("dup.yaml", "server:\n  port: 9000\nserver:\n  port: 9001\n");
  expect(errorOf(() => loadConfigFile(yaml))).toMatch(
    new RegExp(`^${yaml}: cannot parse: line 3, column 1: `),
  );
  const toml = file("dup.toml", "[server]\nport = 9000\nport = 9001\n");
  expect(errorOf(() => loadConfigFile(toml))).toMatch(
    new RegExp(`^${toml}: cannot parse: line 3, column \\d+: `),
  );
});

test("an empty YAML file is the defaults; a file that is not UTF-8 is refused", () => {
  expect(loadConfigFile(file("empty.yaml", "")).server.port).toBe(8080);
  const latin1 = join(dir, "latin1.yaml");
  writeFileSync(latin1, Buffer.from("logging:\n  level: caf\xe9\n", "latin1"));
  expect(errorOf(() => loadConfigFile(latin1))).toBe(
    `${latin1}: cannot parse: not valid UTF-8 [manifest.parse.encoding]`,
  );
});

test("a non-loopback listener needs real credentials; the dev token is loopback-only", () => {
  const open = file("open.yaml", "server:\n  host: 0.0.0.0\n");
  expect(errorOf(() => loadConfigFile(open))).toContain(
    'server.host: "0.0.0.0" is not a loopback address; public endpoints there need authentication',
  );
  expect(loadConfigFile(open, { host: "::1" }).server.host).toBe("::1");
  const withKeys = file(
    "keys.yaml",
    [
      "server: { host: 0.0.0.0 }",
      "authority:",
      "  api_keys:",
      "    - id: 3f9c0a1b2c3d4e5f",
      "      hash: hmac-sha256$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "      subject: svc:ci",
    ].join("\n"),
  );
  const config = loadConfigFile(withKeys);
  expect(config.server.host).toBe("0.0.0.0");
  expect(config.authorityConfig?.apiKeys?.[0]?.subject).toBe("svc:ci");
});

test("the authority section is snake_case; its errors name snake_case keys, role names pass through", () => {
  const good = file(
    "auth.yaml",
    [
      "authority:",
      "  context_refs: { ttl_sec: 30 }",
      "  policies:",
      "    roles: { data_team: ['module.invoke'] }",
    ].join("\n"),
  );
  const config = loadConfigFile(good);
  expect(config.authorityConfig?.contextRefs?.ttlSec).toBe(30);
  expect(config.authorityConfig?.policies?.roles).toEqual({ data_team: ["module.invoke"] });
  const bad = file("bad-auth.yaml", "authority:\n  context_refs: { ttl_sec: 600 }\n  rate_limitz: {}\n");
  const message = errorOf(() => loadConfigFile(bad));
  expect(message).toContain(`${bad}: authority.context_refs.ttl_sec: Too big`);
  expect(message).toContain(`${bad}: authority: unknown key(s) "rate_limitz"`);
});

test("duplicate module ids and attached modules without a bootstrap token are refused", () => {
  const dup = file("dup.yaml", "modules:\n  - { id: a, command: node }\n  - { id: a, command: node }\n");
  expect(errorOf(() => loadConfigFile(dup))).toBe(`${dup}: modules[1].id: duplicate module id "a"`);
  const attached = file("att.yaml", "modules:\n  - { id: a, launch: attached }\n");
  expect(errorOf(() => loadConfigFile(attached))).toBe(
    `${attached}: spi.bootstrap_token: required when a module is attached`,
  );
});
