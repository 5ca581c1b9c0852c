/**
 * Every issue code has a test that triggers it, at a known path. The table is typed
 * Record<IssueCode, …>, so adding a code without a trigger does not compile.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  IngressMode,
  ModuleDescriptorSchema,
  Profile,
} from "../../src/gen/outrig/module/v1/descriptor_pb.ts";
import {
  ALL_ISSUE_CODES,
  checkDescriptorAgainstManifest,
  ISSUE_CODES,
  type IssueCode,
  type Manifest,
  validateManifest,
} from "../../src/manifest/index.ts";
import { baseManifest, ROOT } from "./helpers.ts";

type Mutate = (m: Record<string, unknown>) => unknown;
interface Trigger {
  mutate?: Mutate;
  descriptor?: (d: ReturnType<typeof descriptorFor>) => void;
  path: string | RegExp;
}

const set =
  (patch: Record<string, unknown>): Mutate =>
  (m) => ({ ...m, ...patch });
const nested = (depth: number): unknown => (depth === 0 ? [] : [nested(depth - 1)]);

const TRIGGERS: Record<IssueCode, Trigger> = {
  MANIFEST_NOT_OBJECT: { mutate: () => ["not", "a", "mapping"], path: "$" },
  MANIFEST_TOO_DEEP: { mutate: set({ "x-deep": nested(70) }), path: /^\$\['x-deep'\](\[0\])+$/ },
  MANIFEST_TOO_LARGE: {
    mutate: set({ "x-bulk": new Array(100_001).fill(0) }),
    path: /^\$\['x-bulk'\]\[\d+\]$/,
  },
  MANIFEST_UNREADABLE: {
    mutate: (m) =>
      Object.defineProperty({ ...m }, "tags", {
        enumerable: true,
        get() {
          throw new Error("getter failed");
        },
      }),
    path: "$",
  },
  KEY_FORBIDDEN: { mutate: (m) => ({ ...m, ...JSON.parse('{"__proto__": {"x": 1}}') }), path: "$.__proto__" },
  UNKNOWN_KEY: { mutate: set({ helth: {} }), path: "$.helth" },
  FIELD_REQUIRED: {
    mutate: (m) => {
      const { version: _v, ...rest } = m;
      return rest;
    },
    path: "$.version",
  },
  FIELD_TYPE_INVALID: { mutate: set({ tags: "demo" }), path: "$.tags" },
  VALUE_OUT_OF_RANGE: {
    mutate: set({ health: { failure_threshold: 0 } }),
    path: "$.health.failure_threshold",
  },
  VALUE_LENGTH_INVALID: { mutate: set({ name: "" }), path: "$.name" },
  VALUE_NOT_ALLOWED: { mutate: set({ ingress: "sideways" }), path: "$.ingress" },
  VALUE_INVALID: {
    mutate: set({ entrypoint: { command: "node", image: "has space" } }),
    path: "$.entrypoint.image",
  },
  MANIFEST_ID_INVALID: { mutate: set({ id: "Acme" }), path: "$.id" },
  MANIFEST_VERSION_INVALID: { mutate: set({ version: "1.0" }), path: "$.version" },
  DESCRIPTION_MISSING: { mutate: set({ description: "  " }), path: "$.description" },
  TAG_INVALID: { mutate: set({ tags: ["Bad Tag"] }), path: "$.tags[0]" },
  TAG_DUPLICATE: { mutate: set({ tags: ["a", "b", "a"] }), path: "$.tags[2]" },
  PROFILE_UNKNOWN: { mutate: set({ profile: "openai" }), path: "$.profile" },
  MODALITY_UNKNOWN: { mutate: set({ modalities: ["smell"] }), path: "$.modalities[0]" },
  MODALITY_DUPLICATE: { mutate: set({ modalities: ["text", "text"] }), path: "$.modalities[1]" },
  CAPABILITY_INVALID: { mutate: set({ capabilities: ["Tools"] }), path: "$.capabilities[0]" },
  CAPABILITY_DUPLICATE: { mutate: set({ capabilities: ["tools", "tools"] }), path: "$.capabilities[1]" },
  CAPABILITY_UNKNOWN: { mutate: set({ capabilities: ["tools", "toolz"] }), path: "$.capabilities[1]" },
  SPI_VERSION_INVALID: { mutate: set({ spi: { min: "1", max: "1.0" } }), path: "$.spi.min" },
  SPI_RANGE_INVERTED: { mutate: set({ spi: { min: "1.1", max: "1.0" } }), path: "$.spi" },
  SPI_RANGE_UNSUPPORTED: { mutate: set({ spi: { min: "9.0", max: "9.9" } }), path: "$.spi" },
  ENTRYPOINT_COMMAND_INVALID: { mutate: set({ entrypoint: { command: 42 } }), path: "$.entrypoint.command" },
  ENV_NAME_INVALID: {
    mutate: set({ entrypoint: { command: "n", env: { "a-b": "1" } } }),
    path: "$.entrypoint.env['a-b']",
  },
  ENV_RESERVED: {
    mutate: set({ entrypoint: { command: "n", env: { OUTRIG_X: "1" } } }),
    path: "$.entrypoint.env.OUTRIG_X",
  },
  ENV_SECRET_LITERAL: {
    mutate: set({ entrypoint: { command: "n", env: { GITHUB_TOKEN: "ghp_x" } } }),
    path: "$.entrypoint.env.GITHUB_TOKEN",
  },
  ACCELERATOR_UNKNOWN: {
    mutate: set({ resources: { accelerator: "tpu" } }),
    path: "$.resources.accelerator",
  },
  ACCELERATOR_ALIAS: {
    mutate: set({ resources: { accelerator: "metal" } }),
    path: "$.resources.accelerator",
  },
  ACCELERATOR_WITHOUT_GPU_CONSENT: {
    mutate: set({ resources: { accelerator: "npu_coreml" } }),
    path: "$.resources.accelerator",
  },
  CONSENT_CAPABILITY_UNKNOWN: {
    mutate: set({ consent: { capabilities: ["network"] } }),
    path: "$.consent.capabilities[0]",
  },
  CONSENT_CAPABILITY_DUPLICATE: {
    mutate: set({ consent: { summary: "s", capabilities: ["fs.read", "fs.read"] } }),
    path: "$.consent.capabilities[1]",
  },
  CONSENT_SUMMARY_EMPTY: {
    mutate: set({ consent: { capabilities: ["fs.read"] } }),
    path: "$.consent.summary",
  },
  CONSENT_URL_INVALID: {
    mutate: set({ consent: { details_url: "example.com/x" } }),
    path: "$.consent.details_url",
  },
  CONSENT_URL_NOT_HTTPS: {
    mutate: set({ consent: { details_url: "http://example.com" } }),
    path: "$.consent.details_url",
  },
  NETWORK_WITHOUT_EGRESS: {
    mutate: set({ resources: { requires_network: true } }),
    path: "$.resources.requires_network",
  },
  EGRESS_ENTRY_INVALID: {
    mutate: set({ consent: { egress: ["example.com"] } }),
    path: "$.consent.egress[0]",
  },
  EGRESS_DUPLICATE: {
    mutate: set({ consent: { summary: "s", capabilities: ["net.egress"], egress: ["a.io:1", "a.io:1"] } }),
    path: "$.consent.egress[1]",
  },
  EGRESS_WITHOUT_GRANT: { mutate: set({ consent: { egress: ["a.io:443"] } }), path: "$.consent.egress" },
  EGRESS_UNRESTRICTED: {
    mutate: set({ consent: { summary: "s", capabilities: ["fs.read", "net.egress"] } }),
    path: "$.consent.capabilities[1]",
  },
  DIRECT_INGRESS_WITHOUT_LISTEN: { mutate: set({ ingress: "direct" }), path: "$.ingress" },
  POLL_TOO_FAST: {
    mutate: set({ health: { poll_interval_ms: 499, grace_period_ms: 1000 } }),
    path: "$.health.poll_interval_ms",
  },
  GRACE_LT_POLL: { mutate: set({ health: { grace_period_ms: 4999 } }), path: "$.health.grace_period_ms" },
  STARTUP_LT_POLL: {
    mutate: set({ health: { startup_timeout_ms: 4999 } }),
    path: "$.health.startup_timeout_ms",
  },
  BACKOFF_MAX_LT_INITIAL: {
    mutate: set({ restart: { backoff: { max_ms: 100 } } }),
    path: "$.restart.backoff.max_ms",
  },
  RESTART_DISABLED: { mutate: set({ restart: { max_restarts: 0 } }), path: "$.restart.max_restarts" },
  METRIC_NAME_INVALID: { mutate: set({ metrics: [{ name: "a-b" }] }), path: "$.metrics[0].name" },
  METRIC_DUPLICATE: { mutate: set({ metrics: [{ name: "a" }, { name: "a" }] }), path: "$.metrics[1].name" },
  METRIC_COUNTER_SUFFIX: {
    mutate: set({ metrics: [{ name: "hits", type: "counter" }] }),
    path: "$.metrics[0].name",
  },
  DESCRIPTOR_ID_MISMATCH: {
    descriptor: (d) => {
      d.moduleId = "acme.other";
    },
    path: "$.module_id",
  },
  DESCRIPTOR_VERSION_MISMATCH: {
    descriptor: (d) => {
      d.moduleVersion = "1.0.1";
    },
    path: "$.module_version",
  },
  DESCRIPTOR_PROFILE_MISMATCH: {
    descriptor: (d) => {
      d.profile = Profile.CUSTOM;
    },
    path: "$.profile",
  },
  DESCRIPTOR_CAPABILITY_UNDECLARED: {
    descriptor: (d) => {
      d.capabilities.push("prompts");
    },
    path: "$.capabilities[1]",
  },
  DESCRIPTOR_INGRESS_MISMATCH: {
    descriptor: (d) => {
      d.ingressModes = [IngressMode.DIRECT];
    },
    path: "$.ingress_modes",
  },
  DESCRIPTOR_SPI_OUTSIDE_RANGE: {
    descriptor: (d) => {
      d.spiVersions.push("2.0");
    },
    path: "$.spi_versions[1]",
  },
};

function validManifest(): Manifest {
  const report = validateManifest(baseManifest());
  if (!report.manifest) throw new Error("base manifest is invalid");
  return report.manifest;
}

function descriptorFor(m: Manifest) {
  return create(ModuleDescriptorSchema, {
    descriptorSchemaVersion: 1,
    moduleId: m.id,
    moduleVersion: m.version,
    profile: Profile.MCP,
    implementationLanguage: "typescript",
    spiVersions: ["1.0"],
    ingressModes: [IngressMode.CORE_ROUTED],
    capabilities: [...m.capabilities],
  });
}

describe("every issue code", () => {
  it("base manifest is clean and agrees with its descriptor", () => {
    const report = validateManifest(baseManifest());
    expect(report.issues).toEqual([]);
    const m = validManifest();
    expect(checkDescriptorAgainstManifest(m, descriptorFor(m))).toEqual([]);
  });

  it.each(ALL_ISSUE_CODES)("%s is triggered at its path with its catalog severity", (code) => {
    const trigger = TRIGGERS[code];
    let issues: ReturnType<typeof validateManifest>["issues"];
    if (trigger.descriptor) {
      const m = validManifest();
      const d = descriptorFor(m);
      trigger.descriptor(d);
      issues = checkDescriptorAgainstManifest(m, d);
      expect(issues.every((i) => !i.message.startsWith("module "))).toBe(true);
    } else {
      issues = validateManifest(trigger.mutate!(baseManifest())).issues;
    }
    const hits = issues.filter((i) => i.code === code);
    expect(hits.length).toBeGreaterThan(0);
    const hit = hits[0]!;
    if (typeof trigger.path === "string") expect(hit.path).toBe(trigger.path);
    else expect(hit.path).toMatch(trigger.path);
    expect(hit.severity).toBe(ISSUE_CODES[code].severity);
    expect(hit.message.trim()).not.toBe("");
  });

  it("codes are UPPER_SNAKE and documented with a summary and a fix", () => {
    for (const code of ALL_ISSUE_CODES) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/);
      expect(ISSUE_CODES[code].summary.length).toBeGreaterThan(10);
      expect(ISSUE_CODES[code].fix.length).toBeGreaterThan(5);
    }
  });

  it("docs/manifest.md lists every code with its severity", () => {
    const docs = readFileSync(join(ROOT, "docs", "manifest.md"), "utf8");
    for (const code of ALL_ISSUE_CODES) {
      // Table cells may be padded; compare with runs of spaces collapsed.
      const row = docs
        .split("\n")
        .map((line) => line.replace(/ +/g, " "))
        .find((line) => line.startsWith(`| \`${code}\``));
      expect([code, row?.includes(`| ${ISSUE_CODES[code].severity} |`)]).toEqual([code, true]);
    }
  });
});
