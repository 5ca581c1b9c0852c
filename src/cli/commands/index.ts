import type { Command } from "../command.ts";
import { versionCommand } from "./version.ts";

/** Every subcommand, in help order. */
export const commands: Command[] = [versionCommand];
