import { basename } from "node:path";
import { writeSigningKeyPair } from "../../../manifest/index.ts";
import { parseCommandArgs } from "../../args.ts";
import { type Command, UsageError } from "../../command.ts";

export const keygenSubcommand: Command = {
  name: "keygen",
  summary: "Create an Ed25519 key pair for signing manifests",
  usage: [
    "Usage: outrig module keygen --out <prefix> [--force]",
    "  Writes <prefix>.key (PKCS#8 PEM, mode 0600) and <prefix>.pub (SPKI PEM).",
    "  --force  overwrite existing files",
  ].join("\n"),
  async run(argv) {
    const { values } = parseCommandArgs(argv, { out: { type: "string" }, force: { type: "boolean" } });
    if (!values.out) throw new UsageError("--out <prefix> is required");
    let written: Awaited<ReturnType<typeof writeSigningKeyPair>>;
    try {
      written = await writeSigningKeyPair(values.out, { force: values.force === true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      console.error(
        code === "EEXIST"
          ? `${values.out}.key or ${values.out}.pub exists; refusing to overwrite (use --force)`
          : `cannot write the key pair: ${code ?? String(error)}`,
      );
      return 2;
    }
    const publicPem = written.publicKeyPem.trimEnd();
    console.log(`private key: ${written.privateKeyPath} (mode 0600: keep it secret, never commit it)`);
    console.log(`public key:  ${written.publicKeyPath}`);
    console.log(`key id:      ${written.kid}`);
    console.log("\nTo trust it, add to a signer registry (--signers):\n");
    console.log(
      `signers:\n  - id: ${basename(values.out)}\n    comment: created ${new Date().toISOString().slice(0, 10)}`,
    );
    console.log(`    public_key: |\n${publicPem.replace(/^/gm, "      ")}`);
    return 0;
  },
};
