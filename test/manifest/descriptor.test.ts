import { create } from "@bufbuild/protobuf";
import {
  IngressMode,
  type ModuleDescriptor,
  ModuleDescriptorSchema,
  Profile,
} from "../../src/gen/outrig/module/v1/descriptor_pb.ts";
import {
  checkDescriptorAgainstManifest,
  PROFILE_TO_PB,
  PROFILES,
  validateManifest,
} from "../../src/manifest/index.ts";
import { baseManifest } from "./helpers.ts";

function manifest(patch: Record<string, unknown> = {}) {
  const report = validateManifest({ ...baseManifest(), ...patch });
  if (!report.manifest) throw new Error(JSON.stringify(report.issues));
  return report.manifest;
}

function descriptor(patch: Partial<ModuleDescriptor> = {}): ModuleDescriptor {
  const d = create(ModuleDescriptorSchema, {
    descriptorSchemaVersion: 1,
    moduleId: "acme.echo",
    moduleVersion: "1.0.0",
    profile: Profile.MCP,
    implementationLanguage: "typescript",
    spiVersions: ["1.0"],
    ingressModes: [IngressMode.CORE_ROUTED],
    capabilities: ["tools"],
  });
  return Object.assign(d, patch);
}

const codes = (issues: { code: string }[]) => issues.map((i) => i.code);

describe("checkDescriptorAgainstManifest", () => {
  it("accepts a descriptor that matches", () => {
    expect(checkDescriptorAgainstManifest(manifest(), descriptor())).toEqual([]);
  });

  it("accepts a descriptor with fewer capabilities than declared", () => {
    const m = manifest({ capabilities: ["tools", "resources", "prompts"] });
    expect(checkDescriptorAgainstManifest(m, descriptor({ capabilities: ["prompts"] }))).toEqual([]);
    expect(checkDescriptorAgainstManifest(m, descriptor({ capabilities: [] }))).toEqual([]);
  });

  it("maps every manifest profile, custom to PROFILE_CUSTOM", () => {
    expect(PROFILE_TO_PB.custom).toBe(Profile.CUSTOM);
    expect(new Set(PROFILES.map((p) => PROFILE_TO_PB[p])).size).toBe(PROFILES.length);
    for (const profile of PROFILES) {
      const m = manifest({ profile, capabilities: [] });
      expect(
        checkDescriptorAgainstManifest(m, descriptor({ profile: PROFILE_TO_PB[profile], capabilities: [] })),
      ).toEqual([]);
    }
  });

  it("reports each disagreement with both values, leaving the module's name to the caller", () => {
    const issues = checkDescriptorAgainstManifest(
      manifest(),
      descriptor({
        moduleId: "acme.impostor",
        moduleVersion: "2.0.0",
        profile: Profile.UNSPECIFIED,
        capabilities: ["tools", "sampling", "roots"],
        ingressModes: [IngressMode.DIRECT],
        spiVersions: ["1.0", "0.9"],
      }),
    );
    expect(codes(issues)).toEqual([
      "DESCRIPTOR_ID_MISMATCH",
      "DESCRIPTOR_VERSION_MISMATCH",
      "DESCRIPTOR_PROFILE_MISMATCH",
      "DESCRIPTOR_CAPABILITY_UNDECLARED",
      "DESCRIPTOR_CAPABILITY_UNDECLARED",
      "DESCRIPTOR_INGRESS_MISMATCH",
      "DESCRIPTOR_SPI_OUTSIDE_RANGE",
    ]);
    expect(issues.map((i) => i.path)).toEqual([
      "$.module_id",
      "$.module_version",
      "$.profile",
      "$.capabilities[1]",
      "$.capabilities[2]",
      "$.ingress_modes",
      "$.spi_versions[1]",
    ]);
    for (const issue of issues) {
      expect(issue.severity).toBe("error");
      expect(issue.message).not.toMatch(/^module /);
    }
    expect(issues[0]?.message).toBe('descriptor says id "acme.impostor", manifest says "acme.echo"');
    expect(issues[2]?.message).toContain("unknown (0)");
    expect(issues[3]?.message).toContain('"sampling"');
  });

  it("ingress both needs both modes in the descriptor", () => {
    const m = manifest({ ingress: "both", consent: { summary: "s", capabilities: ["net.listen"] } });
    expect(codes(checkDescriptorAgainstManifest(m, descriptor()))).toEqual(["DESCRIPTOR_INGRESS_MISMATCH"]);
    expect(
      checkDescriptorAgainstManifest(
        m,
        descriptor({ ingressModes: [IngressMode.DIRECT, IngressMode.CORE_ROUTED] }),
      ),
    ).toEqual([]);
  });

  it("checks SPI versions against the manifest range numerically", () => {
    const m = manifest({ spi: { min: "1.2", max: "1.10" } });
    expect(checkDescriptorAgainstManifest(m, descriptor({ spiVersions: ["1.2", "1.9", "1.10"] }))).toEqual(
      [],
    );
    expect(
      codes(checkDescriptorAgainstManifest(m, descriptor({ spiVersions: ["1.11", "1.1", "bogus"] }))),
    ).toEqual([
      "DESCRIPTOR_SPI_OUTSIDE_RANGE",
      "DESCRIPTOR_SPI_OUTSIDE_RANGE",
      "DESCRIPTOR_SPI_OUTSIDE_RANGE",
    ]);
  });
});
