import { readFile, writeFile } from "node:fs/promises";
import { OutrigError } from "../../../errors/index.ts";
import { checkManifestFile, signaturePathFor, signManifestDocument } from "../../../manifest/index.ts";
import { parseCommandArgs } from "../../args.ts";
import { type Command, UsageError } from "../../command.ts";
import { failureText, issueLines } from "./report.ts";

export const signSubcommand: Command = {
  name: "sign",
  summary: "Sign a valid manifest (detached Ed25519 JWS beside it)",
  usage: [
    "Usage: outrig module sign <manifest> --key <private key> [--out <signature>]",
    "  Writes <manifest>.sig unless --out is given. Refuses a manifest with errors.",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { key: { type: "string" }, out: { type: "string" } },
      { min: 1, max: 1, names: "the manifest path" },
    );
    if (!values.key) throw new UsageError("--key <private key> is required");
    const file = positionals[0]!;
    const checked = await checkManifestFile(file);
    if (!checked.ok) {
      console.error(failureText(file, checked));
      return 2;
    }
    if (!checked.report.ok) {
      console.error(`${file}: refusing to sign an invalid manifest`);
      for (const line of issueLines(checked.report.issues.filter((i) => i.severity === "error")))
        console.error(line);
      return 1;
    }
    let pem: string;
    try {
      pem = await readFile(values.key, "utf8");
    } catch (error) {
      console.error(
        `cannot read the key ${values.key}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
      return 2;
    }
    let signed: { signature: string; kid: string };
    try {
      signed = await signManifestDocument(checked.document, pem);
    } catch (error) {
      console.error(error instanceof OutrigError ? error.message : `cannot sign: ${String(error)}`);
      return 2;
    }
    const out = values.out ?? signaturePathFor(file);
    try {
      await writeFile(out, `${signed.signature}\n`);
    } catch (error) {
      console.error(`cannot write ${out}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      return 2;
    }
    const m = checked.report.manifest!;
    console.log(`signed module "${m.id}" ${m.version} with key ${signed.kid}: ${out}`);
    return 0;
  },
};
