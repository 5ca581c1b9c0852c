import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { entityNeeds } from "../../src/authority/cedar/needs.ts";
import { loadSchema } from "../../src/authority/cedar/schema.ts";

const schema = loadSchema();
const isGroup = (id: string) => !schema.appliesTo.has(id);

function needsOf(...texts: string[]) {
  const json = texts.map((t) => {
    const answer = cedar.policyToJson(t);
    if (answer.type !== "success") throw new Error(answer.errors[0]?.message);
    return answer.json;
  });
  const n = entityNeeds(json, isGroup);
  const show = (s: ReadonlySet<string> | "all") => (s === "all" ? "all" : [...s].sort());
  return {
    principalAttrs: show(n.principalAttrs),
    resourceAttrs: show(n.resourceAttrs),
    principalParents: show(n.principalParents),
    resourceParents: n.resourceParents,
    actionParents: n.actionParents,
  };
}

const none = {
  principalAttrs: [],
  resourceAttrs: [],
  principalParents: [],
  resourceParents: false,
  actionParents: false,
};

describe("entity needs (what a slice sends to Cedar)", () => {
  it("a role grant needs the role parents only", () => {
    expect(
      needsOf(
        'permit (principal in Outrig::Role::"dev", action in [Outrig::Action::"mcp.tools.call", Outrig::Action::"llm.chat"], resource);',
      ),
    ).toEqual({ ...none, principalParents: ["Outrig::Role"] });
  });

  it("an action group needs the action's ancestors, in the scope or in a condition", () => {
    expect(needsOf('permit (principal, action in Outrig::Action::"mcp.*", resource);').actionParents).toBe(
      true,
    );
    expect(
      needsOf('permit (principal, action, resource) when { action in Outrig::Action::"llm.*" };')
        .actionParents,
    ).toBe(true);
    expect(needsOf('permit (principal, action == Outrig::Action::"llm.chat", resource);').actionParents).toBe(
      false,
    );
  });

  it("attribute reads are collected per entity, through `has` and nested access", () => {
    expect(
      needsOf(
        'permit (principal, action, resource) when { principal.teams.contains(resource.team) && resource has owner && context.transport == "http" };',
      ),
    ).toEqual({ ...none, principalAttrs: ["teams"], resourceAttrs: ["owner", "team"] });
  });

  it("membership tests in conditions need the right parents", () => {
    expect(
      needsOf(
        'permit (principal, action, resource) when { principal in Outrig::Team::"t" && resource in Outrig::Module::"m" };',
      ),
    ).toEqual({ ...none, principalParents: ["Outrig::Team"], resourceParents: true });
    expect(
      needsOf('permit (principal, action, resource is Outrig::Tool in Outrig::Module::"m");').resourceParents,
    ).toBe(true);
  });

  it("anything it cannot follow widens to everything", () => {
    const widened = needsOf(
      'permit (principal, action, resource) when { (if context has transport then principal else principal).scopes.contains("x") };',
    );
    expect(widened).toEqual({
      principalAttrs: "all",
      resourceAttrs: "all",
      principalParents: "all",
      resourceParents: true,
      actionParents: true,
    });
  });
});
