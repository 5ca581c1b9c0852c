/**
 * Smoke-test a module from its manifest: launch it as the core would, one round trip,
 * drain, shutdown. `outrig module smoke` prints this; module tests call it directly
 * (`import { smokeModule } from "outrig/smoke"`). See docs/manifest.md.
 */
export {
  formatSmokeStep,
  formatSmokeSummary,
  SMOKE_STEPS,
  type SmokeReport,
  type SmokeRoundTrip,
  type SmokeStep,
  type SmokeStepName,
} from "./report.ts";
export { type SmokeOptions, smokeModule } from "./run.ts";
