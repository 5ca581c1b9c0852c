/**
 * The contracts between the core's parts: the supervisor and router on one side, the
 * HTTP ingress, admin API and CLI on the other.
 */
import type { OutrigError } from "../errors/index.ts";

export type InstanceState =
  | "starting"
  | "initializing"
  | "ready"
  | "degraded"
  | "draining"
  | "stopped"
  | "failed";

/**
 * A module's overall state: `waiting` (attached, not registered yet), `starting`,
 * `ready`, `degraded` (serving with fewer ready instances than desired or a degraded
 * report), `unavailable` (no ready instance, restarting), `failed` (restart budget
 * exhausted or a permanent start error), `stopped`.
 */
export type ModuleState =
  | "waiting"
  | "starting"
  | "ready"
  | "degraded"
  | "unavailable"
  | "failed"
  | "stopped";

export interface ErrorNote {
  message: string;
  /** ISO 8601. */
  at: string;
}

export interface InstanceStatus {
  id: string;
  state: InstanceState;
  deployment: "supervised" | "attached";
  pid?: number;
  address?: string;
  /** Upgrade generation this instance belongs to (1 for the first). */
  generation: number;
  version?: string;
  /** ISO 8601. */
  startedAt: string;
  readyAt?: string;
  inFlight: number;
  condition?: { code: string; reason: string };
  lastError?: ErrorNote;
}

export interface ModuleStatus {
  id: string;
  required: boolean;
  state: ModuleState;
  replicas: { desired: number; ready: number };
  restarts: { total: number; inWindow: number; max: number; windowMs: number };
  spiVersion?: string;
  version?: string;
  lastError?: ErrorNote;
  /** The descriptor as JSON (protobuf JSON form), once read. */
  descriptor?: unknown;
  instances: InstanceStatus[];
}

/** What the router needs to call an operation. */
export interface RouteRequest {
  moduleId: string;
  operation: string;
  payload: Uint8Array;
  contentType: string;
  /** `X-Correlation-Id` of the request, as the ingress validated it; a UUIDv4 is generated when absent. */
  correlationId?: string;
  /** Incoming W3C trace context. */
  traceparent?: string;
  tracestate?: string;
  /** Absolute deadline, epoch milliseconds. The module's timeout applies when earlier. */
  deadline?: number;
  /** Aborting cancels the call at the module. */
  signal?: AbortSignal;
  /** The core-signed caller reference the access decision issued (`InvocationContext.context_ref`). */
  contextRef?: string;
  /** Non-secret attributes forwarded to the module (for example `client_ip`). */
  attributes?: Record<string, string>;
}

export interface RouteResult {
  payload: Uint8Array;
  contentType: string;
  instanceId: string;
}

export type StreamEvent =
  | {
      type: "started";
      contentType: string;
      instanceId: string;
      correlationId: string;
      traceId: string | undefined;
    }
  | { type: "chunk"; sequence: number; payload: Uint8Array }
  | {
      type: "end";
      cancelled: boolean;
      usage: { inputTokens: number; outputTokens: number; counters: Record<string, number> };
    }
  | { type: "error"; error: OutrigError };

export interface Invoker {
  /** Rejects with an OutrigError. */
  invoke(request: RouteRequest): Promise<RouteResult>;
  /**
   * Events in contract order: `started`, chunks, then exactly one `end` or `error`.
   * A failure before the stream starts is a single `error` event. Aborting
   * `request.signal` cancels the module call; the stream then yields one
   * `end{cancelled:true}` and nothing else.
   */
  invokeStream(request: RouteRequest): AsyncIterable<StreamEvent>;
}

export interface UpgradeSpec {
  command?: string;
  args?: string[];
  env?: Record<string, string>;
}

export interface ModuleAdmin {
  list(): ModuleStatus[];
  get(moduleId: string): ModuleStatus | undefined;
  /** Replaces every instance, one at a time, without dropping a request. */
  restart(moduleId: string): Promise<void>;
  /** Starts the new version, waits until ready, switches, drains the old. */
  upgrade(moduleId: string, spec: UpgradeSpec): Promise<void>;
  /** Drains one instance and replaces it. */
  drainInstance(moduleId: string, instanceId: string): Promise<void>;
}

/** Readiness of the whole core: ready when every required module is ready or degraded. */
export interface Readiness {
  ready: boolean;
  modules: Array<{ id: string; required: boolean; state: ModuleState; reason?: string }>;
}
