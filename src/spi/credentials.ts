import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A fresh 256-bit secret, base64url. */
export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** Constant-time comparison of two secrets of any length. */
export function secretsEqual(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * A checker for one fixed secret, for the per-call hot path: the expected digest is
 * computed once, and each check hashes only what was presented (so the comparison
 * stays constant-time whatever the presented length).
 */
export function secretChecker(expected: string): (presented: string | undefined) => boolean {
  const digest = createHash("sha256").update(expected).digest();
  return (presented) =>
    presented !== undefined &&
    presented.length <= 1024 &&
    timingSafeEqual(createHash("sha256").update(presented).digest(), digest);
}
