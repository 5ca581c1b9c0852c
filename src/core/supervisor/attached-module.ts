import { OutrigError } from "../../errors/index.ts";
import { newSecret } from "../../spi/credentials.ts";
import { isModuleAddress } from "../../spi/handshake.ts";
import type { AttachedModuleConfig } from "../config/schema.ts";
import type { ModuleStatus } from "../types.ts";
import { ModuleInstance } from "./instance.ts";
import { manifestHooks } from "./manifest-admission.ts";
import { type GroupDeps, ModuleGroup } from "./module-group.ts";

const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * A module started by someone else (compose, Kubernetes) that registers itself. The
 * core never restarts it; an unhealthy instance leaves routing until it registers again.
 */
export class AttachedModule extends ModuleGroup {
  #registered = false;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #generation = 0;

  constructor(
    override readonly config: AttachedModuleConfig,
    deps: GroupDeps,
  ) {
    super(config, deps);
  }

  get desiredReplicas(): number {
    return this.config.replicas;
  }

  protected get restartCounts(): ModuleStatus["restarts"] {
    return { total: 0, inWindow: 0, max: 0, windowMs: 0 };
  }

  protected get failedForGood(): boolean {
    return !this.#registered && this.lastError !== undefined;
  }

  protected get waiting(): boolean {
    return !this.#registered;
  }

  start(): void {
    this.#deadlineTimer = setTimeout(() => {
      if (this.#registered || this.stopped) return;
      const what = this.config.required ? "required module" : "module";
      this.noteError(
        `${what} ${JSON.stringify(this.id)} has not registered within ${this.config.timeouts.registration_ms} ms; check that it runs and can reach the core's SPI address`,
        this.config.required ? "error" : "warn",
      );
      this.refresh();
    }, this.config.timeouts.registration_ms);
    this.#deadlineTimer.unref();
  }

  /** Admits a registration and brings the instance up in the background. */
  register(request: { instanceId: string; address: string; coreSecret: string }): string {
    if (this.stopped) throw OutrigError.fromCode("core.lifecycle.shutting_down");
    if (this.refusal) throw this.refusal;
    if (!INSTANCE_ID.test(request.instanceId)) {
      throw OutrigError.fromCode("core.registration.invalid", {
        message: "instance_id is not a valid identifier.",
      });
    }
    if (!isModuleAddress(request.address)) {
      throw OutrigError.fromCode("core.registration.invalid", {
        message: "address must be unix:///path or host:port.",
      });
    }
    if (request.coreSecret.length < 32) {
      throw OutrigError.fromCode("core.registration.invalid", {
        message: "core_secret must have at least 32 characters.",
      });
    }
    for (const existing of this.instances) {
      if (existing.id === request.instanceId) this.#drop(existing, "registered again");
    }
    const instance = new ModuleInstance(
      request.instanceId,
      this.id,
      "attached",
      ++this.#generation,
      request.coreSecret,
      newSecret(),
      this.deps.logger.child({ module_id: this.id, instance_id: request.instanceId }),
    );
    this.deps.scrubber.add(instance.coreSecret);
    this.deps.scrubber.add(instance.moduleCredential);
    this.deps.credentials.register(instance.moduleCredential, instance);
    this.track(instance);
    instance.connect(request.address, this.deps.tls);
    void this.#bringUp(instance);
    return instance.id;
  }

  async #bringUp(instance: ModuleInstance): Promise<void> {
    try {
      await instance.bringUp(
        this.id,
        { ...this.deps.initialize(this.id, "attached"), moduleCredential: instance.moduleCredential },
        Date.now() + this.config.health.startup_timeout_ms,
        manifestHooks(this.config.loadedManifest),
      );
    } catch (error) {
      instance.noteError((error as Error).message);
      instance.setState("failed");
      this.noteError((error as Error).message, "error");
      this.#drop(instance, "start failed");
      return;
    }
    if (instance.stopping || this.stopped) return;
    this.#registered = true;
    this.lastError = undefined;
    clearTimeout(this.#deadlineTimer);
    instance.logger.info(
      { address: instance.address, spi_version: instance.spiVersion },
      "attached module instance ready",
    );
    this.activate(instance);
    instance.startHealthChecks(this.config.health, (reason) => {
      instance.noteError(reason);
      this.noteError(
        `attached instance ${instance.id} is unhealthy (${reason}); waiting for it to register again`,
      );
      this.#drop(instance, reason);
    });
  }

  deregister(instanceId: string, reason: string): void {
    for (const instance of this.instances) {
      if (instance.id === instanceId) {
        instance.logger.info({ reason }, "attached module instance deregistered");
        void this.#retire(instance);
      }
    }
  }

  #drop(instance: ModuleInstance, reason: string): void {
    instance.stopping = true;
    if (instance.state !== "failed") instance.setState("stopped");
    instance.logger.debug({ reason }, "dropping attached instance");
    instance.close();
    this.forget(instance);
  }

  /** Lets outstanding calls finish, then forgets the instance; the process is not ours to stop. */
  async #retire(instance: ModuleInstance): Promise<void> {
    instance.stopping = true;
    this.deactivate(instance);
    await instance.waitIdle(this.config.timeouts.drain_ms);
    this.#drop(instance, "retired");
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.#deadlineTimer);
    await Promise.all([...this.instances].map((i) => this.#retire(i)));
    this.refresh();
  }
}
