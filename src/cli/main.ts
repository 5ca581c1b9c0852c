import type { Command } from "./command.ts";
import { UsageError } from "./command.ts";
import { commands } from "./commands/index.ts";

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "Usage: outrig <command> [options]",
    "",
    "Commands:",
    ...lines,
    "",
    "Run `outrig <command> --help` for a command's options.",
  ].join("\n");
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`outrig: unknown command ${JSON.stringify(name)}\n\n${help()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`outrig ${command.name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    console.error(`outrig ${command.name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
