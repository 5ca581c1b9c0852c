import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import fc from "fast-check";
import {
  cedarContext,
  cedarTypeOf,
  isVisibleTo,
  normalizeResource,
  principalEntity,
  type ResourceRef,
  resourceEntity,
} from "../../src/authority/cedar/entities.ts";
import { type PermissionCheck, PolicyEngine } from "../../src/authority/cedar/policy-engine.ts";
import { compilePolicySet } from "../../src/authority/cedar/policy-set.ts";
import {
  loadSchema,
  OPERATION_ACTIONS,
  RESOURCE_TYPES,
  type ResourceType,
} from "../../src/authority/cedar/schema.ts";
import { InvalidationBus, type InvalidationEvent } from "../../src/authority/invalidation.ts";
import {
  createPrincipal,
  type Principal,
  type TeamScope,
  teamScopeOf,
} from "../../src/authority/principal.ts";

const ROLES = {
  viewer: ["mcp.tools.list", "mcp.resources.list", "mcp.resources.read", "mcp.prompts.*"],
  developer: ["mcp.*", "llm.*"],
  admin: ["*"],
};

const OPERATOR_POLICIES = `
// Nobody but admins may call the shell tool.
@id("tools.shell.admins-only")
forbid (principal, action == Outrig::Action::"mcp.tools.call", resource == Outrig::Tool::"shell")
unless { principal in Outrig::Role::"admin" };

// Secret-tagged tools do not even exist for API keys.
@id("tools.secret.hidden-from-keys")
@deny_as("not_found")
forbid (principal, action, resource is Outrig::Tool)
when { resource has tags && resource.tags.contains("secret") && principal.authMethod == "api_key" };

@id("agents.support")
permit (principal in Outrig::Team::"support", action in Outrig::Action::"a2a.*", resource is Outrig::Agent);
`;

function who(
  subject: string,
  roles: string[],
  teamScope: TeamScope,
  authMethod: Principal["authMethod"] = "jwt",
) {
  return createPrincipal({ subject, authMethod, roles, teamScope });
}

const teamA = (roles: string[]) => who("alice", roles, { kind: "teams", teamIds: ["team-a"] });
const tool = (id: string, attributes: Record<string, string> = {}): ResourceRef => ({
  type: "tool",
  id,
  attributes,
});
const call = (resource: ResourceRef, context?: Record<string, string>): PermissionCheck => ({
  action: "mcp.tools.call",
  resource,
  ...(context ? { context } : {}),
});

describe("PolicyEngine decisions", () => {
  let engine: PolicyEngine;
  beforeAll(async () => {
    engine = await PolicyEngine.create({ roles: ROLES, policies: OPERATOR_POLICIES });
  });

  const outcome = (p: Principal, check: PermissionCheck) => {
    const d = engine.decide(p, check);
    return d.effect === "allow"
      ? `allow ${d.policyIds.join(",")}`
      : `${d.error.category} ${d.policyIds.join(",")}`;
  };

  it("denies by default", async () => {
    const bare = await PolicyEngine.create();
    const d = bare.decide(teamA([]), call(tool("t", { visibility: "public" })));
    expect(d.effect).toBe("deny");
    expect(d.error?.category).toBe("PERMISSION_DENIED");
    expect(d.policyIds).toEqual([]);
  });

  it("allows through a role and names the role's policy", () => {
    expect(outcome(teamA(["developer"]), call(tool("t", { team: "team-a" })))).toBe("allow rbac.developer");
    expect(outcome(teamA(["viewer"]), call(tool("t", { team: "team-a" })))).toBe("PERMISSION_DENIED ");
  });

  it.each([
    ["wrong team", teamA(["developer"]), tool("t", { team: "team-b" }), "NOT_FOUND outrig.visibility"],
    [
      "public-only token on a team tool",
      who("alice", ["developer"], { kind: "public_only" }),
      tool("t", { team: "team-a" }),
      "NOT_FOUND outrig.visibility",
    ],
    [
      "public-only token on a public tool",
      who("alice", ["developer"], { kind: "public_only" }),
      tool("t"),
      "allow rbac.developer",
    ],
    ["insufficient role", teamA(["viewer"]), tool("t", { team: "team-a" }), "PERMISSION_DENIED "],
    [
      "hidden tool, no permission",
      teamA(["viewer"]),
      tool("t", { team: "team-a", hidden: "true" }),
      "NOT_FOUND ",
    ],
    [
      "hidden tool, permitted",
      teamA(["developer"]),
      tool("t", { team: "team-a", hidden: "true" }),
      "allow rbac.developer",
    ],
    [
      "someone else's private tool",
      teamA(["developer"]),
      tool("t", { visibility: "private", owner: "bob" }),
      "NOT_FOUND outrig.visibility",
    ],
    [
      "own private tool",
      teamA(["developer"]),
      tool("t", { visibility: "private", owner: "alice" }),
      "allow rbac.developer",
    ],
    [
      "unrestricted admin, any team",
      who("root", ["admin"], { kind: "unrestricted" }),
      tool("t", { team: "team-z" }),
      "allow rbac.admin",
    ],
    ["operator forbid", teamA(["developer"]), tool("shell"), "PERMISSION_DENIED tools.shell.admins-only"],
    [
      "operator forbid, admin",
      who("root", ["admin"], { kind: "unrestricted" }),
      tool("shell"),
      "allow rbac.admin",
    ],
    [
      "forbid marked deny_as not_found",
      who("ci", ["developer"], { kind: "public_only" }, "api_key"),
      tool("vault", { tags: "secret,ops" }),
      "NOT_FOUND tools.secret.hidden-from-keys",
    ],
  ])("%s", (_name, principal, resource, expected) => {
    expect(outcome(principal, call(resource))).toBe(expected);
  });

  it("lets policies use team parents and action groups", () => {
    const support = who("sam", [], { kind: "teams", teamIds: ["support"] });
    const agent: ResourceRef = { type: "agent", id: "helpdesk" };
    expect(outcome(support, { action: "a2a.tasks.cancel", resource: agent })).toBe("allow agents.support");
    expect(outcome(teamA([]), { action: "a2a.tasks.cancel", resource: agent })).toBe("PERMISSION_DENIED ");
  });

  it.each([
    ["an unknown action", { action: "mcp.tools.destroy", resource: tool("t") }],
    [
      "a resource type the action does not apply to",
      { action: "mcp.tools.call", resource: { type: "model", id: "m" } },
    ],
    [
      "an unknown resource type",
      { action: "mcp.tools.call", resource: { type: "server" as ResourceType, id: "m" } },
    ],
    ["an empty id", { action: "mcp.tools.call", resource: tool("") }],
    ["a control character in an id", { action: "mcp.tools.call", resource: tool("a\u0000b") }],
    ["a bad visibility", { action: "mcp.tools.call", resource: tool("t", { visibility: "secret" }) }],
    ["a bad hidden flag", { action: "mcp.tools.call", resource: tool("t", { hidden: "yes" }) }],
  ])("refuses %s as INVALID_ARGUMENT", (_name, check) => {
    const d = engine.decide(who("root", ["admin"], { kind: "unrestricted" }), check as PermissionCheck);
    expect(d.effect).toBe("deny");
    expect(d.error?.code).toBe("policy.request.invalid");
  });

  it("answers catalog access: visible, invocable, hidden only to those who may invoke", () => {
    const entries = [
      { resource: tool("mine", { team: "team-a" }) },
      { resource: tool("theirs", { team: "team-b" }) },
      { resource: tool("hidden", { team: "team-a", hidden: "true" }) },
      { resource: { type: "prompt" as const, id: "p", attributes: { team: "team-a" } } },
    ];
    expect(engine.catalogAccess(teamA(["viewer"]), entries)).toEqual([
      { entityId: "mine", visible: true, invocable: false },
      { entityId: "theirs", visible: false, invocable: false },
      { entityId: "hidden", visible: false, invocable: false },
      { entityId: "p", visible: true, invocable: true },
    ]);
    expect(engine.catalogAccess(teamA(["developer"]), entries).map((e) => e.visible)).toEqual([
      true,
      false,
      true,
      true,
    ]);
  });

  it("states the visibility rule identically in TypeScript and in Cedar", async () => {
    const all = await PolicyEngine.create({ roles: { all: ["*"] } });
    const scope = fc.oneof(
      fc.constant<TeamScope>({ kind: "unrestricted" }),
      fc.constant<TeamScope>({ kind: "public_only" }),
      fc.subarray(["a", "b", "c"], { minLength: 1 }).map((ids) => teamScopeOf(ids)),
    );
    const attributes = fc.record(
      {
        visibility: fc.constantFrom("public", "team", "private"),
        team: fc.constantFrom("a", "b", "d"),
        owner: fc.constantFrom("alice", "bob"),
        hidden: fc.constantFrom("true", "false"),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(scope, fc.constantFrom("alice", "bob"), attributes, (teamScope, subject, attrs) => {
        const principal = who(subject, ["all"], teamScope);
        const normalized = normalizeResource(attrs)!;
        const decision = all.decide(principal, call(tool("x", attrs)));
        return (decision.effect === "allow") === isVisibleTo(principal, normalized);
      }),
      { numRuns: 400 },
    );
  });
});

describe("PolicyEngine loading", () => {
  it("refuses an invalid set with Cedar's diagnostics and keeps the set in force", async () => {
    const logs: unknown[] = [];
    const engine = await PolicyEngine.create({ roles: ROLES, policies: OPERATOR_POLICIES });
    const before = engine.decide(teamA(["developer"]), call(tool("shell")));
    const cases: Array<[string, string | RegExp]> = [
      [
        '@id("a")\npermit (principal, action, resource) when { resource.colour == "red" };',
        /attribute `colour`/,
      ],
      ['@id("a")\npermit (principal, action, resource) when { principal. };', /unexpected token/],
      ["permit (principal, action, resource);", /no @id/],
      [
        '@id("a") permit (principal, action, resource);\n@id("a") forbid (principal, action, resource);',
        /duplicate policy id/,
      ],
      ['@id("outrig.mine") permit (principal, action, resource);', /reserved/],
      ['@id("t") permit (principal == ?principal, action, resource);', /templates/],
      ['@id("a") permit (principal, action == Outrig::Action::"mcp.tools.explode", resource);', /.+/],
    ];
    for (const [text, pattern] of cases) {
      const result = engine.load(text);
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      logs.push(result.diagnostics);
      expect(result.error.code).toBe("policy.set.invalid");
      expect(result.epoch).toBe(1);
      expect(result.diagnostics.map((d) => d.message).join("\n")).toMatch(pattern);
    }
    const located = engine.load(
      '@id("a")\n\npermit (principal, action, resource) when { resource.colour == "red" };',
    );
    if (located.ok) throw new Error("should be refused");
    const diag = located.diagnostics[0]!;
    expect(diag.policyId).toBe("a");
    expect(diag.line).toBe(3);
    expect(engine.epoch).toBe(1);
    const after = engine.decide(teamA(["developer"]), call(tool("shell")));
    expect(after.policyIds).toEqual(before.policyIds);
    expect(after.effect).toBe(before.effect);
  });

  it("refuses roles whose permissions match no action", async () => {
    const engine = await PolicyEngine.create({ roles: ROLES });
    const result = engine.setRoles({ typo: ["mcp.tool.call"] });
    expect(result.ok).toBe(false);
    expect(result.ok || result.diagnostics[0]?.message).toMatch(/matches no action/);
    await expect(PolicyEngine.create({ roles: { "bad role": ["*"] } })).rejects.toMatchObject({
      code: "policy.set.invalid",
    });
  });

  it("advances the epoch, announces it and drops cached decisions on reload", async () => {
    const bus = new InvalidationBus();
    const events: InvalidationEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const engine = await PolicyEngine.create({ roles: ROLES, bus });
    const p = teamA(["developer"]);
    const check = call(tool("t", { team: "team-a" }));
    expect(engine.decide(p, check).cached).toBe(false);
    expect(engine.decide(p, check).cached).toBe(true);
    const result = engine.load('@id("deny-t") forbid (principal, action, resource == Outrig::Tool::"t");');
    expect(result).toMatchObject({ ok: true, epoch: 2 });
    const d = engine.decide(p, check);
    expect(d).toMatchObject({ effect: "deny", cached: false, epoch: 2, policyIds: ["deny-t"] });
    expect(events.map((e) => [e.kind, e.epoch])).toEqual([
      ["policy_changed", 1],
      ["policy_changed", 2],
    ]);
  });
});

describe("decision cache", () => {
  let engine: PolicyEngine;
  beforeEach(async () => {
    engine = await PolicyEngine.create({ roles: ROLES, decisionCacheSize: 3 });
  });

  it("keys on principal, action, resource with attributes, and context", () => {
    const dev = teamA(["developer"]);
    const check = call(tool("t", { team: "team-a" }), { transport: "http" });
    expect(engine.decide(dev, check).cached).toBe(false);
    expect(engine.decide(teamA(["developer"]), check).cached).toBe(true); // an equal principal object
    expect(engine.decide(teamA(["viewer"]), check)).toMatchObject({ cached: false, effect: "deny" });
    expect(engine.decide(dev, call(tool("t", { team: "team-b" }), { transport: "http" }))).toMatchObject({
      cached: false,
      effect: "deny",
    });
    expect(engine.decide(dev, call(tool("t", { team: "team-a" }), { transport: "grpc" })).cached).toBe(false);
    // Unknown context keys are not policy inputs, so they do not split the cache.
    expect(
      engine.decide(dev, call(tool("t", { team: "team-a" }), { transport: "grpc", noise: "1" })).cached,
    ).toBe(true);
  });

  it("is bounded", () => {
    const dev = teamA(["developer"]);
    for (const id of ["a", "b", "c", "d"]) engine.decide(dev, call(tool(id)));
    expect(engine.cacheStats().size).toBe(3);
    expect(engine.decide(dev, call(tool("a"))).cached).toBe(false); // evicted as the oldest
    expect(engine.decide(dev, call(tool("d"))).cached).toBe(true);
  });

  it("hands out a fresh error object per cached deny", () => {
    const check = call(tool("t", { team: "team-b" }));
    const first = engine.decide(teamA(["developer"]), check);
    first.error!.traceId = "0".repeat(32);
    const second = engine.decide(teamA(["developer"]), check);
    expect(second.cached).toBe(true);
    expect(second.error).not.toBe(first.error);
    expect(second.error?.traceId).toBeUndefined();
  });

  it("gives the same answers cached and uncached (property)", async () => {
    const uncached = await PolicyEngine.create({
      roles: ROLES,
      policies: OPERATOR_POLICIES,
      decisionCacheSize: 0,
    });
    const cachedEngine = await PolicyEngine.create({
      roles: ROLES,
      policies: OPERATOR_POLICIES,
      decisionCacheSize: 16,
    });
    const principals = [
      teamA(["developer"]),
      teamA(["viewer"]),
      who("root", ["admin"], { kind: "unrestricted" }),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...principals),
        fc.constantFrom("t", "shell", "x"),
        fc.constantFrom("team-a", "team-b"),
        (p, id, team) => {
          const check = call(tool(id, { team }));
          const a = uncached.decide(p, check);
          const b = cachedEngine.decide(p, check);
          return (
            a.effect === b.effect &&
            a.policyIds.join() === b.policyIds.join() &&
            a.error?.code === b.error?.code
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("policy slicing", () => {
  it("decides exactly like raw cedar-wasm on the whole set (property)", async () => {
    const schema = loadSchema();
    const policies = `${OPERATOR_POLICIES}
@id("tool.t1.team-b") permit (principal in Outrig::Team::"team-b", action == Outrig::Action::"mcp.tools.call", resource == Outrig::Tool::"t1");
@id("model.gpt.forbid-public") forbid (principal, action in Outrig::Action::"llm.*", resource == Outrig::Model::"gpt") when { principal.teamScope == "public_only" };
@id("module.in") permit (principal, action == Outrig::Action::"module.invoke", resource in Outrig::Module::"m1");
@id("ctx.grpc") forbid (principal, action, resource) when { context has transport && context.transport == "grpc" && principal.authMethod == "dev" };
@id("cond.in") permit (principal, action, resource) when { principal in Outrig::Role::"viewer" && action in Outrig::Action::"mcp.*" && resource in Outrig::Module::"m2" };
@id("cond.scopes") forbid (principal, action == Outrig::Action::"mcp.tools.call", resource) when { principal.scopes.contains("read-only") || (resource has owner && resource.owner == "bob") };
`;
    const engine = await PolicyEngine.create({ roles: ROLES, policies, decisionCacheSize: 0 });
    const compiled = compilePolicySet(policies, ROLES, schema);
    if (!compiled.ok) throw new Error("set should compile");
    const whole = { staticPolicies: Object.fromEntries(compiled.policies.map((p) => [p.id, p.text])) };
    // The oracle: the whole set, with the schema (so Cedar knows the action groups
    // itself) and request validation (so the entities the engine builds are checked too).
    expect(cedar.preparsePolicySet("oracle-whole-set", whole).type).toBe("success");
    expect(cedar.preparseSchema("oracle-schema", schema.text).type).toBe("success");

    const principal = fc
      .record({
        subject: fc.constantFrom("alice", "bob"),
        authMethod: fc.constantFrom("jwt", "api_key", "dev" as const),
        roles: fc.subarray(["viewer", "developer", "admin"]),
        scopes: fc.subarray(["read-only", "tools:call"]),
        teamScope: fc.oneof(
          fc.constant<TeamScope>({ kind: "unrestricted" }),
          fc.constant<TeamScope>({ kind: "public_only" }),
          fc.subarray(["team-a", "team-b", "support"], { minLength: 1 }).map((t) => teamScopeOf(t)),
        ),
      })
      .map((p) => createPrincipal(p));
    const request = fc.constantFrom(...OPERATION_ACTIONS).chain((action) => {
      const types = [...(schema.appliesTo.get(action) ?? [])].map(
        (t) => Object.entries(RESOURCE_TYPES).find(([, v]) => `Outrig::${v}` === t)![0] as ResourceType,
      );
      return fc.record({
        action: fc.constant(action),
        type: fc.constantFrom(...types),
        id: fc.constantFrom("t1", "shell", "gpt", "helpdesk", "m1", "vault"),
        attributes: fc.record(
          {
            team: fc.constantFrom("team-a", "team-b"),
            module: fc.constantFrom("m1", "m2"),
            tags: fc.constantFrom("secret", "x"),
            visibility: fc.constantFrom("public", "team", "private"),
            owner: fc.constantFrom("alice", "bob"),
          },
          { requiredKeys: [] },
        ),
        transport: fc.constantFrom("grpc", "http"),
      });
    });
    fc.assert(
      fc.property(principal, request, (p, r) => {
        const resource: ResourceRef = { type: r.type, id: r.id, attributes: r.attributes };
        const ours = engine.decide(p, { action: r.action, resource, context: { transport: r.transport } });
        const cedarType = cedarTypeOf(r.type);
        const raw = cedar.statefulIsAuthorized({
          principal: { type: "Outrig::User", id: p.subject },
          action: { type: "Outrig::Action", id: r.action },
          resource: { type: cedarType, id: r.id },
          context: cedarContext({ transport: r.transport }).context,
          entities: [principalEntity(p), resourceEntity(cedarType, r.id, normalizeResource(r.attributes)!)],
          preparsedSchemaName: "oracle-schema",
          validateRequest: true,
          preparsedPolicySetId: "oracle-whole-set",
        });
        if (raw.type !== "success") return false;
        const rawIds = [...raw.response.diagnostics.reason].sort();
        if (ours.policyIds.join() === "outrig.visibility") {
          // Decided ahead of Cedar: the same deny, named by the visibility rule alone.
          return raw.response.decision === "deny" && rawIds.includes("outrig.visibility");
        }
        return ours.effect === raw.response.decision && ours.policyIds.join() === rawIds.join();
      }),
      { numRuns: 1000 },
    );
  });
});

describe("atomic reload under concurrent decisions", () => {
  it("decides every request by exactly one set, between every reload, with no errors", async () => {
    const OLD = '@id("set.old") permit (principal, action == Outrig::Action::"mcp.tools.call", resource);';
    const NEW =
      '@id("set.new") forbid (principal, action, resource == Outrig::Tool::"t");\n@id("set.new.other") permit (principal, action, resource);';
    const engine = await PolicyEngine.create({ policies: OLD });
    const p = teamA([]);
    const checkT = call(tool("t"));
    const checkU = call(tool("u"));
    // Epoch parity tells which set was in force: odd = OLD, even = NEW.
    const expectFor = (epoch: number, id: string) =>
      epoch % 2 === 1 ? "allow set.old" : id === "t" ? "deny set.new" : "allow set.new.other";

    const results: { epoch: number; id: string; got: string }[] = [];
    let errors = 0;
    let stop = false;
    const client = async () => {
      while (!stop) {
        for (const [id, check] of [
          ["t", checkT],
          ["u", checkU],
        ] as const) {
          try {
            const batch = engine.decideBatch(p, [check, check]);
            for (const d of batch)
              results.push({ epoch: d.epoch, id, got: `${d.effect} ${d.policyIds.join(",")}` });
            if (batch[0]!.epoch !== batch[1]!.epoch) errors++;
          } catch {
            errors++;
          }
        }
        await new Promise((r) => setImmediate(r));
      }
    };
    const clients = Array.from({ length: 8 }, client);
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 40));
      const result = engine.load(i % 2 === 0 ? NEW : OLD);
      if (!result.ok) errors++;
    }
    stop = true;
    await Promise.all(clients);

    expect(errors).toBe(0);
    expect(engine.epoch).toBe(21);
    const mismatches = results.filter((r) => r.got !== expectFor(r.epoch, r.id));
    expect(mismatches).toEqual([]);
    // The load spans the reloads, not a machine-dependent rate: the clients decided under
    // every set in force before the last reload (epochs 1 to 20; they stop right after it).
    const epochs = [...new Set(results.map((r) => r.epoch))].sort((a, b) => a - b);
    expect(epochs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});
