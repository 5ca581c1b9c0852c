import type { OutrigError } from "../errors/outrig-error.ts";
import { type AuthorityCode, authorityError } from "./codes.ts";
import type { AuthMethod, Principal } from "./principal.ts";

/** What the authenticator learned about the credential itself (never the secret). */
export interface CredentialInfo {
  readonly method: AuthMethod;
  /** `jti` of a JWT, or the public id of an API key; used for revocation. */
  readonly id?: string;
  /** Issue time of a JWT (ms since epoch), for subject-wide revocation. */
  readonly issuedAtMs?: number;
  /** When the credential stops being valid (ms since epoch), when it has an end. */
  readonly expiresAtMs?: number;
}

export interface AuthSuccess {
  readonly ok: true;
  readonly principal: Principal;
  readonly credential: CredentialInfo;
}

export interface AuthFailure {
  readonly ok: false;
  /** UNAUTHENTICATED (UNAVAILABLE only when signing keys cannot be fetched). */
  readonly error: OutrigError;
  /** RFC 6750 challenge to send verbatim as `WWW-Authenticate`. */
  readonly wwwAuthenticate: string;
}

export type AuthResult = AuthSuccess | AuthFailure;

export const DEFAULT_REALM = "outrig";

function quote(value: string): string {
  // A quoted-string may not hold `"` or `\` unescaped; drop them and anything non-printable.
  return value.replace(/[^\x20-\x7e]|["\\]/g, "");
}

/**
 * An RFC 6750 `Bearer` challenge. A request without credentials gets no error
 * attribute (section 3.1); a malformed header is `invalid_request`; anything else
 * is `invalid_token`. The description is the registry message, never token text.
 */
export function bearerChallenge(error: OutrigError | undefined, realm = DEFAULT_REALM): string {
  const base = `Bearer realm="${quote(realm)}"`;
  if (error === undefined || error.code === "auth.credential.missing") return base;
  const kind =
    error.code === "auth.credential.malformed" || error.code === "auth.credential.conflicting"
      ? "invalid_request"
      : "invalid_token";
  return `${base}, error="${kind}", error_description="${quote(error.message)}"`;
}

/** A failed authentication with its challenge. */
export function authFailure(code: AuthorityCode, realm = DEFAULT_REALM): AuthFailure {
  const error = authorityError(code);
  return { ok: false, error, wwwAuthenticate: bearerChallenge(error, realm) };
}
