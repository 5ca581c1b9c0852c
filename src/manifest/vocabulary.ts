/**
 * Closed vocabularies of the manifest. They live in code (not in prose) so the schema,
 * the validator, the JSON Schema and the docs cannot disagree about them.
 */

import type { ProfileName } from "../spi/descriptor.ts";

export { PROFILES, type ProfileName } from "../spi/descriptor.ts";

export const MODALITIES = ["text", "audio", "vision"] as const;

export const INGRESS_MODES = ["core-routed", "direct", "both"] as const;
export type IngressName = (typeof INGRESS_MODES)[number];

export const LISTEN_TRANSPORTS = ["unix", "tcp"] as const;

export const METRIC_TYPES = ["counter", "gauge", "histogram", "summary"] as const;

export const ACCELERATORS = [
  "cpu",
  "gpu_cuda",
  "gpu_rocm",
  "gpu_metal",
  "gpu_vulkan",
  "npu_directml",
  "npu_coreml",
  "npu_other",
  "other",
] as const;
export type Accelerator = (typeof ACCELERATORS)[number];

/** Short spellings authors use; accepted, normalized, and reported as an advisory. */
export const ACCELERATOR_ALIASES = {
  cuda: "gpu_cuda",
  rocm: "gpu_rocm",
  metal: "gpu_metal",
  vulkan: "gpu_vulkan",
  directml: "npu_directml",
  coreml: "npu_coreml",
} as const satisfies Record<string, Accelerator>;
export type AcceleratorAlias = keyof typeof ACCELERATOR_ALIASES;

export function isAcceleratorAlias(value: unknown): value is AcceleratorAlias {
  return typeof value === "string" && Object.hasOwn(ACCELERATOR_ALIASES, value);
}

/**
 * What an operator consents to when activating a module. A closed set, so Cedar
 * policies and the egress check can rely on exact tokens (ARW's free-form tokens let
 * `network_egress` slip past its network check).
 */
export const CONSENT_CAPABILITIES = {
  "net.egress": "Open outbound network connections (limited to `consent.egress` when that list is set).",
  "net.listen": "Accept connections on its own public listener (required for `direct` or `both` ingress).",
  "fs.read": "Read files outside its working directory.",
  "fs.write": "Write files outside its working directory.",
  gpu: "Use an accelerator device (GPU or NPU).",
  "secrets.read": "Read its secrets through ConfigSecretsService.",
  "process.spawn": "Start child processes.",
  "catalog.invoke": "Call other modules' operations through the core catalog.",
} as const;
export type ConsentCapability = keyof typeof CONSENT_CAPABILITIES;
export const CONSENT_CAPABILITY_NAMES = Object.keys(CONSENT_CAPABILITIES) as [
  ConsentCapability,
  ...ConsentCapability[],
];

/**
 * Protocol capabilities each profile knows. A manifest may declare others (protocols
 * grow); an unknown one is an advisory, so typos surface without blocking anything.
 * `custom` has no vocabulary: its capabilities are whatever the module defines.
 */
export const PROFILE_CAPABILITIES: Readonly<Record<ProfileName, readonly string[]>> = {
  mcp: [
    "tools",
    "tools.list_changed",
    "resources",
    "resources.subscribe",
    "resources.list_changed",
    "prompts",
    "prompts.list_changed",
    "completions",
    "logging",
    "sampling",
    "elicitation",
    "roots",
    "sessions",
    "streaming",
  ],
  a2a: ["discovery", "invoke", "streaming", "task_state", "push_notifications", "extended_agent_card"],
  llm: [
    "chat_completions",
    "completions",
    "responses",
    "embeddings",
    "models",
    "streaming",
    "tools",
    "vision",
    "audio",
    "provider_relay",
  ],
  rest: ["relay", "streaming", "openapi", "websocket"],
  grpc: ["relay", "streaming", "reflection", "health"],
  custom: [],
};
