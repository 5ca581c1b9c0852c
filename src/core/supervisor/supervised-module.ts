import { rmSync } from "node:fs";
import { OutrigError } from "../../errors/index.ts";
import { newSecret } from "../../spi/credentials.ts";
import type { SupervisedModuleConfig } from "../config/schema.ts";
import type { ModuleStatus, UpgradeSpec } from "../types.ts";
import { backoffDelay } from "./backoff.ts";
import { ModuleInstance, StartError } from "./instance.ts";
import { manifestHooks } from "./manifest-admission.ts";
import { type GroupDeps, ModuleGroup } from "./module-group.ts";
import { forwardModuleOutput } from "./module-output.ts";
import { type ExitInfo, killGroup, LaunchError, launchModule } from "./process-launch.ts";
import type { Reaper } from "./reaper.ts";
import { RestartBudget } from "./restart-budget.ts";

interface LaunchCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** One replica position: the instance in it and its restart accounting. */
interface Slot {
  index: number;
  instance: ModuleInstance | undefined;
  budget: RestartBudget;
  consecutiveFailures: number;
  failed: string | undefined;
  timer: NodeJS.Timeout | undefined;
}

export interface SupervisedDeps extends GroupDeps {
  /** A fresh, short socket path in the core's private directory. */
  socketPath: () => string;
  reaper: Reaper | undefined;
  logLevel: string;
}

/** `node` means the Node.js running the core, whatever PATH says. */
export function resolveCommand(command: string): string {
  return command === "node" ? process.execPath : command;
}

/** The module's environment: what it inherits from the core, then its own variables. */
export function moduleEnv(
  config: Pick<SupervisedModuleConfig, "inherit_env" | "env">,
): Record<string, string> {
  const inherited: Record<string, string> = {};
  if (config.inherit_env === true) Object.assign(inherited, process.env);
  else if (Array.isArray(config.inherit_env)) {
    for (const name of config.inherit_env)
      if (process.env[name] !== undefined) inherited[name] = process.env[name];
  }
  return { ...inherited, ...config.env };
}

/**
 * A module the core spawns: one slot per replica, restarts with backoff inside a
 * sliding restart budget, rolling restarts, and atomic upgrades.
 */
export class SupervisedModule extends ModuleGroup {
  readonly #slots: Slot[];
  #spec: LaunchCommand;
  #generation = 1;
  #launches = 0;
  #busy = false;
  #restartsTotal = 0;

  constructor(
    override readonly config: SupervisedModuleConfig,
    private readonly sdeps: SupervisedDeps,
  ) {
    super(config, sdeps);
    this.#spec = { command: resolveCommand(config.command), args: config.args, env: moduleEnv(config) };
    this.#slots = Array.from({ length: config.replicas }, (_, index) => ({
      index,
      instance: undefined,
      budget: new RestartBudget(config.restart.max_restarts, config.restart.window_ms),
      consecutiveFailures: 0,
      failed: undefined,
      timer: undefined,
    }));
  }

  get desiredReplicas(): number {
    return this.config.replicas;
  }

  protected get restartCounts(): ModuleStatus["restarts"] {
    return {
      total: this.#restartsTotal,
      inWindow: Math.max(...this.#slots.map((s) => s.budget.used)),
      max: this.config.restart.max_restarts,
      windowMs: this.config.restart.window_ms,
    };
  }

  protected get failedForGood(): boolean {
    return this.#slots.every((s) => s.failed !== undefined);
  }

  protected get waiting(): boolean {
    return false;
  }

  start(): void {
    for (const slot of this.#slots) void this.#fill(slot);
  }

  /** Starts an instance for a slot; on failure schedules a restart or marks the slot failed. */
  async #fill(slot: Slot): Promise<void> {
    slot.timer = undefined;
    if (this.stopped) return;
    try {
      const instance = await this.#launch(this.#spec, this.#generation, slot);
      if (this.stopped) return void this.#retire(instance, "core stopping");
      slot.instance = instance;
      slot.consecutiveFailures = 0;
      this.activate(instance);
    } catch (error) {
      const message = (error as Error).message;
      const permanent =
        (error instanceof StartError && error.permanent) ||
        (error instanceof LaunchError &&
          (error.reason === "handshake_invalid" || error.reason === "socket_insecure"));
      if (permanent) {
        slot.failed = message;
        this.noteError(`${message}; not restarting`, "error");
        this.refresh();
      } else {
        this.noteError(message);
        this.#scheduleRestart(slot, message);
      }
    }
  }

  /** Launches one instance and brings it to ready; it is not routable until activated. */
  async #launch(spec: LaunchCommand, generation: number, slot: Slot): Promise<ModuleInstance> {
    const id = `${this.id}-${++this.#launches}`;
    const instance = new ModuleInstance(
      id,
      this.id,
      "supervised",
      generation,
      newSecret(),
      newSecret(),
      this.deps.logger.child({ module_id: this.id, instance_id: id }),
    );
    this.deps.scrubber.add(instance.coreSecret);
    this.deps.scrubber.add(instance.moduleCredential);
    this.deps.credentials.register(instance.moduleCredential, instance);
    this.track(instance);
    const startDeadline = Date.now() + this.config.health.startup_timeout_ms;
    const socketPath = this.sdeps.socketPath();
    rmSync(socketPath, { force: true });
    try {
      const launched = await launchModule(
        {
          moduleId: this.id,
          instanceId: id,
          command: spec.command,
          args: spec.args,
          env: spec.env,
          workdir: this.config.workdir,
          listenAddress: `unix://${socketPath}`,
          launchSecret: instance.coreSecret,
          handshakeTimeoutMs: this.config.health.startup_timeout_ms,
          logLevel: this.sdeps.logLevel,
        },
        forwardModuleOutput(instance.logger),
        (pid) => this.sdeps.reaper?.watch(pid),
      );
      instance.pid = launched.pid;
      instance.child = launched.child;
      instance.exited = launched.exited;
      void launched.exited.then((exit) => this.#onExit(slot, instance, exit, socketPath));
      instance.connect(launched.address);
      await instance.bringUp(
        this.id,
        { ...this.deps.initialize(this.id, "supervised"), moduleCredential: instance.moduleCredential },
        startDeadline,
        manifestHooks(this.config.loadedManifest),
      );
    } catch (error) {
      instance.noteError((error as Error).message);
      instance.stopping = true;
      instance.setState("failed");
      if (instance.child) killGroup(instance.child, "SIGKILL");
      instance.close();
      this.forget(instance);
      throw error;
    }
    instance.logger.info(
      { pid: instance.pid, spi_version: instance.spiVersion, generation },
      "module instance ready",
    );
    instance.startHealthChecks(this.config.health, (reason) => {
      instance.noteError(reason);
      instance.logger.warn({ reason }, "module instance unhealthy; restarting it");
      if (instance.child) killGroup(instance.child, "SIGKILL");
    });
    return instance;
  }

  #onExit(slot: Slot, instance: ModuleInstance, exit: ExitInfo, socketPath: string): void {
    if (instance.pid !== undefined) this.sdeps.reaper?.forget(instance.pid);
    // Sweep what the module left behind in its process group.
    if (instance.child) killGroup(instance.child, "SIGKILL");
    rmSync(socketPath, { force: true });
    instance.close();
    const how = exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
    if (instance.stopping) {
      instance.setState("stopped");
      this.forget(instance);
      return;
    }
    instance.setState("failed");
    instance.noteError(instance.lastError?.message ?? `process ${how}`);
    this.forget(instance);
    if (slot.instance !== instance) return;
    slot.instance = undefined;
    this.noteError(`module ${JSON.stringify(this.id)} instance ${instance.id} ${how} unexpectedly`);
    this.#scheduleRestart(slot, how);
  }

  #scheduleRestart(slot: Slot, reason: string): void {
    if (this.stopped || slot.timer) return;
    if (!slot.budget.tryTake()) {
      slot.failed = `restart budget exhausted (${this.config.restart.max_restarts} restarts within ${this.config.restart.window_ms} ms); last failure: ${reason}`;
      this.noteError(`module ${JSON.stringify(this.id)} failed: ${slot.failed}`, "error");
      this.refresh();
      return;
    }
    slot.consecutiveFailures++;
    this.#restartsTotal++;
    this.deps.metrics.restarts.inc({
      module: this.id,
      reason: reason.startsWith("killed") ? "killed" : "exited",
    });
    const delay = backoffDelay(this.config.restart.backoff, slot.consecutiveFailures);
    this.deps.logger.info(
      { module_id: this.id, delay_ms: delay, used: slot.budget.used },
      "restarting module instance",
    );
    slot.timer = setTimeout(() => void this.#fill(slot), delay);
    this.refresh();
  }

  /** Milliseconds until some failed slot restarts, for a Retry-After hint. */
  override get nextRestartInMs(): number | undefined {
    return this.#slots.some((s) => s.timer) ? this.config.restart.backoff.initial_ms : undefined;
  }

  /**
   * Starts a full new set of instances with `spec`, waits until all are ready,
   * switches routing to them in one step, then drains and stops the old set. If any
   * new instance fails to start, the new set is stopped and the old one keeps serving.
   */
  async replaceAll(spec: UpgradeSpec, reason: string): Promise<void> {
    if (this.#busy) throw OutrigError.fromCode("core.admin.conflict");
    if (this.stopped) throw OutrigError.fromCode("core.lifecycle.shutting_down");
    // A refused module stays refused: no restart or upgrade launches it.
    if (this.refusal) throw this.refusal;
    this.#busy = true;
    try {
      const next: LaunchCommand = {
        command: spec.command ? resolveCommand(spec.command) : this.#spec.command,
        args: spec.args ?? this.#spec.args,
        env: spec.env ? { ...this.#spec.env, ...spec.env } : this.#spec.env,
      };
      const generation = this.#generation + 1;
      const started = await Promise.allSettled(
        this.#slots.map((slot) => this.#launch(next, generation, slot)),
      );
      const failure = started.find((r) => r.status === "rejected");
      if (failure) {
        await Promise.all(
          started.flatMap((r) =>
            r.status === "fulfilled" ? [this.#retire(r.value, `${reason} aborted`)] : [],
          ),
        );
        const message = `${reason} of ${this.id} failed; the previous version keeps serving: ${(failure.reason as Error).message}`;
        this.noteError(message, "error");
        throw new OutrigError("FAILED_PRECONDITION", "core.admin.upgrade_failed", message.slice(0, 500));
      }
      const old: ModuleInstance[] = [];
      this.#slots.forEach((slot, i) => {
        const fresh = (started[i] as PromiseFulfilledResult<ModuleInstance>).value;
        if (slot.instance) old.push(slot.instance);
        clearTimeout(slot.timer);
        slot.timer = undefined;
        slot.instance = fresh;
        slot.failed = undefined;
        slot.consecutiveFailures = 0;
        this.active.add(fresh);
      });
      for (const o of old) this.active.delete(o);
      this.refresh();
      this.#spec = next;
      this.#generation = generation;
      this.deps.logger.info({ module_id: this.id, generation }, `${reason}: switched to the new instances`);
      await Promise.all(old.map((o) => this.#retire(o, reason)));
    } finally {
      this.#busy = false;
    }
  }

  /** Starts a replacement for one instance, switches to it, then drains the old one. */
  async replaceInstance(instanceId: string): Promise<void> {
    const slot = this.#slots.find((s) => s.instance?.id === instanceId);
    if (!slot?.instance) {
      throw OutrigError.fromCode("core.admin.instance_not_found", {
        message: `No instance ${instanceId} in ${this.id}.`,
      });
    }
    if (this.#busy) throw OutrigError.fromCode("core.admin.conflict");
    this.#busy = true;
    try {
      const old = slot.instance;
      const fresh = await this.#launch(this.#spec, this.#generation, slot);
      slot.instance = fresh;
      this.active.add(fresh);
      this.active.delete(old);
      this.refresh();
      await this.#retire(old, "drained by an operator");
    } finally {
      this.#busy = false;
    }
  }

  /** Drains an instance, asks it to exit, and kills its process group after the deadline. */
  async #retire(instance: ModuleInstance, reason: string): Promise<void> {
    instance.stopping = true;
    this.deactivate(instance);
    await instance.drain(this.config.timeouts.drain_ms, reason);
    await instance.shutdown(this.config.timeouts.shutdown_ms);
    const exited = instance.exited ?? Promise.resolve(undefined);
    const timeout = new Promise<"timeout">((r) =>
      setTimeout(() => r("timeout"), this.config.timeouts.shutdown_ms).unref(),
    );
    if ((await Promise.race([exited, timeout])) === "timeout" && instance.child) {
      instance.logger.warn(
        { deadline_ms: this.config.timeouts.shutdown_ms },
        "module did not exit in time; killing it",
      );
      killGroup(instance.child, "SIGKILL");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const slot of this.#slots) clearTimeout(slot.timer);
    await Promise.all([...this.instances].map((i) => this.#retire(i, "core stopping")));
    this.refresh();
  }
}
