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
