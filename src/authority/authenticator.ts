import type { Logger } from "pino";
import type { ApiKeyAuthenticator } from "./api-keys.ts";
import { API_KEY_PREFIX } from "./api-keys.ts";
import { type AuthResult, authFailure, DEFAULT_REALM } from "./auth-result.ts";
import type { AuthorityCode } from "./codes.ts";
import { type DevTokenAuthenticator, isDevToken } from "./dev-token.ts";
import type { JwtAuthenticator } from "./jwt.ts";
import type { MtlsAuthenticator, PeerCertificate } from "./mtls.ts";
import type { RevocationList } from "./revocation.ts";

/** Request headers with lower-case names, as Node gives them (callers lower-case other maps). */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface AuthenticatorOptions {
  jwt?: JwtAuthenticator;
  apiKeys?: ApiKeyAuthenticator;
  /** Only ever present for `outrig up` on loopback (its constructor enforces that). */
  devToken?: DevTokenAuthenticator;
  /** Client certificates verified by the public listener's TLS layer. */
  mtls?: MtlsAuthenticator;
  revocations?: RevocationList;
  realm?: string;
  logger?: Logger;
}

/** RFC 6750 b64token: what a bearer credential may consist of. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_HEADER_LENGTH = 16_384;

function single(headers: HeaderBag, name: string): string | undefined | null {
  const value = headers[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") return value.length === 1 ? value[0] : null; // repeated header: refuse
  return value;
}

/**
 * One entry point for every credential: `Authorization: Bearer <jwt | api key | dev
 * token>` or `x-api-key: <api key>`. Exactly one credential may be presented.
 * Revocation is checked after any successful verification, cached or not.
 */
export class Authenticator {
  readonly #options: AuthenticatorOptions;
  readonly #realm: string;

  constructor(options: AuthenticatorOptions) {
    this.#options = options;
    this.#realm = options.realm ?? DEFAULT_REALM;
  }

  /**
   * A header credential wins; a verified client certificate (`peer`) authenticates only a
   * request that presents none.
   */
  async authenticate(headers: HeaderBag, peer?: PeerCertificate): Promise<AuthResult> {
    const authorization = single(headers, "authorization");
    const apiKeyHeader = single(headers, "x-api-key");
    if (authorization === null || apiKeyHeader === null) return this.#fail("auth.credential.malformed");
    if (authorization !== undefined && apiKeyHeader !== undefined)
      return this.#fail("auth.credential.conflicting");

    let result: AuthResult;
    if (apiKeyHeader !== undefined) {
      result = await this.#apiKey(apiKeyHeader.trim());
    } else if (authorization !== undefined) {
      if (authorization.length > MAX_HEADER_LENGTH) return this.#fail("auth.token.too_large");
      const match = /^([A-Za-z]+) +(\S+)\s*$/.exec(authorization);
      if (!match) return this.#fail("auth.credential.malformed");
      if (match[1]!.toLowerCase() !== "bearer") return this.#fail("auth.scheme.unsupported");
      const token = match[2]!;
      if (!B64TOKEN.test(token)) return this.#fail("auth.credential.malformed");
      result = await this.#bearer(token);
    } else if (peer && this.#options.mtls) {
      result = this.#options.mtls.authenticate(peer);
    } else {
      return this.#fail("auth.credential.missing");
    }
    if (result.ok && this.#options.revocations?.isRevoked(result.principal.subject, result.credential)) {
      return this.#fail("auth.credential.revoked");
    }
    if (!result.ok) this.#log(result.error.code);
    return result;
  }

  async #bearer(token: string): Promise<AuthResult> {
    if (token.startsWith(API_KEY_PREFIX)) return this.#apiKey(token);
    if (isDevToken(token)) {
      return this.#options.devToken
        ? this.#options.devToken.verify(token)
        : authFailure("auth.dev_token.invalid", this.#realm);
    }
    if (!this.#options.jwt) return authFailure("auth.token.not_accepted", this.#realm);
    return this.#options.jwt.verify(token);
  }

  async #apiKey(value: string): Promise<AuthResult> {
    if (!this.#options.apiKeys) return authFailure("auth.api_key.invalid", this.#realm);
    return this.#options.apiKeys.verify(value);
  }

  #fail(code: AuthorityCode): AuthResult {
    this.#log(code);
    return authFailure(code, this.#realm);
  }

  #log(code: string): void {
    this.#options.logger?.debug({ code }, "authentication failed");
  }
}
