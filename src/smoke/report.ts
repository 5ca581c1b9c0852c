/** The smoke test's steps, its report, and how the report reads in a terminal. */
import { BRING_UP_STEPS } from "../core/supervisor/instance.ts";

/** Every step, in the order a run takes them; a run stops at the first failure. */
export const SMOKE_STEPS = [
  "manifest",
  "spawn",
  "handshake",
  ...BRING_UP_STEPS,
  "round-trip",
  "drain",
  "shutdown",
  "exit",
] as const;
export type SmokeStepName = (typeof SMOKE_STEPS)[number];

export interface SmokeStep {
  name: SmokeStepName;
  ok: boolean;
  duration_ms: number;
  /** What the step found (pid, address, SPI version...). */
  detail?: string;
  /** Why it failed. */
  error?: string;
}

export interface SmokeRoundTrip {
  operation: string;
  streaming: boolean;
  input: unknown;
  content_type: string;
  /** JSON output parsed; text as a string; anything else as `{ base64 }`. For a stream: the chunks. */
  output: unknown;
}

/** The machine-readable result (`outrig module smoke --json` prints it). */
export interface SmokeReport {
  manifest: string;
  ok: boolean;
  module_id?: string;
  version?: string;
  profile?: string;
  /** The step that failed, when one did. */
  failed_step?: SmokeStepName;
  error?: string;
  steps: SmokeStep[];
  round_trip?: SmokeRoundTrip;
  /** The module's last lines of output (stderr and non-handshake stdout). */
  module_output: string[];
  duration_ms: number;
}

const WIDTH = Math.max(...SMOKE_STEPS.map((s) => s.length));

/** One aligned line: status, step, duration, detail or error. */
export function formatSmokeStep(step: SmokeStep): string {
  const status = step.ok ? "ok  " : "FAIL";
  const ms = `${step.duration_ms} ms`.padStart(8);
  return `  ${status}  ${step.name.padEnd(WIDTH)} ${ms}  ${(step.ok ? step.detail : step.error) ?? ""}`.trimEnd();
}

/** The closing lines: the verdict, and on failure the step, the reason and the module's last output. */
export function formatSmokeSummary(report: SmokeReport): string {
  if (report.ok) return `passed: ${report.steps.length} steps in ${report.duration_ms} ms`;
  const lines = [`failed at step "${report.failed_step}": ${report.error}`];
  if (report.module_output.length > 0) {
    lines.push("module output (last lines):", ...report.module_output.slice(-10).map((l) => `  | ${l}`));
  }
  return lines.join("\n");
}
