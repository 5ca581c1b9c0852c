import { ModuleState } from "../gen/outrig/module/v1/module_service_pb.ts";

/**
 * The module-side lifecycle and in-flight accounting. One instance per process.
 * Transitions: STARTING → INITIALIZING → READY ⇄ DEGRADED → DRAINING → STOPPED.
 */
export class Lifecycle {
  state: ModuleState = ModuleState.STARTING;
  inFlight = 0;
  invocationsTotal = 0n;
  errorsTotal = 0n;
  readonly startedAt = Date.now();
  #idleWaiters: Array<() => void> = [];
  #listeners: Array<(state: ModuleState) => void> = [];

  get accepting(): boolean {
    return this.state === ModuleState.READY || this.state === ModuleState.DEGRADED;
  }

  get draining(): boolean {
    return this.state === ModuleState.DRAINING || this.state === ModuleState.STOPPED;
  }

  set(state: ModuleState): void {
    if (this.state === state) return;
    this.state = state;
    for (const listener of this.#listeners) listener(state);
  }

  onChange(listener: (state: ModuleState) => void): void {
    this.#listeners.push(listener);
  }

  begin(): void {
    this.inFlight++;
    this.invocationsTotal++;
  }

  end(failed: boolean): void {
    this.inFlight--;
    if (failed) this.errorsTotal++;
    if (this.inFlight === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Resolves when no invocation is running, or when the deadline passes (to the count still running). */
  waitIdle(deadlineMs: number): Promise<number> {
    if (this.inFlight === 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.inFlight), deadlineMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(0);
      });
    });
  }
}
