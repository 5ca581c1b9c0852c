import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PolicyEngine, type PolicyLoadResult } from "../../src/authority/cedar/policy-engine.ts";
import { policyFileSource, watchPolicyFiles } from "../../src/authority/cedar/policy-source.ts";
import { createPrincipal } from "../../src/authority/principal.ts";
import { waitFor } from "../support/wait.ts";

const ALLOW =
  '@id("allow-t") permit (principal, action == Outrig::Action::"mcp.tools.call", resource == Outrig::Tool::"t");\n';
const DENY = '@id("deny-t") forbid (principal, action, resource == Outrig::Tool::"t");\n';

/** Atomic replacement, so a reload never reads a half-written file. */
async function replace(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

describe("policy files", () => {
  let dir: string;
  const alice = createPrincipal({ subject: "alice", authMethod: "jwt", teamScope: { kind: "public_only" } });
  const check = { action: "mcp.tools.call", resource: { type: "tool" as const, id: "t" } };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "outrig-policies-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a directory of .cedar files in name order", async () => {
    await writeFile(join(dir, "10-allow.cedar"), ALLOW);
    await writeFile(join(dir, "20-deny.cedar"), DENY);
    await writeFile(join(dir, "notes.txt"), "not a policy");
    const engine = await PolicyEngine.create({ source: policyFileSource([dir]) });
    expect(engine.policyCount).toBe(3); // two plus the built-in visibility rule
    expect(engine.decide(alice, check)).toMatchObject({ effect: "deny", policyIds: ["deny-t"] });
  });

  it("reloads on change, refuses a broken edit and keeps the set in force, then takes the fix", async () => {
    const file = join(dir, "policies.cedar");
    await writeFile(file, ALLOW);
    const engine = await PolicyEngine.create({ source: policyFileSource([file]) });
    const results: PolicyLoadResult[] = [];
    const watcher = watchPolicyFiles(engine, [file], { debounceMs: 50, onResult: (r) => results.push(r) });
    try {
      expect(engine.decide(alice, check).effect).toBe("allow");

      // Editors write a temporary file and rename it over the original.
      await replace(file, DENY);
      await waitFor(() => results.length >= 1, "the first reload", 5000);
      expect(results.at(-1)).toMatchObject({ ok: true, epoch: 2 });
      expect(engine.decide(alice, check)).toMatchObject({ effect: "deny", policyIds: ["deny-t"], epoch: 2 });

      await replace(file, '@id("broken") permit (principal, action, resource) when { resource.nope };');
      await waitFor(() => results.length >= 2, "the second reload", 5000);
      expect(results.at(-1)).toMatchObject({ ok: false, epoch: 2 });
      expect(engine.decide(alice, check)).toMatchObject({ effect: "deny", policyIds: ["deny-t"], epoch: 2 });

      await replace(file, ALLOW);
      await waitFor(() => results.length >= 3, "the third reload", 5000);
      expect(results.at(-1)).toMatchObject({ ok: true, epoch: 3 });
      expect(engine.decide(alice, check).effect).toBe("allow");
    } finally {
      watcher.close();
    }
  });

  it("keeps the set in force when the source cannot be read", async () => {
    const file = join(dir, "policies.cedar");
    await writeFile(file, ALLOW);
    const engine = await PolicyEngine.create({ source: policyFileSource([file]) });
    await rm(file);
    const result = await engine.reload();
    expect(result).toMatchObject({ ok: false, epoch: 1 });
    expect(result.ok || result.error.code).toBe("policy.source.unreadable");
    expect(engine.decide(alice, check).effect).toBe("allow");
  });
});
