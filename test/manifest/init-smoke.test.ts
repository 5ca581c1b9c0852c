/**
 * `outrig module init` and `outrig module smoke`, end to end with real processes: a
 * scaffold of every profile passes smoke as written (no install, no build), its own
 * test passes under `node --test`, and smoke fails on a broken module naming the step,
 * without leaving a process behind.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jest } from "@jest/globals";
import { stringify } from "yaml";
import { main } from "../../src/cli/main.ts";
import { checkManifestFileSync, PROFILES } from "../../src/manifest/index.ts";
import { PROFILE_TEMPLATES } from "../../src/scaffold/index.ts";
import { SMOKE_STEPS, type SmokeReport, smokeModule } from "../../src/smoke/index.ts";
import { FAST, invokeJson, isAlive, NODE, RAW_MODULE, ROOT, startCore, waitFor } from "../support/harness.ts";

// Inside the checkout (so `outrig/sdk` resolves to it, as for a newcomer), in a git-ignored place.
let work: string;
beforeAll(() => {
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  work = mkdtempSync(join(ROOT, ".tmp", "init-smoke-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs the CLI in-process; returns the exit code and everything it printed. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  const error = jest
    .spyOn(console, "error")
    .mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  try {
    const code = await main(argv);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

function rawManifest(name: string, mode: string, extra: Record<string, unknown> = {}): string {
  const path = join(work, `${name}.yaml`);
  writeFileSync(
    path,
    stringify({
      id: "raw",
      version: "1.0.0",
      description: "The raw fixture.",
      profile: "custom",
      spi: { min: "1.0", max: "1.0" },
      entrypoint: { command: "node", args: [RAW_MODULE], env: { FIXTURE_MODE: mode } },
      health: { poll_interval_ms: 1000, grace_period_ms: 1000, startup_timeout_ms: 2000 },
      ...extra,
    }),
  );
  return path;
}

function pidOf(report: SmokeReport): number {
  return Number(report.steps.find((s) => s.name === "spawn")?.detail?.replace("pid ", ""));
}

describe("outrig module init demo --profile mcp, then smoke", () => {
  test("the scaffold passes smoke at once, printing every step with its time", async () => {
    const dir = join(work, "demo");
    const init = await cli("module", "init", "demo", "--profile", "mcp", "--dir", dir);
    expect(init.code).toBe(0);
    for (const file of ["outrig.module.yaml", "module.ts", "main.ts", "module.test.ts", "README.md"]) {
      expect(existsSync(join(dir, file))).toBe(true);
    }
    // Inside the checkout there is nothing to install: no package.json that would hide outrig's.
    expect(existsSync(join(dir, "package.json"))).toBe(false);
    expect(init.out).toContain("outrig module smoke");

    // The manifest is clean: no error, no warning, no advisory.
    const checked = checkManifestFileSync(join(dir, "outrig.module.yaml"));
    expect(checked.ok && checked.report.issues).toEqual([]);

    const smoke = await cli("module", "smoke", join(dir, "outrig.module.yaml"));
    expect(smoke.err).toBe("");
    expect(smoke.code).toBe(0);
    for (const step of SMOKE_STEPS) expect(smoke.out).toMatch(new RegExp(`^  ok    ${step} +\\d+ ms`, "m"));
    expect(smoke.out).toContain("agrees with its manifest outrig.module.yaml");
    expect(smoke.out).toContain("tools/list {} → ");
    expect(smoke.out).toMatch(/^passed: 12 steps in \d+ ms$/m);
  });

  test("--json prints the report; --operation and --input pick the round trip", async () => {
    const manifest = join(work, "demo", "outrig.module.yaml");
    const { code, out } = await cli(
      "module",
      "smoke",
      manifest,
      "--json",
      "--operation",
      "tools/call",
      "--input",
      '{"name":"echo","arguments":{"text":"hi"}}',
    );
    expect(code).toBe(0);
    const report = JSON.parse(out) as SmokeReport;
    expect(report).toMatchObject({ ok: true, module_id: "demo", version: "0.1.0", profile: "mcp" });
    expect(report.steps.map((s) => s.name)).toEqual([...SMOKE_STEPS]);
    expect(report.steps.every((s) => s.ok && s.duration_ms >= 0)).toBe(true);
    expect(report.round_trip).toEqual({
      operation: "tools/call",
      streaming: false,
      input: { name: "echo", arguments: { text: "hi" } },
      content_type: "application/json",
      output: { content: [{ type: "text", text: "hi" }], isError: false },
    });
    await waitFor(() => !isAlive(pidOf(report)), "the module process to be gone", 5000);
  });

  test("the scaffold's own test passes with node --test: zero install, zero build", () => {
    const run = spawnSync(NODE, ["--test"], { cwd: join(work, "demo"), encoding: "utf8", timeout: 60_000 });
    expect(run.stdout).toMatch(/^ℹ pass 2$/m);
    expect(run.stdout).toMatch(/^ℹ fail 0$/m);
    expect(run.status).toBe(0);
  });

  test("init refuses an existing directory, a bad name and an unknown profile (exit 2)", async () => {
    const before = readFileSync(join(work, "demo", "module.ts"), "utf8");
    const again = await cli("module", "init", "demo", "--profile", "mcp", "--dir", join(work, "demo"));
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/demo already exists; choose another --dir \(init never overwrites\)/);
    expect(readFileSync(join(work, "demo", "module.ts"), "utf8")).toBe(before);

    const badName = await cli("module", "init", "Demo!", "--profile", "mcp", "--dir", join(work, "bad"));
    expect(badName.code).toBe(2);
    expect(badName.err).toMatch(/module name "Demo!" is not a valid module id/);
    expect(existsSync(join(work, "bad"))).toBe(false);

    const badProfile = await cli("module", "init", "x", "--profile", "soap", "--dir", join(work, "x"));
    expect(badProfile.code).toBe(2);
    expect(badProfile.err).toMatch(/--profile must be one of mcp, a2a, llm, rest, grpc, custom, got "soap"/);
    expect((await cli("module", "init", "x")).err).toMatch(/--profile is required/);
  });
});

describe.each(PROFILES.filter((p) => p !== "mcp"))("the %s scaffold", (profile) => {
  test("passes smoke, each call its test makes works, and its test passes", async () => {
    const dir = join(work, `p-${profile}`);
    expect((await cli("module", "init", `p-${profile}`, "--profile", profile, "--dir", dir)).code).toBe(0);
    const manifest = join(dir, "outrig.module.yaml");
    const checked = checkManifestFileSync(manifest);
    expect(checked.ok && checked.report.issues).toEqual([]);
    for (const call of PROFILE_TEMPLATES[profile].calls) {
      const report = await smokeModule({ manifest, operation: call.operation, input: call.input });
      expect({ call: call.title, ok: report.ok, error: report.error }).toEqual({
        call: call.title,
        ok: true,
        error: undefined,
      });
    }
    const run = spawnSync(NODE, ["--test"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(run.stdout).toMatch(new RegExp(`^ℹ pass ${PROFILE_TEMPLATES[profile].calls.length}$`, "m"));
    expect(run.status).toBe(0);
  });
});

test("a scaffold runs under the core from `manifest:` alone (TypeScript, no build)", async () => {
  const dir = join(work, "under-core");
  expect((await cli("module", "init", "under-core", "--profile", "custom", "--dir", dir)).code).toBe(0);
  const c = await startCore({
    modules: [{ manifest: join(dir, "outrig.module.yaml"), health: FAST.health }],
  });
  try {
    await c.core.waitReady(15_000);
    const res = await invokeJson(c.url, "under-core", "echo", { hello: "core" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ echo: { hello: "core" } });
  } finally {
    await c.stop();
  }
});

describe("smoke on broken modules", () => {
  test("a garbage handshake fails at the handshake step, exit 1, and no process is left", async () => {
    const manifest = rawManifest("garbage", "garbage-handshake");
    const { code, out, err } = await cli("module", "smoke", manifest);
    expect(code).toBe(1);
    expect(out).toMatch(/^ {2}ok {4}spawn +\d+ ms {2}pid \d+$/m);
    expect(out).toMatch(
      /^ {2}FAIL {2}handshake +\d+ ms {2}module "raw" .*unrecognized handshake line "Starting up\.\.\. hello world"/m,
    );
    expect(err).toMatch(/^failed at step "handshake": module "raw"/m);
    const pid = Number(/pid (\d+)/.exec(out)?.[1]);
    await waitFor(() => !isAlive(pid), "the module process to be gone", 5000);
  });

  test("each failure names its step", async () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        "exit-early",
        "handshake",
        /exited with code 3 before its handshake; last stderr: "fatal: missing model file"/,
      ],
      ["wrong-id", "descriptor", /describes itself as "someone-else", but is configured as "raw"/],
      ["no-auth", "proof-of-wiring", /accepted an SPI call without the core's credential/],
    ];
    for (const [mode, step, reason] of cases) {
      const report = await smokeModule({ manifest: rawManifest(mode, mode) });
      expect({ mode, ok: report.ok, failed_step: report.failed_step }).toEqual({
        mode,
        ok: false,
        failed_step: step,
      });
      expect(report.error).toMatch(reason);
      expect(report.steps.at(-1)).toMatchObject({ name: step, ok: false });
      const pid = pidOf(report);
      if (pid) await waitFor(() => !isAlive(pid), "the module process to be gone", 5000);
    }
  });

  test("a descriptor that disagrees with the manifest fails at the descriptor step", async () => {
    const report = await smokeModule({ manifest: rawManifest("liar", "healthy", { version: "9.9.9" }) });
    expect(report.failed_step).toBe("descriptor");
    expect(report.error).toMatch(/does not match its manifest liar\.yaml: DESCRIPTOR_VERSION_MISMATCH/);
  });

  test("--timeout stops a module that never answers, and kills it", async () => {
    const started = Date.now();
    const report = await smokeModule({ manifest: rawManifest("silent", "silent"), timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(report).toMatchObject({
      ok: false,
      failed_step: "handshake",
      error: "timed out: the run took longer than 500 ms",
    });
    await waitFor(() => !isAlive(pidOf(report)), "the module process to be gone", 5000);
  });

  test("an invalid manifest fails at the manifest step, and nothing is spawned", async () => {
    const report = await smokeModule({ manifest: rawManifest("bad", "healthy", { version: "1.0" }) });
    expect(report.failed_step).toBe("manifest");
    expect(report.error).toMatch(/is invalid \(1 error.*\n.*MANIFEST_VERSION_INVALID at \$\.version/);
    expect(report.steps).toHaveLength(1);
    // The manifest's own path names it; no config entry the author never wrote.
    expect(report.error).toMatch(/^\/\S+\/bad\.yaml is invalid/);
  });

  test("the manifest step counts the manifest's warnings", async () => {
    const report = await smokeModule({ manifest: rawManifest("warned", "exit-early", { helth: {} }) });
    expect(report.steps[0]).toMatchObject({
      name: "manifest",
      ok: true,
      detail: "raw 1.0.0 (custom), valid with 1 warning(s)",
    });
  });

  test("an unknown --operation fails the round trip, after which the module is still stopped", async () => {
    const report = await smokeModule({ manifest: rawManifest("noop", "healthy"), operation: "nope" });
    expect(report.failed_step).toBe("round-trip");
    expect(report.error).toMatch(/operation "nope" is not in the descriptor \(it has: ping, stream\.ok/);
    await waitFor(() => !isAlive(pidOf(report)), "the module process to be gone", 5000);
  });

  test("a streaming round trip is held to the streaming contract", async () => {
    const ok = await smokeModule({ manifest: rawManifest("stream", "healthy"), operation: "stream.ok" });
    expect(ok.ok).toBe(true);
    expect(ok.round_trip).toMatchObject({ streaming: true, output: [{ n: 1 }, { n: 2 }] });
    const gap = await smokeModule({ manifest: rawManifest("gap", "healthy"), operation: "stream.gap" });
    expect(gap.failed_step).toBe("round-trip");
    expect(gap.error).toMatch(/streaming contract: chunk sequence 3, expected 2/);
  });

  test("usage mistakes exit 2", async () => {
    expect((await cli("module", "smoke")).code).toBe(2);
    expect((await cli("module", "smoke", "x.yaml", "--input", "{nope")).err).toMatch(/--input must be JSON/);
    expect((await cli("module", "smoke", "x.yaml", "--timeout", "0")).code).toBe(2);
  });
});
