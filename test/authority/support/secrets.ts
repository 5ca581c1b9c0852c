import type { OutrigError } from "../../../src/errors/outrig-error.ts";

/** Everything a client or a log could see from an error: message, envelope, challenge. */
export function visibleText(value: { error?: OutrigError; wwwAuthenticate?: string } | OutrigError): string {
  if (value instanceof Error)
    return `${value.message} ${JSON.stringify(value.toEnvelope())} ${String(value)}`;
  const parts = [value.wwwAuthenticate ?? ""];
  if (value.error) parts.push(visibleText(value.error));
  return parts.join(" ");
}

/**
 * Fails when any planted secret (or a long-enough slice of it) occurs in any text.
 * Slices catch partial echoes, such as a token's payload segment alone.
 */
export function expectNoSecrets(texts: readonly string[], secrets: readonly string[]): void {
  const needles = new Set<string>();
  for (const secret of secrets) {
    needles.add(secret);
    for (const part of secret.split(/[._]/)) if (part.length >= 16) needles.add(part);
  }
  for (const [index, text] of texts.entries()) {
    for (const needle of needles) {
      const at = text.indexOf(needle);
      // The report names where, never the secret or its surroundings (CI logs are not private).
      if (at >= 0)
        throw new Error(`a planted secret leaked: text #${index}, offset ${at}, ${needle.length} characters`);
    }
  }
}
