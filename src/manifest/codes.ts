/**
 * Stable issue codes of the manifest validator. A code names one rule; its severity
 * is fixed here, never chosen at the call site. Codes are public (CI scripts match on
 * them): never rename one, only add. docs/manifest.md lists each with its fix.
 */

export type Severity = "error" | "warning" | "advisory";

/** One finding: `path` is a JSON path into the manifest (or the descriptor), e.g. `$.health.grace_period_ms`. */
export interface ManifestIssue {
  code: IssueCode;
  severity: Severity;
  path: string;
  message: string;
}

interface CodeInfo {
  severity: Severity;
  /** What the rule checks. */
  summary: string;
  /** How an author fixes it. */
  fix: string;
}

const define = <const T extends Record<string, CodeInfo>>(codes: T) => codes;

export const ISSUE_CODES = define({
  // Document shape.
  MANIFEST_NOT_OBJECT: {
    severity: "error",
    summary: "The document is not a mapping (object/table) at the top level.",
    fix: "Write the manifest as a mapping of keys such as id, version, profile.",
  },
  MANIFEST_TOO_DEEP: {
    severity: "error",
    summary: "The value is nested deeper than 64 levels (or contains a cycle).",
    fix: "Flatten the structure; manifests are shallow.",
  },
  MANIFEST_TOO_LARGE: {
    severity: "error",
    summary: "The value holds more than 100,000 values; real manifests hold a few hundred.",
    fix: "Remove the bulk data; manifests describe a module, they do not carry its data.",
  },
  MANIFEST_UNREADABLE: {
    severity: "error",
    summary: "The value could not be read as plain data (for example a getter threw).",
    fix: "Pass plain JSON data: objects, arrays, strings, numbers, booleans and null.",
  },
  KEY_FORBIDDEN: {
    severity: "error",
    summary: "The key `__proto__` appears; it is refused everywhere to rule out prototype pollution.",
    fix: "Remove or rename the key.",
  },
  UNKNOWN_KEY: {
    severity: "warning",
    summary: "A key the schema does not define (often a typo). `$schema` and `x-*` keys are allowed.",
    fix: "Fix the spelling (the message suggests the closest key) or prefix the key with `x-`.",
  },
  // Generic structure (from the schema).
  FIELD_REQUIRED: {
    severity: "error",
    summary: "A required key is missing.",
    fix: "Add the key.",
  },
  FIELD_TYPE_INVALID: {
    severity: "error",
    summary: "A value has the wrong type (for example a number where a string is expected).",
    fix: "Use the type the message names; quote versions such as `1.0.0` in YAML and TOML.",
  },
  VALUE_OUT_OF_RANGE: {
    severity: "error",
    summary: "A number is below the minimum or above the maximum.",
    fix: "Use a value inside the range the message gives.",
  },
  VALUE_LENGTH_INVALID: {
    severity: "error",
    summary: "A string or a list is too short or too long.",
    fix: "Shorten (or fill) it to the length the message gives.",
  },
  VALUE_NOT_ALLOWED: {
    severity: "error",
    summary: "A value is not one of the allowed values.",
    fix: "Use one of the values the message lists.",
  },
  VALUE_INVALID: {
    severity: "error",
    summary: "A value is invalid in a way no more specific code covers.",
    fix: "Follow the message.",
  },
  // Identity.
  MANIFEST_ID_INVALID: {
    severity: "error",
    summary: "`id` does not match `^[a-z0-9][a-z0-9._-]{0,63}$`.",
    fix: "Use lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters.",
  },
  MANIFEST_VERSION_INVALID: {
    severity: "error",
    summary: "`version` is not strict SemVer 2.0.0 (`1.0`, `v1.0.0` are refused).",
    fix: "Write MAJOR.MINOR.PATCH, for example `1.0.0` or `1.0.0-rc.1`, quoted in YAML and TOML.",
  },
  DESCRIPTION_MISSING: {
    severity: "advisory",
    summary: "The manifest has no description; operators review it before activation.",
    fix: "Add a one-sentence `description`.",
  },
  TAG_INVALID: {
    severity: "error",
    summary: "A tag does not match `^[a-z0-9][a-z0-9._-]{0,31}$`.",
    fix: "Use lowercase tags of at most 32 characters (`.`, `_`, `-` allowed).",
  },
  TAG_DUPLICATE: {
    severity: "warning",
    summary: "The same tag is listed twice.",
    fix: "Remove the duplicate.",
  },
  // Profile.
  PROFILE_UNKNOWN: {
    severity: "error",
    summary: "`profile` is not one of mcp, a2a, llm, rest, grpc, custom.",
    fix: "Use one of the listed profiles.",
  },
  MODALITY_UNKNOWN: {
    severity: "error",
    summary: "A modality is not one of text, audio, vision.",
    fix: "Use one of the listed modalities.",
  },
  MODALITY_DUPLICATE: {
    severity: "warning",
    summary: "The same modality is listed twice.",
    fix: "Remove the duplicate.",
  },
  CAPABILITY_INVALID: {
    severity: "error",
    summary: "A declared capability does not match `^[a-z][a-z0-9._-]{0,63}$`.",
    fix: "Use a lowercase capability name such as `tools` or `streaming`.",
  },
  CAPABILITY_DUPLICATE: {
    severity: "warning",
    summary: "The same capability is declared twice.",
    fix: "Remove the duplicate.",
  },
  CAPABILITY_UNKNOWN: {
    severity: "advisory",
    summary: "A declared capability is not in the profile's known vocabulary (possibly a typo).",
    fix: "Check the spelling against the profile's vocabulary in docs/manifest.md; new capabilities are fine.",
  },
  // SPI.
  SPI_VERSION_INVALID: {
    severity: "error",
    summary: "`spi.min` or `spi.max` is not MAJOR.MINOR.",
    fix: 'Write the version as MAJOR.MINOR, for example "1.0" (quoted).',
  },
  SPI_RANGE_INVERTED: {
    severity: "error",
    summary: "`spi.min` is above `spi.max`, so no SPI version satisfies the range.",
    fix: "Swap or correct the bounds.",
  },
  SPI_RANGE_UNSUPPORTED: {
    severity: "warning",
    summary: "No SPI version this Outrig build speaks lies in the range; this core would refuse the module.",
    fix: "Widen the range to include a supported version (see `outrig version`), or use a matching core.",
  },
  // Entrypoint.
  ENTRYPOINT_COMMAND_INVALID: {
    severity: "error",
    summary: "`entrypoint.command` is empty or not a string.",
    fix: "Set the executable to launch, for example `node`.",
  },
  ENV_NAME_INVALID: {
    severity: "error",
    summary: "An `entrypoint.env` name is not a valid environment variable name.",
    fix: "Use letters, digits and `_`, not starting with a digit, at most 128 characters.",
  },
  ENV_RESERVED: {
    severity: "error",
    summary: "An `entrypoint.env` name starts with `OUTRIG_`, which the launch contract reserves.",
    fix: "Rename the variable; the core sets OUTRIG_* itself.",
  },
  ENV_SECRET_LITERAL: {
    severity: "warning",
    summary:
      "An `entrypoint.env` variable looks like a secret (name contains SECRET, TOKEN, PASSWORD, API_KEY...) and has a literal value.",
    fix: "Remove the value from the manifest and read the secret through ConfigSecretsService.",
  },
  // Resources.
  ACCELERATOR_UNKNOWN: {
    severity: "error",
    summary: "`resources.accelerator` is not a known accelerator or alias.",
    fix: "Use cpu, gpu_cuda, gpu_rocm, gpu_metal, gpu_vulkan, npu_directml, npu_coreml, npu_other or other.",
  },
  ACCELERATOR_ALIAS: {
    severity: "advisory",
    summary: "`resources.accelerator` uses an alias (for example `cuda`); it is normalized.",
    fix: "Write the canonical name the message gives.",
  },
  ACCELERATOR_WITHOUT_GPU_CONSENT: {
    severity: "warning",
    summary: "A GPU or NPU accelerator is requested but `consent.capabilities` lacks `gpu`.",
    fix: "Add `gpu` to `consent.capabilities`.",
  },
  // Consent and egress.
  CONSENT_CAPABILITY_UNKNOWN: {
    severity: "error",
    summary: "A consent capability is outside the closed vocabulary.",
    fix: "Use one of the tokens the message lists (for example `net.egress`, not `egress`).",
  },
  CONSENT_CAPABILITY_DUPLICATE: {
    severity: "warning",
    summary: "The same consent capability is listed twice.",
    fix: "Remove the duplicate.",
  },
  CONSENT_SUMMARY_EMPTY: {
    severity: "warning",
    summary: "Consent capabilities are requested but `consent.summary` is empty.",
    fix: "Explain in one paragraph what the module does with them.",
  },
  CONSENT_URL_INVALID: {
    severity: "error",
    summary: "`consent.details_url` is not a URL.",
    fix: "Use an absolute https:// URL.",
  },
  CONSENT_URL_NOT_HTTPS: {
    severity: "error",
    summary: "`consent.details_url` is not https.",
    fix: "Serve the page over https and use the https:// URL.",
  },
  NETWORK_WITHOUT_EGRESS: {
    severity: "error",
    summary: "`resources.requires_network` is true but `consent.capabilities` lacks `net.egress`.",
    fix: "Add `net.egress` to `consent.capabilities` (and ideally an `egress` allow list), or set requires_network to false.",
  },
  EGRESS_ENTRY_INVALID: {
    severity: "error",
    summary:
      "A `consent.egress` entry is not host:port (DNS name, optionally `*.`-prefixed, IPv4 or [IPv6]; port 1-65535).",
    fix: "Write entries such as `api.example.com:443` or `[2001:db8::1]:8443`.",
  },
  EGRESS_DUPLICATE: {
    severity: "warning",
    summary: "The same egress entry is listed twice.",
    fix: "Remove the duplicate.",
  },
  EGRESS_WITHOUT_GRANT: {
    severity: "warning",
    summary:
      "`consent.egress` lists destinations but `net.egress` is not granted, so the list has no effect.",
    fix: "Add `net.egress` to `consent.capabilities`, or remove the list.",
  },
  EGRESS_UNRESTRICTED: {
    severity: "advisory",
    summary: "`net.egress` is granted with no `consent.egress` allow list: the module may connect anywhere.",
    fix: "List the destinations the module needs in `consent.egress`.",
  },
  DIRECT_INGRESS_WITHOUT_LISTEN: {
    severity: "error",
    summary: "`ingress` is `direct` or `both` but `consent.capabilities` lacks `net.listen`.",
    fix: "Add `net.listen` to `consent.capabilities`, or use `core-routed` ingress.",
  },
  // Health and restart.
  POLL_TOO_FAST: {
    severity: "warning",
    summary: "`health.poll_interval_ms` is below 500 ms.",
    fix: "Poll at most twice a second; use failure_threshold for quick detection.",
  },
  GRACE_LT_POLL: {
    severity: "warning",
    summary:
      "`health.grace_period_ms` is shorter than `health.poll_interval_ms`, so the grace period ends before the first check.",
    fix: "Make the grace period at least one poll interval.",
  },
  STARTUP_LT_POLL: {
    severity: "warning",
    summary:
      "`health.startup_timeout_ms` is shorter than `health.poll_interval_ms`, so the start can time out before the first check.",
    fix: "Make the startup timeout at least one poll interval.",
  },
  BACKOFF_MAX_LT_INITIAL: {
    severity: "error",
    summary: "`restart.backoff.max_ms` is below `restart.backoff.initial_ms`.",
    fix: "Make max_ms at least initial_ms.",
  },
  RESTART_DISABLED: {
    severity: "advisory",
    summary: "`restart.max_restarts` is 0: the first crash leaves the module failed.",
    fix: "Allow a few restarts unless failing fast is intended.",
  },
  // Metrics.
  METRIC_NAME_INVALID: {
    severity: "error",
    summary: "A metric name is not a valid Prometheus name (`^[a-zA-Z_:][a-zA-Z0-9_:]*$`, no leading `__`).",
    fix: "Use letters, digits, `_` and `:`, not starting with a digit or `__`.",
  },
  METRIC_DUPLICATE: {
    severity: "warning",
    summary: "The same metric name is listed twice.",
    fix: "Remove the duplicate.",
  },
  METRIC_COUNTER_SUFFIX: {
    severity: "advisory",
    summary: "A counter's name does not end in `_total` (Prometheus convention).",
    fix: "Append `_total` to the counter's name.",
  },
  // Runtime descriptor against manifest (checked by the core at launch).
  DESCRIPTOR_ID_MISMATCH: {
    severity: "error",
    summary: "The descriptor's module_id differs from the manifest's id.",
    fix: "Build the module with the manifest's id (or fix the manifest).",
  },
  DESCRIPTOR_VERSION_MISMATCH: {
    severity: "error",
    summary: "The descriptor's module_version differs from the manifest's version.",
    fix: "Release manifest and module together with the same version.",
  },
  DESCRIPTOR_PROFILE_MISMATCH: {
    severity: "error",
    summary: "The descriptor's profile differs from the manifest's profile.",
    fix: "Make the module serve the profile its manifest declares.",
  },
  DESCRIPTOR_CAPABILITY_UNDECLARED: {
    severity: "error",
    summary: "The descriptor claims a capability the manifest does not declare.",
    fix: "Declare the capability in the manifest (and re-sign it), or drop it from the module.",
  },
  DESCRIPTOR_INGRESS_MISMATCH: {
    severity: "error",
    summary: "The descriptor's ingress modes do not cover the manifest's ingress.",
    fix: "Make the module support the ingress its manifest declares.",
  },
  DESCRIPTOR_SPI_OUTSIDE_RANGE: {
    severity: "error",
    summary: "The descriptor lists an SPI version outside the manifest's spi range.",
    fix: "Widen the manifest's range (and re-sign it) or drop the version from the module.",
  },
});

export type IssueCode = keyof typeof ISSUE_CODES;
export const ALL_ISSUE_CODES = Object.keys(ISSUE_CODES) as IssueCode[];

/** Builds an issue; the severity always comes from the catalog. */
export function makeIssue(code: IssueCode, path: string, message: string): ManifestIssue {
  return { code, severity: ISSUE_CODES[code].severity, path, message };
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, advisory: 2 };

/** Errors first, then warnings, then advisories; stable within a severity. */
export function sortIssues(issues: readonly ManifestIssue[]): ManifestIssue[] {
  return [...issues].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
}

export function countIssues(issues: readonly ManifestIssue[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, advisory: 0 };
  for (const issue of issues) counts[issue.severity] += 1;
  return counts;
}
