import { type ChildProcess, spawn } from "node:child_process";
import type { Logger } from "pino";

/**
 * A tiny guardian process that outlives the core for one purpose: when the core dies,
 * even by SIGKILL, its stdin reaches EOF and it SIGKILLs every module process group
 * the core registered. Modules run in their own process groups, so this also takes
 * their children. It runs in its own process group too, so a group kill of the core
 * does not take it first.
 */
const SCRIPT = `
groups=" "
while IFS= read -r line; do
  case "$line" in
    +*) groups="$groups\${line#+} " ;;
    -*) groups=$(printf '%s' "$groups" | sed "s/ \${line#-} / /") ;;
  esac
done
for g in $groups; do kill -KILL "-$g" 2>/dev/null; done
`;

export class Reaper {
  readonly #child: ChildProcess;

  constructor(private readonly logger: Logger) {
    this.#child = spawn("/bin/sh", ["-c", SCRIPT], { stdio: ["pipe", "ignore", "ignore"], detached: true });
    this.#child.on("error", (error) => this.logger.error({ err: error }, "the reaper could not start"));
    this.#child.stdin?.on("error", () => {});
    // The reaper must not keep the core's event loop alive.
    this.#child.unref();
    (this.#child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Registers a module process group (its leader's pid). */
  watch(pgid: number): void {
    this.#child.stdin?.write(`+${pgid}\n`);
  }

  /** Forgets a process group whose leader the core has reaped. */
  forget(pgid: number): void {
    this.#child.stdin?.write(`-${pgid}\n`);
  }

  /** A clean core exit: no module is left, so the reaper only needs to end. */
  close(): void {
    this.#child.stdin?.end();
  }
}
