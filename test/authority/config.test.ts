import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateApiKey } from "../../src/authority/api-keys.ts";
import { createAuthority } from "../../src/authority/config.ts";
import { generateDevToken } from "../../src/authority/dev-token.ts";
import { AUDIENCE, ISSUER, rsaKey, signToken } from "./support/jwt.ts";

const EXAMPLE = JSON.parse(
  await readFile(new URL("../../examples/policies/authority.json", import.meta.url), "utf8"),
);

describe("createAuthority", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "outrig-config-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("builds a working authority from the example configuration (with local keys)", async () => {
    const key = await rsaKey("k1");
    const apiKey = generateApiKey();
    const config = {
      ...EXAMPLE,
      jwt: {
        ...EXAMPLE.jwt,
        issuer: ISSUER,
        audience: AUDIENCE,
        jwks: undefined,
        keys: [{ kid: "k1", pem: key.publicPem }],
      },
      apiKeys: [
        { id: apiKey.id, hash: apiKey.hash, subject: "svc:ci", roles: ["viewer"], teams: ["team-a"] },
      ],
      policies: {
        ...EXAMPLE.policies,
        paths: [new URL("../../examples/policies/outrig.cedar", import.meta.url).pathname],
      },
      audit: { file: join(dir, "audit.jsonl"), allowSampleRate: 0 },
    };
    const { authority, close } = await createAuthority(config);
    try {
      const token = await signToken(key, {
        sub: "dana",
        realm_access: { roles: ["developer"] },
        groups: ["team-a"],
      });
      const allowed = await authority.authorizeRequest({
        moduleId: "mcp-github",
        headers: { authorization: `Bearer ${token}` },
        check: {
          action: "mcp.tools.call",
          resource: { type: "tool", id: "search", attributes: { team: "team-a" } },
        },
      });
      expect(allowed.ok).toBe(true);
      const shell = await authority.authorizeRequest({
        moduleId: "mcp-github",
        headers: { authorization: `Bearer ${token}` },
        check: { action: "mcp.tools.call", resource: { type: "tool", id: "shell" } },
      });
      expect(shell.ok || shell.decision?.policyIds).toEqual(["tools.shell.operators-only"]);
      const viaKey = await authority.authorizeRequest({
        moduleId: "mcp-github",
        headers: { "x-api-key": apiKey.plaintext },
        check: { action: "mcp.tools.list", resource: { type: "module", id: "mcp-github" } },
      });
      expect(viaKey.ok).toBe(true);
    } finally {
      await close();
    }
    expect(await readFile(join(dir, "audit.jsonl"), "utf8")).toContain("tools.shell.operators-only");
  });

  it.each([
    ["an unknown field", { apiKey: "ork_plaintext" }],
    ["a context reference lifetime over 60 s", { contextRefs: { ttlSec: 120 } }],
    ["alg none", { jwt: { issuer: "i", audience: "a", algorithms: ["none"], keys: [{ pem: "x" }] } }],
    [
      "a missing HMAC secret variable",
      { jwt: { issuer: "i", audience: "a", algorithms: ["HS256"], keys: [{ secretEnv: "NOPE_NOT_SET" }] } },
    ],
  ])("refuses %s", async (_name, config) => {
    await expect(createAuthority(config, { env: {} })).rejects.toMatchObject({ code: "auth.config.invalid" });
  });

  it("refuses an mTLS identity that names no valid principal at start, not per request", async () => {
    const identity = { match: { cn: "svc" }, subject: "svc", roles: ["developer"] };
    await expect(
      createAuthority({ mtls: { identities: [identity, { ...identity, subject: "bad\u0000subject" }] } }),
    ).rejects.toMatchObject({
      code: "auth.config.invalid",
      cause: { message: expect.stringContaining("mtls.identities[1]") },
    });
    const { authority, close } = await createAuthority({ mtls: { identities: [identity] } });
    try {
      const peer = { cn: "svc", sans: [], fingerprint256: "AA" };
      const first = await authority.parts.authenticator.authenticate({}, peer);
      const second = await authority.parts.authenticator.authenticate({}, peer);
      // One principal per identity, built once (so its digest is computed once too).
      expect(first.ok && second.ok && first.principal === second.principal).toBe(true);
    } finally {
      await close();
    }
  });

  it("matches a configured fingerprint whatever its case", async () => {
    const fingerprint = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, "0")).join(":");
    const { authority, close } = await createAuthority({
      mtls: { identities: [{ match: { fingerprint256: fingerprint }, subject: "svc" }] },
    });
    try {
      const peer = { sans: [], fingerprint256: fingerprint.toUpperCase() };
      expect((await authority.parts.authenticator.authenticate({}, peer)).ok).toBe(true);
      const other = { sans: [], fingerprint256: fingerprint.toUpperCase().replace(/^0/, "F") };
      expect((await authority.parts.authenticator.authenticate({}, other)).ok).toBe(false);
    } finally {
      await close();
    }
  });

  it("gives the dev token the admin API on loopback, and refuses it elsewhere", async () => {
    const token = generateDevToken();
    const { authority, close } = await createAuthority({}, { devToken: { token, bindHost: "127.0.0.1" } });
    try {
      const admin = await authority.authorizeAdmin({ headers: { authorization: `Bearer ${token}` } });
      expect(admin.ok).toBe(true);
    } finally {
      await close();
    }
    await expect(createAuthority({}, { devToken: { token, bindHost: "0.0.0.0" } })).rejects.toMatchObject({
      code: "auth.dev_token.non_loopback",
    });
  });

  it("refuses an invalid policy file at start", async () => {
    const file = join(dir, "bad.cedar");
    await writeFile(file, '@id("x") permit (principal, action, resource) when { resource.nope };');
    await expect(createAuthority({ policies: { paths: [file] } })).rejects.toMatchObject({
      code: "policy.set.invalid",
    });
  });
});
