import { relative } from "node:path";
import { PROFILES, type ProfileName } from "../../../manifest/vocabulary.ts";
import { ScaffoldError, scaffoldModule } from "../../../scaffold/index.ts";
import { parseCommandArgs } from "../../args.ts";
import { type Command, UsageError } from "../../command.ts";

const shown = (path: string) => relative(process.cwd(), path) || ".";

export const initSubcommand: Command = {
  name: "init",
  summary: "Scaffold a TypeScript module (manifest, handler, test, README) that passes smoke as written",
  usage: [
    `Usage: outrig module init <name> --profile <${PROFILES.join("|")}> [--dir DIR]`,
    "  <name>     the module id: lowercase letters, digits, '.', '_', '-' (at most 64)",
    "  --profile  the protocol profile; each gets a minimal module that implements what it declares",
    "  --dir      where to write it (default ./<name>); it must not exist",
    "  Exit 0 written, 2 usage mistake or the directory exists.",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { profile: { type: "string" }, dir: { type: "string" } },
      { min: 1, max: 1, names: "the module name" },
    );
    const name = positionals[0]!;
    const profile = values.profile;
    if (profile === undefined) throw new UsageError(`--profile is required (${PROFILES.join(", ")})`);
    if (!(PROFILES as readonly string[]).includes(profile)) {
      throw new UsageError(`--profile must be one of ${PROFILES.join(", ")}, got ${JSON.stringify(profile)}`);
    }
    let result: ReturnType<typeof scaffoldModule>;
    try {
      result = scaffoldModule({ name, profile: profile as ProfileName, dir: values.dir ?? name });
    } catch (error) {
      if (error instanceof ScaffoldError) throw new UsageError(error.message);
      throw error;
    }
    const manifest = shown(result.manifest);
    console.log(`created ${profile} module "${name}" in ${shown(result.dir)}:`);
    for (const file of result.files) console.log(`  ${shown(file)}`);
    console.log("next:");
    if (!result.inCheckout) console.log(`  (cd ${shown(result.dir)} && npm install)    # the outrig SDK`);
    console.log(`  outrig module smoke ${manifest}`);
    console.log(`  (cd ${shown(result.dir)} && node --test)`);
    return 0;
  },
};
