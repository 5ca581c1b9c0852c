import type { AccessDecision, AdminDecision } from "../auth/access-gate.ts";
import { HttpFailure } from "./types.ts";

/**
 * Waits for a gate decision: an allowed invoke yields the context reference for the module (an
 * allowed admin call, none); a deny throws, as a 401 with the `WWW-Authenticate` challenge when
 * the caller is unauthenticated.
 */
export function enforce(decision: Promise<AccessDecision>): Promise<string>;
export function enforce(decision: Promise<AdminDecision>): Promise<undefined>;
export async function enforce(
  decision: Promise<AccessDecision | AdminDecision>,
): Promise<string | undefined> {
  const result = await decision;
  if (result.ok) return result.contextRef;
  if (result.wwwAuthenticate)
    throw new HttpFailure(result.error, { "www-authenticate": result.wwwAuthenticate });
  throw result.error;
}
