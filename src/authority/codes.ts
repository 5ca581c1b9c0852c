import { OutrigError } from "../errors/outrig-error.ts";
import { registerCodes } from "../errors/registry.ts";

/**
 * Error codes of the authority (authentication, policy, rate limits, audit). The
 * message is what a client sees; it never carries token text or library text.
 */
export const AUTHORITY_CODES = [
  // Credentials in general.
  { code: "auth.credential.missing", category: "UNAUTHENTICATED", message: "Authentication is required." },
  {
    code: "auth.credential.malformed",
    category: "UNAUTHENTICATED",
    message: "The authorization header is malformed.",
  },
  {
    code: "auth.credential.conflicting",
    category: "UNAUTHENTICATED",
    message: "Present exactly one credential.",
  },
  {
    code: "auth.scheme.unsupported",
    category: "UNAUTHENTICATED",
    message: "This authorization scheme is not supported.",
  },
  {
    code: "auth.credential.revoked",
    category: "UNAUTHENTICATED",
    message: "The credential has been revoked.",
  },
  // JWT bearer tokens.
  {
    code: "auth.token.not_accepted",
    category: "UNAUTHENTICATED",
    message: "Bearer tokens are not accepted.",
  },
  { code: "auth.token.too_large", category: "UNAUTHENTICATED", message: "The access token is too large." },
  { code: "auth.token.malformed", category: "UNAUTHENTICATED", message: "The access token is malformed." },
  {
    code: "auth.token.alg_not_allowed",
    category: "UNAUTHENTICATED",
    message: "The access token algorithm is not allowed.",
  },
  {
    code: "auth.token.unknown_key",
    category: "UNAUTHENTICATED",
    message: "The access token was signed with an unknown key.",
  },
  {
    code: "auth.token.bad_signature",
    category: "UNAUTHENTICATED",
    message: "The access token signature is invalid.",
  },
  { code: "auth.token.expired", category: "UNAUTHENTICATED", message: "The access token has expired." },
  {
    code: "auth.token.not_yet_valid",
    category: "UNAUTHENTICATED",
    message: "The access token is not valid yet.",
  },
  {
    code: "auth.token.wrong_issuer",
    category: "UNAUTHENTICATED",
    message: "The access token issuer is not accepted.",
  },
  {
    code: "auth.token.wrong_audience",
    category: "UNAUTHENTICATED",
    message: "The access token audience is not accepted.",
  },
  {
    code: "auth.token.missing_claim",
    category: "UNAUTHENTICATED",
    message: "The access token lacks a required claim.",
  },
  {
    code: "auth.token.invalid_claims",
    category: "UNAUTHENTICATED",
    message: "The access token claims are invalid.",
  },
  {
    code: "auth.keys.unavailable",
    category: "UNAVAILABLE",
    message: "Token signing keys are temporarily unavailable.",
    retryable: true,
  },
  // API keys and the development token.
  { code: "auth.api_key.invalid", category: "UNAUTHENTICATED", message: "The API key is invalid." },
  {
    code: "auth.mtls.unknown_identity",
    category: "UNAUTHENTICATED",
    message: "The client certificate is not a known identity.",
  },
  { code: "auth.api_key.expired", category: "UNAUTHENTICATED", message: "The API key has expired." },
  {
    code: "auth.dev_token.invalid",
    category: "UNAUTHENTICATED",
    message: "The development token is invalid.",
  },
  {
    code: "auth.dev_token.non_loopback",
    category: "FAILED_PRECONDITION",
    message: "The development token is only available on a loopback address.",
  },
  {
    code: "auth.config.invalid",
    category: "FAILED_PRECONDITION",
    message: "The authentication configuration is invalid.",
  },
  { code: "auth.principal.invalid", category: "INVALID_ARGUMENT", message: "The principal is invalid." },
  // Core-signed context references.
  {
    code: "auth.context_ref.missing",
    category: "UNAUTHENTICATED",
    message: "A context reference is required.",
  },
  {
    code: "auth.context_ref.too_large",
    category: "UNAUTHENTICATED",
    message: "The context reference is too large.",
  },
  {
    code: "auth.context_ref.malformed",
    category: "UNAUTHENTICATED",
    message: "The context reference is malformed.",
  },
  {
    code: "auth.context_ref.unknown_key",
    category: "UNAUTHENTICATED",
    message: "The context reference was signed with an unknown key.",
  },
  {
    code: "auth.context_ref.bad_signature",
    category: "UNAUTHENTICATED",
    message: "The context reference signature is invalid.",
  },
  {
    code: "auth.context_ref.expired",
    category: "UNAUTHENTICATED",
    message: "The context reference has expired.",
  },
  {
    code: "auth.context_ref.wrong_audience",
    category: "UNAUTHENTICATED",
    message: "The context reference was issued for another module.",
  },
  // Session ownership: "no such session" and "not your session" read the same.
  { code: "auth.session.not_found", category: "NOT_FOUND", message: "No such session." },
  // Policy decisions and policy loading.
  { code: "policy.decision.denied", category: "PERMISSION_DENIED", message: "Access denied." },
  { code: "policy.resource.not_found", category: "NOT_FOUND", message: "Not found." },
  {
    code: "policy.request.invalid",
    category: "INVALID_ARGUMENT",
    message: "The permission check is invalid.",
  },
  { code: "policy.evaluation.failed", category: "INTERNAL", message: "The policy decision failed." },
  { code: "policy.set.invalid", category: "INVALID_ARGUMENT", message: "The policy set is invalid." },
  {
    code: "policy.source.unreadable",
    category: "FAILED_PRECONDITION",
    message: "The policy source cannot be read.",
  },
  // Rate limits.
  { code: "rate.limit.exceeded", category: "RATE_LIMITED", message: "Rate limit exceeded.", retryable: true },
  {
    code: "rate.store.unavailable",
    category: "UNAVAILABLE",
    message: "Rate limiting is temporarily unavailable.",
    retryable: true,
  },
  // Audit.
  { code: "audit.sink.failed", category: "INTERNAL", message: "Internal error." },
] as const;

registerCodes(AUTHORITY_CODES);

export type AuthorityCode = (typeof AUTHORITY_CODES)[number]["code"];

/** An OutrigError for one of the authority's codes; the message comes from the registry. */
export function authorityError(
  code: AuthorityCode,
  options: { retryAfterMs?: number; correlationId?: string; traceId?: string } = {},
): OutrigError {
  return OutrigError.fromCode(code, options);
}

/** A configuration error: the reason goes to the operator's log as `cause`, never to a client. */
export function configError(reason: string): OutrigError {
  return OutrigError.fromCode("auth.config.invalid", { cause: new Error(reason) });
}
