import { createHash } from "node:crypto";
import type { ModuleInstance } from "./instance.ts";

/**
 * Module credentials the core issued, mapped to their instances. Keys are SHA-256
 * digests, so the lookup does not compare the secret itself and the map holds no
 * plaintext.
 */
export class CredentialRegistry {
  readonly #byDigest = new Map<string, ModuleInstance>();

  #digest(credential: string): string {
    return createHash("sha256").update(credential).digest("base64url");
  }

  register(credential: string, instance: ModuleInstance): void {
    this.#byDigest.set(this.#digest(credential), instance);
  }

  unregister(credential: string): void {
    this.#byDigest.delete(this.#digest(credential));
  }

  lookup(presented: string | undefined): ModuleInstance | undefined {
    if (presented === undefined || presented.length > 512) return undefined;
    return this.#byDigest.get(this.#digest(presented));
  }
}
