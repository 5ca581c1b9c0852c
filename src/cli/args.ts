import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { UsageError } from "./command.ts";

/**
 * node:util parseArgs with usage mistakes turned into UsageError (exit 2 with usage),
 * and a bound on positional arguments (none unless given).
 */
export function parseCommandArgs<T extends ParseArgsOptionsConfig>(
  argv: string[],
  options: T,
  positionals: { min: number; max: number; names: string } = { min: 0, max: 0, names: "" },
) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const count = parsed.positionals.length;
  if (count < positionals.min) throw new UsageError(`missing ${positionals.names}`);
  if (count > positionals.max)
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals.max])}`);
  return parsed;
}
