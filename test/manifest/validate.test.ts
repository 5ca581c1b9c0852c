import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  checkManifestSource,
  HEALTH_DEFAULTS,
  ManifestSchema,
  RESTART_DEFAULTS,
  reportPasses,
  validateManifest,
} from "../../src/manifest/index.ts";
import { jsonPath } from "../../src/manifest/json-path.ts";
import { suggest } from "../../src/manifest/suggest.ts";
import { baseManifest, FIXTURES, ROOT } from "./helpers.ts";

describe("normalization", () => {
  it("applies every default, with the supervisor's names and values", () => {
    const report = validateManifest(baseManifest());
    expect(report.ok).toBe(true);
    const m = report.manifest!;
    expect(m.health).toEqual({
      poll_interval_ms: 5000,
      failure_threshold: 3,
      grace_period_ms: 10000,
      startup_timeout_ms: 30000,
    });
    expect(m.health).toEqual(HEALTH_DEFAULTS);
    expect(m.restart).toEqual({
      max_restarts: 3,
      window_ms: 600000,
      backoff: { initial_ms: 500, max_ms: 30000, multiplier: 2, jitter: 0.2 },
    });
    expect(m.restart).toEqual(RESTART_DEFAULTS);
    expect(m.resources).toEqual({ accelerator: "cpu", requires_network: false });
    expect(m.consent).toEqual({ summary: "", capabilities: [], egress: [] });
    expect(m.entrypoint).toEqual({ command: "node", args: ["main.js"], env: {}, listen: "unix" });
    expect(m.ingress).toBe("core-routed");
    expect(m.modalities).toEqual(["text"]);
    expect(m.tags).toEqual([]);
    expect(m.metrics).toEqual([]);
  });

  it("fills defaults inside a partly written section", () => {
    const m = validateManifest({
      ...baseManifest(),
      restart: { backoff: { jitter: 0 } },
      health: { failure_threshold: 5 },
    }).manifest!;
    expect(m.restart.backoff).toEqual({ initial_ms: 500, max_ms: 30000, multiplier: 2, jitter: 0 });
    expect(m.health.failure_threshold).toBe(5);
    expect(m.health.poll_interval_ms).toBe(5000);
  });

  it("normalizes accelerator aliases", () => {
    for (const [alias, canonical] of [
      ["cuda", "gpu_cuda"],
      ["rocm", "gpu_rocm"],
      ["metal", "gpu_metal"],
      ["vulkan", "gpu_vulkan"],
      ["directml", "npu_directml"],
      ["coreml", "npu_coreml"],
    ]) {
      const report = validateManifest({
        ...baseManifest(),
        resources: { accelerator: alias },
        consent: { summary: "s", capabilities: ["gpu"] },
      });
      expect(report.manifest?.resources.accelerator).toBe(canonical);
      expect(report.issues.map((i) => i.code)).toEqual(["ACCELERATOR_ALIAS"]);
      expect(report.issues[0]?.message).toContain(`"${canonical}"`);
    }
  });

  it("keeps $schema, drops unknown and x- keys from the normalized form", () => {
    const m = validateManifest({ ...baseManifest(), $schema: "s.json", "x-a": 1, extra: 2 }).manifest!;
    expect(m.$schema).toBe("s.json");
    expect(Object.keys(m)).not.toContain("x-a");
    expect(Object.keys(m)).not.toContain("extra");
  });

  it("section-by-section validation gives the same result as the whole schema on every valid file", () => {
    const files = [
      ...readdirSync(join(FIXTURES, "valid")).map((f) => join(FIXTURES, "valid", f)),
      ...readdirSync(join(FIXTURES, "warning")).map((f) => join(FIXTURES, "warning", f)),
      ...readdirSync(join(ROOT, "examples", "manifests")).map((f) => join(ROOT, "examples", "manifests", f)),
    ].filter((f) => !f.endsWith("expected.json"));
    expect(files.length).toBeGreaterThan(15);
    for (const file of files) {
      const checked = checkManifestSource(readFileSync(file), { filename: file });
      if (!checked.ok) throw new Error(`${file}: ${checked.message}`);
      expect(checked.report.manifest).toEqual(ManifestSchema.parse(checked.document));
    }
  });

  it("does not modify its input", () => {
    const input = {
      ...baseManifest(),
      health: { poll_interval_ms: 1000 },
      ...JSON.parse('{"__proto__": 1}'),
    };
    const before = JSON.stringify(input);
    validateManifest(input);
    expect(JSON.stringify(input)).toBe(before);
  });
});

describe("report", () => {
  it("an error in one section does not hide the findings in others", () => {
    const report = validateManifest({
      ...baseManifest(),
      id: "Bad Id",
      health: { grace_period_ms: 1 },
      tags: ["a", "a"],
      metrics: [{ name: "ok_total" }, { name: "9bad" }],
    });
    expect(report.issues.map((i) => i.code).sort()).toEqual(
      ["GRACE_LT_POLL", "MANIFEST_ID_INVALID", "METRIC_NAME_INVALID", "TAG_DUPLICATE"].sort(),
    );
    expect(report.ok).toBe(false);
    expect(report.manifest).toBeUndefined();
  });

  it("orders errors, then warnings, then advisories, and counts them", () => {
    const report = validateManifest({
      ...baseManifest(),
      description: undefined,
      version: "x",
      helth: 1,
    });
    expect(report.issues.map((i) => i.severity)).toEqual(["error", "warning", "advisory"]);
    expect(report.counts).toEqual({ error: 1, warning: 1, advisory: 1 });
  });

  it("reportPasses honours strict warnings", () => {
    const warning = validateManifest({ ...baseManifest(), helth: 1 });
    expect(reportPasses(warning)).toBe(true);
    expect(reportPasses(warning, true)).toBe(false);
    const advisory = validateManifest({ ...baseManifest(), description: "" });
    expect(reportPasses(advisory, true)).toBe(true);
    expect(reportPasses(validateManifest({}), false)).toBe(false);
  });

  it("messages explain and suggest; they never echo zod wording or codes", () => {
    const report = validateManifest({
      ...baseManifest(),
      profile: "mpc",
      consent: { capabilities: ["egress"] },
      entrypoint: { command: "node", listen: "socket" },
      helth: {},
      version: 1.1,
    });
    const byCode = Object.fromEntries(report.issues.map((i) => [i.code, i.message]));
    expect(byCode.PROFILE_UNKNOWN).toBe(
      '"mpc" is not allowed; use one of: mcp, a2a, llm, rest, grpc, custom (did you mean "mcp"?)',
    );
    expect(byCode.CONSENT_CAPABILITY_UNKNOWN).toContain('(did you mean "net.egress"?)');
    expect(byCode.UNKNOWN_KEY).toBe('unknown key "helth" (did you mean "health"?)');
    expect(byCode.MANIFEST_VERSION_INVALID).toBe("expected a string, got 1.1 (quote it)");
    for (const issue of report.issues) {
      expect(issue.message).not.toMatch(/Invalid input|invalid_type|invalid_value|received/);
    }
  });

  it("a giant string is not echoed whole", () => {
    const report = validateManifest({ ...baseManifest(), id: "x".repeat(100_000) });
    expect(report.issues[0]?.code).toBe("MANIFEST_ID_INVALID");
    expect(report.issues[0]!.message.length).toBeLessThan(300);
  });

  it("lists at most 20 unknown keys per object and counts the rest", () => {
    const extra = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]));
    const report = validateManifest({ ...baseManifest(), ...extra, health: { ...extra } });
    const unknown = report.issues.filter((i) => i.code === "UNKNOWN_KEY");
    expect(unknown).toHaveLength(42);
    expect(unknown.filter((i) => i.path === "$")[0]?.message).toBe("and 980 more unknown keys here");
    expect(unknown.filter((i) => i.path === "$.health")[0]?.message).toBe("and 980 more unknown keys here");
  });

  it("refuses __proto__ anywhere without polluting prototypes", () => {
    const input = JSON.parse('{"__proto__": {"polluted": 1}, "metadata": {"__proto__": "x"}}');
    const report = validateManifest({ ...baseManifest(), ...input });
    expect(report.issues.filter((i) => i.code === "KEY_FORBIDDEN").map((i) => i.path)).toEqual([
      "$.__proto__",
      "$.metadata.__proto__",
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("survives cycles and shared references", () => {
    const cyclic: Record<string, unknown> = { ...baseManifest() };
    cyclic["x-self"] = cyclic;
    const report = validateManifest(cyclic);
    expect(report.issues.map((i) => i.code)).toEqual(["MANIFEST_TOO_DEEP"]);
    expect(report.issues[0]?.message).toContain("cycle");
    const shared = [1, 2];
    expect(validateManifest({ ...baseManifest(), "x-a": shared, "x-b": shared }).ok).toBe(true);
  });
});

describe("helpers", () => {
  it.each([
    [[], "$"],
    [["health", "poll_interval_ms"], "$.health.poll_interval_ms"],
    [["tags", 2], "$.tags[2]"],
    [["x-a"], "$['x-a']"],
    [["$schema"], "$['$schema']"],
    [["a'b\\c"], "$['a\\'b\\\\c']"],
    [["env", "9X"], "$.env['9X']"],
  ] as const)("jsonPath(%j) = %s", (segments, path) => {
    expect(jsonPath(segments)).toBe(path);
  });

  it("suggests close or containing candidates only", () => {
    expect(suggest("helth", ["health", "restart"])).toBe("health");
    expect(suggest("egress", ["net.egress", "fs.read"])).toBe("net.egress");
    expect(suggest("zzzzzz", ["health", "restart"])).toBeUndefined();
    expect(suggest("", ["a"])).toBeUndefined();
  });
});
