/**
 * Client-certificate identities on the public listener. The listener verifies the chain
 * (the TLS layer, against the configured CA); this maps a verified certificate to a
 * principal through an explicit table. A certificate that matches no entry authenticates
 * nobody: there are no implicit identities.
 */
import { z } from "zod";
import { principalGrantFields, teamScopeFromSpec } from "./api-keys.ts";
import { type AuthResult, authFailure, DEFAULT_REALM } from "./auth-result.ts";
import { createPrincipal } from "./principal.ts";

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

function matches(identity: MtlsIdentity, peer: PeerCertificate): boolean {
  const { cn, san, fingerprint256 } = identity.match;
  if (cn !== undefined && peer.cn !== cn) return false;
  if (san !== undefined && !peer.sans.includes(san)) return false;
  if (fingerprint256 !== undefined && peer.fingerprint256.toUpperCase() !== fingerprint256.toUpperCase())
    return false;
  return true;
}

export class MtlsAuthenticator {
  constructor(
    private readonly identities: readonly MtlsIdentity[],
    private readonly realm: string = DEFAULT_REALM,
  ) {}

  authenticate(peer: PeerCertificate): AuthResult {
    const identity = this.identities.find((i) => matches(i, peer));
    if (!identity) return authFailure("auth.mtls.unknown_identity", this.realm);
    return {
      ok: true,
      principal: createPrincipal({
        subject: identity.subject,
        authMethod: "mtls",
        roles: identity.roles ?? [],
        scopes: identity.scopes ?? [],
        teamScope: teamScopeFromSpec(identity.teams),
      }),
      credential: { method: "mtls", id: peer.fingerprint256 },
    };
  }
}
