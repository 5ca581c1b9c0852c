/** One `outrig` subcommand. `run` resolves to the process exit code. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** Thrown for a usage mistake: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
