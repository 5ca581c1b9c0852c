import type { Logger } from "pino";
import type { OutrigError } from "../../errors/index.ts";
import type { ModuleConfig } from "../config/schema.ts";
import type { CoreMetrics } from "../metrics.ts";
import type { SecretScrubber } from "../secrets.ts";
import type { ErrorNote, ModuleState, ModuleStatus } from "../types.ts";
import type { CredentialRegistry } from "./credentials.ts";
import type { InitializeParams, ModuleInstance } from "./instance.ts";

/** What every module group gets from the supervisor. */
export interface GroupDeps {
  logger: Logger;
  metrics: CoreMetrics;
  scrubber: SecretScrubber;
  credentials: CredentialRegistry;
  /** Parameters of Initialize that do not depend on the instance. */
  initialize: (
    moduleId: string,
    deployment: "supervised" | "attached",
  ) => Omit<InitializeParams, "moduleCredential">;
  /** mTLS material for calls to modules over TCP, when configured. */
  tls?: import("../../spi/tls.ts").TlsMaterial;
}

/**
 * A configured module and its instances. The routing set (`active`) changes only in
 * synchronous blocks, so a switch between instance sets is atomic for the router.
 */
export abstract class ModuleGroup {
  readonly active = new Set<ModuleInstance>();
  readonly instances = new Set<ModuleInstance>();
  lastError: ErrorNote | undefined;
  /** Why the module was refused before any launch (security policy); it stays failed. */
  refused: string | undefined;
  /** The refusal as an error: what a restart, upgrade or registration of it gets. */
  refusal: OutrigError | undefined;
  protected stopped = false;
  #routable: ModuleInstance[] = [];
  #cursor = 0;

  constructor(
    readonly config: ModuleConfig,
    protected readonly deps: GroupDeps,
  ) {}

  get id(): string {
    return this.config.id;
  }

  abstract start(): void;
  abstract stop(): Promise<void>;
  abstract get desiredReplicas(): number;
  protected abstract get restartCounts(): ModuleStatus["restarts"];
  protected abstract get failedForGood(): boolean;
  protected abstract get waiting(): boolean;

  /** Call after any change of instance state or of the active set. */
  protected refresh(): void {
    this.#routable = [...this.active].filter((i) => i.routable);
    const byState = new Map<string, number>();
    for (const i of this.instances) byState.set(i.state, (byState.get(i.state) ?? 0) + 1);
    for (const state of ["starting", "initializing", "ready", "degraded", "draining", "stopped", "failed"]) {
      this.deps.metrics.instances.set({ module: this.id, state }, byState.get(state) ?? 0);
    }
    this.deps.metrics.moduleUp.set({ module: this.id }, this.#routable.length > 0 ? 1 : 0);
  }

  /** Refuses the module before it starts: failed for good, never launched, logged as an error. */
  refuse(error: OutrigError, reason: string): void {
    this.refusal = error;
    this.refused = reason;
    this.noteError(reason, "error");
    this.refresh();
  }

  protected track(instance: ModuleInstance): void {
    this.instances.add(instance);
    instance.onStateChange(() => this.refresh());
    this.refresh();
  }

  protected activate(instance: ModuleInstance): void {
    this.active.add(instance);
    this.refresh();
  }

  protected deactivate(instance: ModuleInstance): void {
    this.active.delete(instance);
    this.refresh();
  }

  protected forget(instance: ModuleInstance): void {
    this.active.delete(instance);
    this.instances.delete(instance);
    this.deps.credentials.unregister(instance.moduleCredential);
    this.deps.scrubber.remove(instance.coreSecret);
    this.deps.scrubber.remove(instance.moduleCredential);
    this.refresh();
  }

  protected noteError(message: string, level: "warn" | "error" = "warn"): void {
    this.lastError = { message, at: new Date().toISOString() };
    this.deps.logger[level]({ module_id: this.id }, message);
  }

  /** Least outstanding requests among routable instances, round-robin among ties. */
  pick(exclude?: ReadonlySet<ModuleInstance>): ModuleInstance | undefined {
    const candidates = this.#routable;
    const n = candidates.length;
    if (n === 0) return undefined;
    let best: ModuleInstance | undefined;
    const start = this.#cursor++ % n;
    for (let k = 0; k < n; k++) {
      const candidate = candidates[(start + k) % n]!;
      if (!candidate.routable || exclude?.has(candidate)) continue;
      if (!best || candidate.outstanding < best.outstanding) best = candidate;
    }
    return best;
  }

  /** Milliseconds until a failed instance restarts, for a Retry-After hint; undefined when none is due. */
  get nextRestartInMs(): number | undefined {
    return undefined;
  }

  /** The descriptor of a routable instance (the current generation's). */
  get descriptorSource(): ModuleInstance | undefined {
    return this.#routable[0] ?? [...this.active][0];
  }

  get state(): ModuleState {
    if (this.stopped) return "stopped";
    if (this.refused !== undefined) return "failed";
    const ready = this.#routable.length;
    if (ready > 0) {
      const degraded = ready < this.desiredReplicas || this.#routable.some((i) => i.state === "degraded");
      return degraded ? "degraded" : "ready";
    }
    if (this.failedForGood) return "failed";
    if (this.waiting) return "waiting";
    if ([...this.instances].every((i) => i.state === "starting" || i.state === "initializing"))
      return "starting";
    return "unavailable";
  }

  status(): ModuleStatus {
    const source = this.descriptorSource;
    const status: ModuleStatus = {
      id: this.id,
      required: this.config.required,
      state: this.state,
      replicas: { desired: this.desiredReplicas, ready: this.#routable.length },
      restarts: this.restartCounts,
      instances: [...this.instances].map((i) => i.status()),
    };
    if (source?.spiVersion) status.spiVersion = source.spiVersion;
    if (source?.descriptor) {
      status.version = source.descriptor.moduleVersion;
      status.descriptor = source.descriptorJson();
    }
    if (this.lastError) status.lastError = this.lastError;
    return status;
  }
}
