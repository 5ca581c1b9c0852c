/**
 * A restart budget over a sliding window: at most `max` restarts in any `windowMs`.
 * An exhausted budget means the module is crash-looping and stays failed.
 */
export class RestartBudget {
  #restarts: number[] = [];

  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  #prune(): void {
    const cutoff = this.now() - this.windowMs;
    this.#restarts = this.#restarts.filter((t) => t > cutoff);
  }

  /** Restarts counted in the current window. */
  get used(): number {
    this.#prune();
    return this.#restarts.length;
  }

  /** Takes one restart from the budget; false when none is left. */
  tryTake(): boolean {
    this.#prune();
    if (this.#restarts.length >= this.max) return false;
    this.#restarts.push(this.now());
    return true;
  }
}
