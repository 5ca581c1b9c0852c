import type { Command } from "../command.ts";
import { devTokenCommand } from "./dev-token.ts";
import { moduleCommand } from "./module.ts";
import { statusCommand } from "./status.ts";
import { coreCommand, upCommand } from "./up.ts";
import { versionCommand } from "./version.ts";

/** Every subcommand, in help order. */
export const commands: Command[] = [
  upCommand,
  coreCommand,
  statusCommand,
  devTokenCommand,
  moduleCommand,
  versionCommand,
];
