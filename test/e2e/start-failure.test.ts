/**
 * A core that cannot start says why and leaves nothing behind: no run directory, no
 * state file, and nothing (policy watcher, listener) that keeps `outrig core` from exiting.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateConfig } from "../../src/core/config/load.ts";
import { Core } from "../../src/core/core.ts";
import { NODE, ROOT } from "../support/harness.ts";

let dir: string;
let missing: string;
/** Watched policy files: the watcher alone keeps a process alive if it is not closed. */
let policies: Record<string, unknown>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "start-failure-"));
  missing = join(dir, "missing.pem");
  mkdirSync(join(dir, "policies"));
  policies = { policies: { paths: [join(dir, "policies")] } };
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `outrig core` on `document`; resolves to its exit code (or "still running" after 10 s). */
function outrigCore(document: Record<string, unknown>, home: string) {
  const file = join(dir, "outrig.json");
  writeFileSync(file, JSON.stringify({ logging: { format: "json" }, ...document }));
  const child = spawn(NODE, [join(ROOT, "bin/outrig.js"), "core", "--config", file], {
    env: { ...process.env, OUTRIG_HOME: home },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  return new Promise<{ code: number | string | null; stderr: string; pid: number }>((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve({ code: "still running", stderr, pid: child.pid! });
    }, 10_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, pid: child.pid! });
    });
  });
}

test("a public TLS file that cannot be read stops the core before anything starts, naming the file", async () => {
  const home = join(dir, "home");
  const config = validateConfig(
    { server: { port: 0, tls: { cert_file: missing, key_file: missing } }, authority: policies },
    "test-config",
    ROOT,
  );
  await expect(Core.start({ config, home, logDestination: { write: () => true } })).rejects.toThrow(
    `cannot read the public listener's certificate ${missing} (ENOENT)`,
  );
  expect(existsSync(join(home, "run", String(process.pid)))).toBe(false);
});

test("an SPI TLS file that cannot be read stops the core the same way", async () => {
  const home = join(dir, "home");
  const config = validateConfig(
    {
      server: { port: 0 },
      spi: { tls: { cert_file: missing, key_file: missing, ca_file: missing } },
      authority: policies,
    },
    "test-config",
    ROOT,
  );
  await expect(Core.start({ config, home, logDestination: { write: () => true } })).rejects.toThrow(
    `cannot read the TLS certificate ${missing} (ENOENT)`,
  );
  expect(existsSync(join(home, "run", String(process.pid)))).toBe(false);
});

test("outrig core exits non-zero on a missing TLS file, leaving no run directory", async () => {
  const home = join(dir, "home");
  const run = await outrigCore(
    { server: { port: 0, tls: { cert_file: missing, key_file: missing } }, authority: policies },
    home,
  );
  expect(run.code).toBe(1);
  expect(run.stderr).toContain(`cannot read the public listener's certificate ${missing} (ENOENT)`);
  expect(existsSync(join(home, "run", String(run.pid)))).toBe(false);
});

test("a failure once the listeners are up undoes everything started so far", async () => {
  const home = join(dir, "home");
  // core.json cannot be written: it is a directory.
  mkdirSync(join(home, "core.json"), { recursive: true });
  const run = await outrigCore({ server: { port: 0 }, authority: policies }, home);
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/EISDIR/);
  expect(existsSync(join(home, "run", String(run.pid)))).toBe(false);
  expect(existsSync(join(home, "dev-token"))).toBe(false);
});
