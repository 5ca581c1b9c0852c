import { create } from "@bufbuild/protobuf";
import {
  DeploymentMode,
  IngressMode,
  type ModuleDescriptor,
  ModuleDescriptorSchema,
  Profile,
} from "../gen/outrig/module/v1/descriptor_pb.ts";
import { DESCRIPTOR_SCHEMA_VERSION, PROFILE_TO_PB } from "../spi/descriptor.ts";
import { SUPPORTED_SPI_VERSIONS } from "../spi/versions.ts";
import type { IngressName, ModuleDefinition } from "./types.ts";

export const SDK_NAME = "outrig-sdk-typescript";
export const SDK_VERSION = "0.1.0";

const INGRESS: Record<IngressName, IngressMode> = {
  "core-routed": IngressMode.CORE_ROUTED,
  direct: IngressMode.DIRECT,
};

/** The wire descriptor of a module definition. */
export function buildDescriptor(def: ModuleDefinition): ModuleDescriptor {
  return create(ModuleDescriptorSchema, {
    descriptorSchemaVersion: DESCRIPTOR_SCHEMA_VERSION,
    moduleId: def.id,
    moduleVersion: def.version,
    profile: PROFILE_TO_PB[def.profile] ?? Profile.UNSPECIFIED,
    implementationLanguage: "typescript",
    spiVersions: [...SUPPORTED_SPI_VERSIONS],
    ingressModes: (def.ingress ?? ["core-routed"]).map((i) => INGRESS[i] ?? IngressMode.UNSPECIFIED),
    deploymentModes: [DeploymentMode.SUPERVISED, DeploymentMode.ATTACHED],
    capabilities: def.capabilities ?? [],
    operations: Object.entries(def.operations).map(([name, op]) => ({
      name,
      streaming: op.streaming === true,
      idempotent: op.idempotent === true,
      description: op.description ?? "",
      timeoutMs: op.timeoutMs ?? 0,
    })),
    protocolVersions: def.protocolVersions ?? [],
    configKeys: def.configKeys ?? [],
    secretNames: def.secretNames ?? [],
    limits: {
      maxRequestBytes: BigInt(def.limits?.maxRequestBytes ?? 0),
      maxConcurrency: def.limits?.maxConcurrency ?? 0,
    },
    build: { sdk: SDK_NAME, sdkVersion: SDK_VERSION },
    metadata: def.metadata ?? {},
  });
}
