import fc from "fast-check";
import pino from "pino";
import { generateApiKey } from "../../src/authority/api-keys.ts";
import { generateDevToken } from "../../src/authority/dev-token.ts";
import { redactingLoggerOptions, redactString, redactValue } from "../../src/authority/redact.ts";

const JWT =
  "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtMTIzNDU2Nzg5MA";

describe("redaction", () => {
  it("scrubs tokens, keys and secrets from text", () => {
    const apiKey = generateApiKey();
    const dev = generateDevToken();
    const input = `auth=Bearer ${JWT}; key ${apiKey.plaintext} dev=${dev} password=hunter2 client_secret: "abc123" -----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----`;
    const out = redactString(input);
    for (const secret of [JWT, apiKey.plaintext.slice(21), dev, "hunter2", "abc123", "MIIEv"]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain(`ork_${apiKey.id}_[REDACTED]`); // the public id survives
  });

  it("replaces secret-named fields and scrubs nested strings", () => {
    const out = redactValue({
      headers: { authorization: "Basic abc", "x-api-key": "k", accept: "json" },
      nested: [{ note: `token ${JWT}` }],
      error: new Error(`bad token ${JWT}`),
    }) as Record<string, unknown>;
    expect(JSON.stringify(out)).not.toContain(JWT.split(".")[1]);
    expect(out.headers).toEqual({ authorization: "[REDACTED]", "x-api-key": "[REDACTED]", accept: "json" });
  });

  it("never lets any generated API key or dev token through (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.boolean(), (before, after, dev) => {
        const secret = dev ? generateDevToken() : generateApiKey().plaintext;
        const tail = secret.slice(-20);
        return (
          !redactString(`${before} ${secret} ${after}`).includes(tail) || `${before}${after}`.includes(tail)
        );
      }),
      { numRuns: 200 },
    );
  });

  it("plugs into pino for both objects and messages", () => {
    const lines: string[] = [];
    const logger = pino({ ...redactingLoggerOptions() }, { write: (l: string) => void lines.push(l) });
    logger.info(
      { req: { headers: { authorization: `Bearer ${JWT}` } }, text: `got ${JWT}` },
      `message with ${JWT}`,
    );
    expect(lines.join("")).not.toContain(JWT.split(".")[1]);
    expect(lines.join("")).toContain("[REDACTED");
  });
});
