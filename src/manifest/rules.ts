/**
 * Rules that span fields or go beyond what a JSON Schema can say. Each rule runs only
 * when the sections it reads passed the schema, so one broken section never hides
 * the findings of the others.
 */
import { isIP } from "node:net";
import { compareSpiVersions, SUPPORTED_SPI_VERSIONS, spiVersionInRange } from "../spi/versions.ts";
import { type IssueCode, type ManifestIssue, makeIssue } from "./codes.ts";
import { jsonPath } from "./json-path.ts";
import type { Manifest, ManifestSection } from "./schema.ts";
import { ACCELERATOR_ALIASES, ACCELERATORS, isAcceleratorAlias, PROFILE_CAPABILITIES } from "./vocabulary.ts";

export interface RuleContext {
  /** The manifest as written (for rules about spelling, such as aliases). */
  raw: Record<string, unknown>;
  report(code: IssueCode, path: readonly PropertyKey[], message: string): void;
}

interface Rule {
  needs: readonly ManifestSection[];
  check(manifest: Manifest, ctx: RuleContext): void;
}

/** Declares a rule over the sections it reads; the check sees only those (typed). */
function rule<K extends ManifestSection>(
  needs: readonly K[],
  check: (manifest: Pick<Manifest, K>, ctx: RuleContext) => void,
): Rule {
  return { needs, check };
}

function duplicates<T>(items: readonly T[], key: (item: T) => string = String): number[] {
  const seen = new Set<string>();
  const repeated: number[] = [];
  items.forEach((item, i) => {
    const k = key(item);
    if (seen.has(k)) repeated.push(i);
    seen.add(k);
  });
  return repeated;
}

const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|CREDENTIAL/i;
const MAX_HOST = 253;

/** Why an egress entry that matched the coarse pattern is still wrong, if it is. */
function egressProblem(entry: string): string | undefined {
  const colon = entry.lastIndexOf(":");
  const host = entry.slice(0, colon);
  const port = Number(entry.slice(colon + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    return `port must be 1-65535, got ${entry.slice(colon + 1)}`;
  if (host.startsWith("[")) {
    return isIP(host.slice(1, -1)) === 6 ? undefined : `${host} is not an IPv6 address`;
  }
  if (/^[\d.]+$/.test(host)) return isIP(host) === 4 ? undefined : `${host} is not an IPv4 address`;
  const name = host.startsWith("*.") ? host.slice(2) : host;
  if (name.length > MAX_HOST) return `host name longer than ${MAX_HOST} characters`;
  const label = name
    .split(".")
    .find((l) => l.length === 0 || l.length > 63 || l.startsWith("-") || l.endsWith("-"));
  return label === undefined ? undefined : `host name label ${JSON.stringify(label)} is not valid`;
}

/** The accelerators that are devices (GPU or NPU), needing the "gpu" consent. */
const GPU_ACCELERATORS = new Set<string>(ACCELERATORS.filter((a) => /^(gpu|npu)_/.test(a)));

export const RULES: readonly Rule[] = [
  rule(["description"], (m, ctx) => {
    if (!m.description?.trim())
      ctx.report("DESCRIPTION_MISSING", ["description"], "add a description for reviewers");
  }),
  rule(["tags"], (m, ctx) => {
    for (const i of duplicates(m.tags))
      ctx.report("TAG_DUPLICATE", ["tags", i], `tag "${m.tags[i]}" is listed twice`);
  }),
  rule(["modalities"], (m, ctx) => {
    for (const i of duplicates(m.modalities)) {
      ctx.report("MODALITY_DUPLICATE", ["modalities", i], `modality "${m.modalities[i]}" is listed twice`);
    }
  }),
  rule(["capabilities", "profile"], (m, ctx) => {
    for (const i of duplicates(m.capabilities)) {
      ctx.report(
        "CAPABILITY_DUPLICATE",
        ["capabilities", i],
        `capability "${m.capabilities[i]}" is declared twice`,
      );
    }
    const known = PROFILE_CAPABILITIES[m.profile];
    if (known.length === 0) return;
    m.capabilities.forEach((capability, i) => {
      if (!known.includes(capability)) {
        ctx.report(
          "CAPABILITY_UNKNOWN",
          ["capabilities", i],
          `"${capability}" is not a known ${m.profile} capability (known: ${known.join(", ")})`,
        );
      }
    });
  }),
  rule(["spi"], (m, ctx) => {
    if (compareSpiVersions(m.spi.min, m.spi.max) > 0) {
      ctx.report("SPI_RANGE_INVERTED", ["spi"], `min ${m.spi.min} is above max ${m.spi.max}`);
    } else if (!SUPPORTED_SPI_VERSIONS.some((v) => spiVersionInRange(v, m.spi))) {
      ctx.report(
        "SPI_RANGE_UNSUPPORTED",
        ["spi"],
        `range ${m.spi.min}-${m.spi.max} contains no SPI version this Outrig speaks (${SUPPORTED_SPI_VERSIONS.join(", ")})`,
      );
    }
  }),
  rule(["entrypoint"], (m, ctx) => {
    for (const [name, value] of Object.entries(m.entrypoint.env)) {
      if (name.toUpperCase().startsWith("OUTRIG_")) {
        ctx.report(
          "ENV_RESERVED",
          ["entrypoint", "env", name],
          `${name}: OUTRIG_* variables are set by the core`,
        );
      } else if (SECRET_NAME.test(name) && value !== "") {
        ctx.report(
          "ENV_SECRET_LITERAL",
          ["entrypoint", "env", name],
          `${name} looks like a secret; do not put its value in the manifest, read it through ConfigSecretsService`,
        );
      }
    }
  }),
  rule(["resources"], (_m, ctx) => {
    const written = (ctx.raw.resources as Record<string, unknown> | undefined)?.accelerator;
    if (isAcceleratorAlias(written)) {
      ctx.report(
        "ACCELERATOR_ALIAS",
        ["resources", "accelerator"],
        `"${written}" is an alias; write "${ACCELERATOR_ALIASES[written]}"`,
      );
    }
  }),
  rule(["resources", "consent"], (m, ctx) => {
    const granted = new Set<string>(m.consent.capabilities);
    if (GPU_ACCELERATORS.has(m.resources.accelerator) && !granted.has("gpu")) {
      ctx.report(
        "ACCELERATOR_WITHOUT_GPU_CONSENT",
        ["resources", "accelerator"],
        `accelerator ${m.resources.accelerator} needs the "gpu" consent capability`,
      );
    }
    if (m.resources.requires_network && !granted.has("net.egress")) {
      ctx.report(
        "NETWORK_WITHOUT_EGRESS",
        ["resources", "requires_network"],
        'requires_network is true but consent.capabilities does not grant "net.egress"',
      );
    }
  }),
  rule(["consent"], (m, ctx) => {
    const { capabilities, egress, summary } = m.consent;
    for (const i of duplicates(capabilities)) {
      ctx.report(
        "CONSENT_CAPABILITY_DUPLICATE",
        ["consent", "capabilities", i],
        `"${capabilities[i]}" is listed twice`,
      );
    }
    if (capabilities.length > 0 && summary.trim() === "") {
      ctx.report(
        "CONSENT_SUMMARY_EMPTY",
        ["consent", "summary"],
        "capabilities are requested without a summary",
      );
    }
    egress.forEach((entry, i) => {
      const problem = egressProblem(entry);
      if (problem) ctx.report("EGRESS_ENTRY_INVALID", ["consent", "egress", i], `"${entry}": ${problem}`);
    });
    for (const i of duplicates(egress, (e) => e.toLowerCase())) {
      ctx.report("EGRESS_DUPLICATE", ["consent", "egress", i], `"${egress[i]}" is listed twice`);
    }
    const grantsEgress = capabilities.includes("net.egress");
    if (egress.length > 0 && !grantsEgress) {
      ctx.report(
        "EGRESS_WITHOUT_GRANT",
        ["consent", "egress"],
        'egress entries have no effect without "net.egress"',
      );
    }
    if (grantsEgress && egress.length === 0) {
      ctx.report(
        "EGRESS_UNRESTRICTED",
        ["consent", "capabilities", capabilities.indexOf("net.egress")],
        "net.egress without an egress allow list lets the module connect anywhere",
      );
    }
  }),
  rule(["ingress", "consent"], (m, ctx) => {
    if (m.ingress !== "core-routed" && !m.consent.capabilities.includes("net.listen")) {
      ctx.report(
        "DIRECT_INGRESS_WITHOUT_LISTEN",
        ["ingress"],
        `ingress "${m.ingress}" opens a public listener; grant "net.listen" in consent.capabilities`,
      );
    }
  }),
  rule(["health"], (m, ctx) => {
    const { poll_interval_ms: poll, grace_period_ms: grace, startup_timeout_ms: startup } = m.health;
    if (poll < 500) ctx.report("POLL_TOO_FAST", ["health", "poll_interval_ms"], `${poll} ms is below 500 ms`);
    if (grace < poll) {
      ctx.report(
        "GRACE_LT_POLL",
        ["health", "grace_period_ms"],
        `grace period ${grace} ms is shorter than the poll interval ${poll} ms`,
      );
    }
    if (startup < poll) {
      ctx.report(
        "STARTUP_LT_POLL",
        ["health", "startup_timeout_ms"],
        `startup timeout ${startup} ms is shorter than the poll interval ${poll} ms`,
      );
    }
  }),
  rule(["restart"], (m, ctx) => {
    const { initial_ms, max_ms } = m.restart.backoff;
    if (max_ms < initial_ms) {
      ctx.report(
        "BACKOFF_MAX_LT_INITIAL",
        ["restart", "backoff", "max_ms"],
        `max_ms ${max_ms} is below initial_ms ${initial_ms}`,
      );
    }
    if (m.restart.max_restarts === 0) {
      ctx.report("RESTART_DISABLED", ["restart", "max_restarts"], "the first crash leaves the module failed");
    }
  }),
  rule(["metrics"], (m, ctx) => {
    m.metrics.forEach((metric, i) => {
      if (metric.name.startsWith("__")) {
        ctx.report(
          "METRIC_NAME_INVALID",
          ["metrics", i, "name"],
          `"${metric.name}": names starting with __ are reserved`,
        );
      }
      if (metric.type === "counter" && !metric.name.endsWith("_total")) {
        ctx.report(
          "METRIC_COUNTER_SUFFIX",
          ["metrics", i, "name"],
          `counter "${metric.name}" should end in _total`,
        );
      }
    });
    for (const i of duplicates(m.metrics, (metric) => metric.name)) {
      ctx.report(
        "METRIC_DUPLICATE",
        ["metrics", i, "name"],
        `metric "${m.metrics[i]?.name}" is listed twice`,
      );
    }
  }),
];

/** Runs every rule whose sections are all valid. */
export function runRules(
  manifest: Partial<Manifest>,
  validSections: ReadonlySet<ManifestSection>,
  raw: Record<string, unknown>,
): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const ctx: RuleContext = {
    raw,
    report: (code, path, message) => issues.push(makeIssue(code, jsonPath(path), message)),
  };
  for (const r of RULES) {
    if (r.needs.every((section) => validSections.has(section))) r.check(manifest as Manifest, ctx);
  }
  return issues;
}
