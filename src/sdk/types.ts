import type { Logger } from "pino";
import type { ProfileName } from "../spi/descriptor.ts";
import type { CoreConnection } from "./core-connection.ts";

export type IngressName = "core-routed" | "direct";

/** Anything with zod's `safeParse`, so the SDK validates input without depending on zod itself. */
export interface InputSchema<T> {
  safeParse(value: unknown):
    | { success: true; data: T }
    | {
        success: false;
        error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> };
      };
}

/** The request as a handler sees it. */
export interface InvokeRequest<TInput = unknown> {
  /** Raw payload bytes. */
  payload: Uint8Array;
  contentType: string;
  /**
   * The payload parsed as JSON and, when the operation declares an `input` schema,
   * validated by it. Invalid input never reaches the handler: the caller gets
   * INVALID_ARGUMENT.
   */
  input: TInput;
}

/** Everything a handler knows about its call. */
export interface InvokeContext {
  operation: string;
  instanceId: string;
  correlationId: string;
  /** W3C trace id of the call, when the core sent trace context. */
  traceId: string | undefined;
  /** Core-signed caller reference; pass it back to the core, never parse it. */
  contextRef: string;
  attempt: number;
  deadline: Date | undefined;
  /**
   * Aborted when the caller cancels, the deadline passes, or a drain deadline
   * expires; `signal.reason` is a `CancelReason`. Stop work promptly when it fires.
   */
  signal: AbortSignal;
  logger: Logger;
}

export type CancelReason = "cancelled" | "deadline" | "shutdown";

/** A reply with an explicit media type; anything else a handler returns is sent as JSON. */
export interface RawReply {
  readonly [rawReplyTag]: true;
  payload: Uint8Array;
  contentType: string;
}
export const rawReplyTag: unique symbol = Symbol("outrig.rawReply");

export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  counters?: Record<string, number>;
}

export type UnaryHandler<TInput> = (request: InvokeRequest<TInput>, ctx: InvokeContext) => unknown;

/**
 * A streaming handler yields chunks (RawReply, Uint8Array, or JSON values) and may
 * return `{ usage }`. The SDK sends `started`, numbers the chunks, sends exactly one
 * terminal event, and stops pulling the moment the call is cancelled.
 */
export type StreamHandler<TInput> = (
  request: InvokeRequest<TInput>,
  ctx: InvokeContext,
) => AsyncIterable<unknown> | Iterable<unknown>;

interface OperationBase<TInput> {
  description?: string;
  /** Safe to retry; the core retries only idempotent operations. */
  idempotent?: boolean;
  /** Default per-call timeout the core applies, in milliseconds. */
  timeoutMs?: number;
  /** Validates the JSON input before the handler runs (a zod schema, for example). */
  input?: InputSchema<TInput>;
}

export interface UnaryOperation<TInput = unknown> extends OperationBase<TInput> {
  streaming?: false;
  handler: UnaryHandler<TInput>;
}

export interface StreamingOperation<TInput = unknown> extends OperationBase<TInput> {
  streaming: true;
  /** Media type of every chunk (announced in `started`); default `application/json`. */
  contentType?: string;
  handler: StreamHandler<TInput>;
}

// biome-ignore lint/suspicious/noExplicitAny: operations of any input type live in one map
export type Operation = UnaryOperation<any> | StreamingOperation<any>;

/** What `initialize` receives. */
export interface InitializeInfo {
  instanceId: string;
  spiVersion: string;
  /** Module-scoped configuration from the core. */
  config: Record<string, unknown>;
  logger: Logger;
  /** Clients for the core's SPI services (config, secrets, status reports, audit). */
  core: CoreConnection;
}

/** A module, declared once: descriptor facts, handlers, lifecycle hooks. */
export interface ModuleDefinition {
  id: string;
  version: string;
  /** Protocol family, as in the descriptor. */
  profile: ProfileName;
  description?: string;
  /** Declared protocol capabilities; honest: declared ⇒ works. */
  capabilities?: string[];
  protocolVersions?: string[];
  ingress?: IngressName[];
  operations: Record<string, Operation>;
  limits?: { maxRequestBytes?: number; maxConcurrency?: number };
  secretNames?: string[];
  configKeys?: string[];
  metadata?: Record<string, string>;
  /** Runs once the core hands over config; throw to fail the start, or return a degraded reason. */
  initialize?: (
    info: InitializeInfo,
  ) => Promise<undefined | { degraded: string }> | undefined | { degraded: string };
  /** Runs when a drain starts (stop background intake, for example). */
  drain?: () => Promise<void> | void;
  /** Runs before the process exits; release resources here. */
  shutdown?: () => Promise<void> | void;
  /** Module-specific gauges for GetStats. */
  stats?: () => Record<string, number>;
}
