/**
 * What a module's manifest means to the supervisor: signature admission under
 * `security.require_signed`, and the launch-time descriptor check.
 */
import { basename } from "node:path";
import type { OutrigError } from "../../errors/index.ts";
import {
  checkDescriptorAgainstManifest,
  signatureFailureError,
  type TrustedSigners,
  verifyManifestSignature,
} from "../../manifest/index.ts";
import type { LoadedManifest, ModuleConfig } from "../config/schema.ts";
import type { BringUpHooks } from "./instance.ts";

/**
 * Verifies a module's manifest signature; resolves to the refusal, or undefined when
 * the module may start. A module without a manifest is refused too: under
 * require_signed nothing runs that an operator has not signed. Never rejects.
 */
export async function signatureRefusal(
  config: ModuleConfig,
  trust: TrustedSigners,
): Promise<OutrigError | undefined> {
  const loaded = config.loadedManifest;
  if (!loaded) {
    return signatureFailureError({
      ok: false,
      code: "manifest.signature.missing",
      message: `module ${JSON.stringify(config.id)}: has no manifest (set \`manifest:\` in its config entry); only modules with a signed manifest may run`,
      moduleId: config.id,
    });
  }
  // The data the config loaded is what runs, so that is what must verify; the
  // signature is read from `<manifest>.sig` now.
  const result = await verifyManifestSignature({
    manifestPath: loaded.path,
    manifest: loaded.document,
    trustedSigners: trust,
  }).catch((error: Error) => ({
    ok: false as const,
    code: "manifest.signature.malformed" as const,
    message: `module ${JSON.stringify(config.id)}: the signature cannot be checked: ${error.message}`,
    moduleId: config.id,
  }));
  return result.ok ? undefined : signatureFailureError(result);
}

/** The refusal as the operator reads it in status, readiness and the log. */
export function refusalMessage(error: OutrigError): string {
  return `refused by security.require_signed: ${error.message} [${error.code}]`;
}

/** The descriptor check of a module with a manifest, as ModuleInstance.bringUp hooks. */
export function manifestHooks(loaded: LoadedManifest | undefined): BringUpHooks {
  if (!loaded) return {};
  return {
    checkDescriptor: (descriptor) =>
      checkDescriptorAgainstManifest(loaded.manifest, descriptor).map(
        (issue) => `${issue.code} at ${issue.path}: ${issue.message}`,
      ),
    checkedAgainst: `its manifest ${basename(loaded.path)}`,
  };
}
