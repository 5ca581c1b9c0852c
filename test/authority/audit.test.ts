import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLogger } from "../../src/authority/audit.ts";
import type { Decision, PermissionCheck } from "../../src/authority/cedar/policy-engine.ts";
import { authorityError } from "../../src/authority/codes.ts";
import { createPrincipal } from "../../src/authority/principal.ts";
import { captureLogger } from "./support/logs.ts";

const alice = createPrincipal({
  subject: "alice",
  authMethod: "jwt",
  roles: ["dev"],
  teamScope: { kind: "public_only" },
});
const check: PermissionCheck = { action: "mcp.tools.call", resource: { type: "tool", id: "search" } };
const allow: Decision = { effect: "allow", policyIds: ["rbac.dev"], epoch: 4, cached: false };
const deny: Decision = {
  effect: "deny",
  policyIds: ["outrig.visibility"],
  epoch: 4,
  cached: true,
  error: authorityError("policy.resource.not_found"),
};

describe("audit", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "outrig-audit-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes every deny and a sample of allows as JSON lines (mode 0600) and to the log", async () => {
    const file = join(dir, "logs", "audit.jsonl");
    const { logger, lines } = captureLogger();
    const rolls = [0.5, 0.01];
    const audit = new AuditLogger({
      filePath: file,
      logger,
      allowSampleRate: 0.1,
      random: () => rolls.shift() ?? 1,
      now: () => 0,
    });
    const ids = { module: "mcp-github", correlationId: "corr-1", traceId: "a".repeat(32) };
    expect(audit.decision(alice, check, allow, ids)).toBe(false); // 0.5: not sampled
    expect(audit.decision(alice, check, allow, ids)).toBe(true); // 0.01: sampled
    expect(audit.decision(alice, check, deny, ids)).toBe(true);
    expect(audit.decision(alice, check, deny, ids)).toBe(true);
    audit.authenticationFailure(authorityError("auth.token.expired"), {
      module: "mcp-github",
      clientIp: "10.0.0.1",
    });
    await audit.close();

    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const records = (await readFile(file, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(records).toHaveLength(4);
    expect(records[1]).toEqual({
      time: "1970-01-01T00:00:00.000Z",
      kind: "authz",
      decision: "deny",
      subject: "alice",
      authMethod: "jwt",
      action: "mcp.tools.call",
      resource: { type: "tool", id: "search" },
      policyIds: ["outrig.visibility"],
      epoch: 4,
      category: "NOT_FOUND",
      code: "policy.resource.not_found",
      module: "mcp-github",
      correlationId: "corr-1",
      traceId: "a".repeat(32),
    });
    expect(records[3]).toMatchObject({
      kind: "authn",
      decision: "deny",
      code: "auth.token.expired",
      clientIp: "10.0.0.1",
    });
    expect(lines.filter((l) => l.includes('"audit"'))).toHaveLength(4);
  });

  it("scrubs credentials that reach any field", async () => {
    const file = join(dir, "audit.jsonl");
    const audit = new AuditLogger({ filePath: file, allowSampleRate: 1 });
    const token = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl";
    audit.decision(alice, { ...check, resource: { type: "tool", id: `Bearer ${token}` } }, allow, {
      correlationId: token,
    });
    await audit.close();
    const text = await readFile(file, "utf8");
    expect(text).not.toContain("eyJzdWIiOiJ4In0");
    expect(text).toContain("[REDACTED");
  });
});
