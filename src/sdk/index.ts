/**
 * The Outrig TypeScript module SDK. Declare a module with `defineModule`, serve it with
 * `runModule`; the SDK does the handshake, health, lifecycle, deadlines, cancellation,
 * error mapping and the streaming contract. See docs/module-authoring.md.
 */
export { type Category, OutrigError, type OutrigErrorOptions } from "../errors/index.ts";
export type { AuditEventInput, CoreConnection } from "./core-connection.ts";
export {
  type Caller,
  type DirectCheck,
  DirectIngress,
  type DirectOutcome,
  type DirectRequest,
  isIssuedCaller,
} from "./direct-ingress.ts";
export { reply } from "./payload.ts";
export { type RunningModule, type RunOptions, runModule } from "./run.ts";
export type {
  CancelReason,
  InitializeInfo,
  InputSchema,
  InvokeContext,
  InvokeRequest,
  ModuleDefinition,
  Operation,
  StreamingOperation,
  UnaryOperation,
  Usage,
} from "./types.ts";

import { type Category, OutrigError, type OutrigErrorOptions } from "../errors/index.ts";
import type { ModuleDefinition } from "./types.ts";

/** Declares a module; returns it unchanged, typed. */
export function defineModule<T extends ModuleDefinition>(definition: T): T {
  return definition;
}

/** An OutrigError with origin `module`: throw it from a handler to send a typed error. */
export function fail(
  category: Category,
  code: string,
  message?: string,
  options: OutrigErrorOptions = {},
): never {
  throw new OutrigError(category, code, message, { origin: "module", ...options });
}
