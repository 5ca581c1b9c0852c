import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { initSubcommand } from "./module/init.ts";
import { keygenSubcommand } from "./module/keygen.ts";
import { lintSubcommand } from "./module/lint.ts";
import { schemaSubcommand } from "./module/schema.ts";
import { signSubcommand } from "./module/sign.ts";
import { smokeSubcommand } from "./module/smoke.ts";
import { validateSubcommand } from "./module/validate.ts";
import { verifySubcommand } from "./module/verify.ts";

/** `outrig module <subcommand>`; adding a subcommand is one entry here. */
export const moduleSubcommands: Command[] = [
  initSubcommand,
  smokeSubcommand,
  validateSubcommand,
  lintSubcommand,
  schemaSubcommand,
  keygenSubcommand,
  signSubcommand,
  verifySubcommand,
];

function usage(): string {
  const width = Math.max(...moduleSubcommands.map((c) => c.name.length));
  return [
    "Usage: outrig module <subcommand> [options]",
    "",
    "Subcommands:",
    ...moduleSubcommands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    ...moduleSubcommands.flatMap((c) => ["", c.usage]),
  ].join("\n");
}

export const moduleCommand: Command = {
  name: "module",
  summary: "Scaffold and smoke-test modules; validate, lint, sign and verify their manifests",
  get usage() {
    return usage();
  },
  async run(argv) {
    const [name, ...rest] = argv;
    if (name === undefined) throw new UsageError("missing subcommand");
    if (name === "help") {
      const sub = moduleSubcommands.find((c) => c.name === rest[0]);
      console.log(sub ? sub.usage : usage());
      return 0;
    }
    const sub = moduleSubcommands.find((c) => c.name === name);
    if (!sub) throw new UsageError(`unknown subcommand ${JSON.stringify(name)}`);
    return sub.run(rest);
  },
};
