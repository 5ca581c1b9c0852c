import {
  DeploymentMode,
  IngressMode,
  type ModuleDescriptor,
  Profile,
} from "../gen/outrig/module/v1/descriptor_pb.ts";
import { isSpiVersion } from "./versions.ts";

export const DESCRIPTOR_SCHEMA_VERSION = 1;
export const MODULE_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Strict SemVer 2.0.0. */
export const SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
export const OPERATION_NAME_PATTERN = /^[a-z][a-z0-9._/-]{0,127}$/;
export const CAPABILITY_PATTERN = /^[a-z][a-z0-9._-]{0,63}$/;

/** Protocol families, as manifests and module definitions name them. */
export const PROFILES = ["mcp", "a2a", "llm", "rest", "grpc", "custom"] as const;
export type ProfileName = (typeof PROFILES)[number];

/** Profile name → descriptor enum value (`custom` is PROFILE_CUSTOM). */
export const PROFILE_TO_PB: Readonly<Record<ProfileName, Profile>> = {
  mcp: Profile.MCP,
  a2a: Profile.A2A,
  llm: Profile.LLM,
  rest: Profile.REST,
  grpc: Profile.GRPC,
  custom: Profile.CUSTOM,
};

/** Operation names starting with this prefix belong to the SPI itself. */
export const RESERVED_OPERATION_PREFIX = "outrig.";
/**
 * The proof-of-wiring operation every module answers (the SDKs do it for you):
 * Invoke with this name and any payload returns the same payload. The core calls it
 * through its router before it routes traffic to an instance.
 */
export const WIRING_PROBE_OPERATION = "outrig.wiring.probe";

export interface DescriptorIssue {
  path: string;
  message: string;
}

/** Checks a descriptor against SPI 1.0's rules; an empty list means valid. */
export function validateDescriptor(d: ModuleDescriptor): DescriptorIssue[] {
  const issues: DescriptorIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });

  if (d.descriptorSchemaVersion !== DESCRIPTOR_SCHEMA_VERSION) {
    add(
      "descriptor_schema_version",
      `must be ${DESCRIPTOR_SCHEMA_VERSION}, got ${d.descriptorSchemaVersion}`,
    );
  }
  if (!MODULE_ID_PATTERN.test(d.moduleId)) {
    add("module_id", `${JSON.stringify(d.moduleId)} does not match ${MODULE_ID_PATTERN.source}`);
  }
  if (!SEMVER_PATTERN.test(d.moduleVersion)) {
    add("module_version", `${JSON.stringify(d.moduleVersion)} is not a SemVer 2.0.0 version`);
  }
  if (d.profile === Profile.UNSPECIFIED || Profile[d.profile] === undefined) {
    add("profile", "must be set (mcp, a2a, llm, rest, grpc or custom)");
  }
  if (d.implementationLanguage.trim() === "") add("implementation_language", "must be set");
  if (d.spiVersions.length === 0) add("spi_versions", "must list at least one SPI version");
  d.spiVersions.forEach((v, i) => {
    if (!isSpiVersion(v)) add(`spi_versions[${i}]`, `${JSON.stringify(v)} is not MAJOR.MINOR`);
  });
  if (d.ingressModes.length === 0) add("ingress_modes", "must list at least one ingress mode");
  d.ingressModes.forEach((m, i) => {
    if (m === IngressMode.UNSPECIFIED || IngressMode[m] === undefined)
      add(`ingress_modes[${i}]`, "unknown mode");
  });
  if (d.deploymentModes.length === 0) add("deployment_modes", "must list at least one deployment mode");
  d.deploymentModes.forEach((m, i) => {
    if (m === DeploymentMode.UNSPECIFIED || DeploymentMode[m] === undefined) {
      add(`deployment_modes[${i}]`, "unknown mode");
    }
  });
  const capabilities = new Set<string>();
  d.capabilities.forEach((c, i) => {
    if (!CAPABILITY_PATTERN.test(c))
      add(`capabilities[${i}]`, `${JSON.stringify(c)} is not a capability name`);
    if (capabilities.has(c)) add(`capabilities[${i}]`, `${JSON.stringify(c)} is declared twice`);
    capabilities.add(c);
  });
  if (d.operations.length > 256) add("operations", "at most 256 operations");
  const operations = new Set<string>();
  d.operations.forEach((op, i) => {
    if (!OPERATION_NAME_PATTERN.test(op.name)) {
      add(
        `operations[${i}].name`,
        `${JSON.stringify(op.name)} does not match ${OPERATION_NAME_PATTERN.source}`,
      );
    } else if (op.name.startsWith(RESERVED_OPERATION_PREFIX)) {
      add(
        `operations[${i}].name`,
        `${JSON.stringify(op.name)} uses the reserved prefix "${RESERVED_OPERATION_PREFIX}"`,
      );
    }
    if (operations.has(op.name)) add(`operations[${i}].name`, `${JSON.stringify(op.name)} is declared twice`);
    operations.add(op.name);
  });
  return issues;
}

export function formatIssues(issues: readonly DescriptorIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("; ");
}
