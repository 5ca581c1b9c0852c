/**
 * The launch-time check that a module is what its (signed) manifest says: the runtime
 * descriptor must match on identity and may only claim what the manifest declares.
 */
import { IngressMode, type ModuleDescriptor, type Profile } from "../gen/outrig/module/v1/descriptor_pb.ts";
import { PROFILE_TO_PB } from "../spi/descriptor.ts";
import { spiVersionInRange } from "../spi/versions.ts";
import { type ManifestIssue, makeIssue } from "./codes.ts";
import { jsonPath } from "./json-path.ts";
import type { Manifest } from "./schema.ts";
import type { IngressName } from "./vocabulary.ts";

export { PROFILE_TO_PB } from "../spi/descriptor.ts";

const INGRESS_TO_PB: Readonly<Record<IngressName, readonly IngressMode[]>> = {
  "core-routed": [IngressMode.CORE_ROUTED],
  direct: [IngressMode.DIRECT],
  both: [IngressMode.CORE_ROUTED, IngressMode.DIRECT],
};

function profileName(profile: Profile): string {
  const entry = Object.entries(PROFILE_TO_PB).find(([, value]) => value === profile);
  return entry ? entry[0] : `unknown (${profile})`;
}

export type DescriptorCheckedFields = Pick<
  Manifest,
  "id" | "version" | "profile" | "capabilities" | "ingress" | "spi"
>;

/**
 * Issues where the descriptor disagrees with the manifest; empty means they agree.
 * Paths point into the descriptor (proto field names). Messages do not repeat the
 * module id: the caller reports them under the module's name.
 */
export function checkDescriptorAgainstManifest(
  manifest: DescriptorCheckedFields,
  descriptor: ModuleDescriptor,
): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const add = (code: Parameters<typeof makeIssue>[0], path: PropertyKey[], message: string) =>
    issues.push(makeIssue(code, jsonPath(path), message));

  if (descriptor.moduleId !== manifest.id) {
    add(
      "DESCRIPTOR_ID_MISMATCH",
      ["module_id"],
      `descriptor says id "${descriptor.moduleId}", manifest says "${manifest.id}"`,
    );
  }
  if (descriptor.moduleVersion !== manifest.version) {
    add(
      "DESCRIPTOR_VERSION_MISMATCH",
      ["module_version"],
      `descriptor says version "${descriptor.moduleVersion}", manifest says "${manifest.version}"`,
    );
  }
  if (descriptor.profile !== PROFILE_TO_PB[manifest.profile]) {
    add(
      "DESCRIPTOR_PROFILE_MISMATCH",
      ["profile"],
      `descriptor says profile ${profileName(descriptor.profile)}, manifest says ${manifest.profile}`,
    );
  }
  const declared = new Set(manifest.capabilities);
  descriptor.capabilities.forEach((capability, i) => {
    if (!declared.has(capability)) {
      add(
        "DESCRIPTOR_CAPABILITY_UNDECLARED",
        ["capabilities", i],
        `capability "${capability}" is not declared in the manifest (declared: ${[...declared].join(", ") || "none"})`,
      );
    }
  });
  const missingIngress = INGRESS_TO_PB[manifest.ingress].filter(
    (mode) => !descriptor.ingressModes.includes(mode),
  );
  if (missingIngress.length > 0) {
    add(
      "DESCRIPTOR_INGRESS_MISMATCH",
      ["ingress_modes"],
      `manifest ingress "${manifest.ingress}" needs ${missingIngress.map((m) => IngressMode[m]).join(" and ")}, which the descriptor does not list`,
    );
  }
  descriptor.spiVersions.forEach((version, i) => {
    if (!spiVersionInRange(version, manifest.spi)) {
      add(
        "DESCRIPTOR_SPI_OUTSIDE_RANGE",
        ["spi_versions", i],
        `SPI ${version} is outside the manifest's range ${manifest.spi.min}-${manifest.spi.max}`,
      );
    }
  });
  return issues;
}
