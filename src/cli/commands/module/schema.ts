import { writeFile } from "node:fs/promises";
import { renderManifestJsonSchema } from "../../../manifest/index.ts";
import { parseCommandArgs } from "../../args.ts";
import type { Command } from "../../command.ts";

export const schemaSubcommand: Command = {
  name: "schema",
  summary: "Print the manifest's JSON Schema",
  usage: "Usage: outrig module schema [--out <file>]",
  async run(argv) {
    const { values } = parseCommandArgs(argv, { out: { type: "string" } });
    const schema = renderManifestJsonSchema();
    if (values.out === undefined) {
      console.log(schema.trimEnd());
      return 0;
    }
    try {
      await writeFile(values.out, schema);
    } catch (error) {
      console.error(`cannot write ${values.out}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      return 2;
    }
    console.log(`wrote ${values.out}`);
    return 0;
  },
};
