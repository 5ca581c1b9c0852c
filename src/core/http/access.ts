import type { AccessDecision } from "../auth/access-gate.ts";
import { HttpFailure } from "./types.ts";

/**
 * Waits for a gate decision: an allow yields the context reference for the module; a deny
 * throws, as a 401 with the `WWW-Authenticate` challenge when the caller is unauthenticated.
 */
export async function enforce(decision: Promise<AccessDecision>): Promise<string> {
  const result = await decision;
  if (result.ok) return result.contextRef;
  if (result.wwwAuthenticate)
    throw new HttpFailure(result.error, { "www-authenticate": result.wwwAuthenticate });
  throw result.error;
}
