/**
 * Client-certificate identities on the public listener. The listener verifies the chain
 * (the TLS layer, against the configured CA); this maps a verified certificate to a
 * principal through an explicit table. A certificate that matches no entry authenticates
 * nobody: there are no implicit identities.
 */
import { z } from "zod";
import { principalFromGrant, principalGrantFields } from "./api-keys.ts";
import { type AuthResult, authFailure, DEFAULT_REALM } from "./auth-result.ts";
import { configError } from "./codes.ts";
import type { Principal } from "./principal.ts";

/** What the listener tells the authority about a verified client certificate. */
export interface PeerCertificate {
  /** Subject common name. */
  readonly cn?: string;
  /** Subject alternative names as Node prints them, for example `DNS:svc.example.com`, `URI:spiffe://…`. */
  readonly sans: readonly string[];
  /** SHA-256 fingerprint, uppercase hex pairs separated by `:`. */
  readonly fingerprint256: string;
}

export const mtlsIdentitySchema = z
  .object({
    match: z
      .object({
        cn: z.string().min(1).max(256).optional(),
        san: z.string().min(1).max(1024).optional(),
        fingerprint256: z
          .string()
          .regex(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/)
          .optional(),
      })
      .strict()
      .refine((m) => m.cn !== undefined || m.san !== undefined || m.fingerprint256 !== undefined, {
        message: "match needs cn, san or fingerprint256",
      }),
    ...principalGrantFields,
  })
  .strict();

export type MtlsIdentity = z.infer<typeof mtlsIdentitySchema>;

/** A configured identity, ready to match: fingerprint upper-cased, principal built. */
interface Entry {
  readonly cn: string | undefined;
  readonly san: string | undefined;
  readonly fingerprint256: string | undefined;
  readonly principal: Principal;
}

function matches(entry: Entry, peer: PeerCertificate): boolean {
  if (entry.cn !== undefined && peer.cn !== entry.cn) return false;
  if (entry.san !== undefined && !peer.sans.includes(entry.san)) return false;
  if (entry.fingerprint256 !== undefined && peer.fingerprint256.toUpperCase() !== entry.fingerprint256)
    return false;
  return true;
}

export class MtlsAuthenticator {
  readonly #entries: readonly Entry[];
  readonly #realm: string;

  /** Builds every identity's principal now: a bad one is a configuration error (`auth.config.invalid`). */
  constructor(identities: readonly MtlsIdentity[], realm: string = DEFAULT_REALM) {
    this.#entries = identities.map((identity, i) => {
      let principal: Principal;
      try {
        principal = principalFromGrant(identity, "mtls");
      } catch {
        throw configError(
          `mtls.identities[${i}]: the subject, roles, scopes or teams are not valid identifiers`,
        );
      }
      const { cn, san, fingerprint256 } = identity.match;
      return { cn, san, fingerprint256: fingerprint256?.toUpperCase(), principal };
    });
    this.#realm = realm;
  }

  authenticate(peer: PeerCertificate): AuthResult {
    const entry = this.#entries.find((e) => matches(e, peer));
    if (!entry) return authFailure("auth.mtls.unknown_identity", this.#realm);
    return { ok: true, principal: entry.principal, credential: { method: "mtls", id: peer.fingerprint256 } };
  }
}
