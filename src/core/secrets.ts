/**
 * Every secret value the core knows (launch secrets, module credentials, bootstrap
 * tokens, configured secrets), so that no log line the core writes, including what
 * it captures from modules, ever contains one.
 */
export class SecretScrubber {
  readonly #values = new Set<string>();

  add(value: string | undefined): void {
    // Very short values would redact ordinary words; real secrets are long.
    if (value && value.length >= 8) this.#values.add(value);
  }

  remove(value: string | undefined): void {
    if (value) this.#values.delete(value);
  }

  scrub(text: string): string {
    let out = text;
    for (const secret of this.#values) if (out.includes(secret)) out = out.replaceAll(secret, "[redacted]");
    return out;
  }
}
