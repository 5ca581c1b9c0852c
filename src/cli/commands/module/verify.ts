import { OutrigError } from "../../../errors/index.ts";
import {
  loadSignerRegistry,
  type TrustedSigners,
  trustPublicKeyFile,
  verifyManifestSignature,
} from "../../../manifest/index.ts";
import { parseCommandArgs } from "../../args.ts";
import { type Command, UsageError } from "../../command.ts";
import { printJson } from "./report.ts";

/** Failures about reading input rather than about the signature: exit 2, like validate. */
const INPUT_FAILURES = /^manifest\.(load|parse)\./;

export const verifySubcommand: Command = {
  name: "verify",
  summary: "Verify a manifest's signature against a key or a signer registry",
  usage: [
    "Usage: outrig module verify <manifest> (--pubkey <file> | --signers <file>) [--signature <file>] [--json]",
    "  --pubkey     trust exactly this public key (SPKI PEM or JWK)",
    "  --signers    trust the keys of a signer registry ({ signers: [{ id, public_key, comment }] })",
    "  --signature  the signature file (default <manifest>.sig)",
    "  Exit 0 verified, 1 not verified (missing, malformed, tampered, wrong key, untrusted), 2 unreadable input.",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        pubkey: { type: "string" },
        signers: { type: "string" },
        signature: { type: "string" },
        json: { type: "boolean" },
      },
      { min: 1, max: 1, names: "the manifest path" },
    );
    if ((values.pubkey === undefined) === (values.signers === undefined)) {
      throw new UsageError("give exactly one of --pubkey <file> or --signers <file>");
    }
    const file = positionals[0]!;
    let trust: TrustedSigners;
    try {
      trust =
        values.pubkey === undefined
          ? await loadSignerRegistry(values.signers!)
          : await trustPublicKeyFile(values.pubkey);
    } catch (error) {
      const code = error instanceof OutrigError ? error.code : "manifest.load.io_error";
      const message = `${error instanceof Error ? error.message : String(error)} [${code}]`;
      if (values.json) printJson({ file, ok: false, code, message }, false);
      else console.error(message);
      return 2;
    }
    const result = await verifyManifestSignature({
      manifestPath: file,
      trustedSigners: trust,
      ...(values.signature === undefined ? {} : { signaturePath: values.signature }),
    });
    if (values.json) {
      printJson(
        result.ok
          ? { file, ok: true, module_id: result.moduleId, signer_id: result.signerId, kid: result.kid }
          : { file, ok: false, module_id: result.moduleId, code: result.code, message: result.message },
        false,
      );
    } else if (result.ok) {
      console.log(`verified: module "${result.moduleId}" signed by "${result.signerId}" (key ${result.kid})`);
    } else {
      console.error(`not verified: ${result.message} [${result.code}]`);
    }
    if (result.ok) return 0;
    return INPUT_FAILURES.test(result.code) ? 2 : 1;
  },
};
