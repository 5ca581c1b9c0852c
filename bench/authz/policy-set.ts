/**
 * A 200-policy set shaped like a real deployment: three roles (generated policies),
 * the built-in visibility rule, and operator policies spread over every protocol:
 * per-tool grants pinned to one resource, per-model forbids, type-wide rules with
 * conditions on context and principal attributes.
 */
export const BENCH_ROLES = {
  viewer: ["mcp.tools.list", "mcp.resources.list", "mcp.prompts.list", "llm.models.list"],
  developer: ["mcp.*", "llm.*", "a2a.*"],
  admin: ["*"],
};

/** Operator policies; with the 3 role policies and the built-in rule the set has `total` policies. */
export function benchPolicies(total = 200): string {
  const out: string[] = [];
  const operator = total - 4;
  for (let i = 0; out.length < operator; i++) {
    switch (i % 7) {
      case 0:
        out.push(
          `@id("tool.${i}.grant") permit (principal in Outrig::Team::"team-${i % 13}", action == Outrig::Action::"mcp.tools.call", resource == Outrig::Tool::"tool-${i}") when { context has transport && context.transport != "grpc" };`,
        );
        break;
      case 1:
        out.push(
          `@id("tool.${i}.shell") forbid (principal, action == Outrig::Action::"mcp.tools.call", resource == Outrig::Tool::"shell-${i}") unless { principal in Outrig::Role::"admin" };`,
        );
        break;
      case 2:
        out.push(
          `@id("model.${i}.public") forbid (principal, action in Outrig::Action::"llm.*", resource == Outrig::Model::"model-${i}") when { principal.teamScope == "public_only" };`,
        );
        break;
      case 3:
        out.push(
          `@id("agent.${i}.team") permit (principal in Outrig::Team::"team-${i % 13}", action in Outrig::Action::"a2a.*", resource == Outrig::Agent::"agent-${i}");`,
        );
        break;
      case 4:
        out.push(
          `@id("route.${i}.scope") permit (principal, action in [Outrig::Action::"rest.invoke", Outrig::Action::"grpc.invoke"], resource == Outrig::Route::"route-${i}") when { principal.scopes.contains("routes:${i % 5}") };`,
        );
        break;
      case 5:
        out.push(
          `@id("resource.${i}.tags") forbid (principal, action == Outrig::Action::"mcp.resources.read", resource is Outrig::Resource) when { resource has tags && resource.tags.contains("restricted-${i}") && !(principal in Outrig::Role::"admin") };`,
        );
        break;
      default:
        out.push(
          `@id("module.${i}.server") permit (principal in Outrig::Role::"developer", action == Outrig::Action::"module.invoke", resource in Outrig::Module::"module-${i}") when { context has serverId && context.serverId == "server-${i % 11}" };`,
        );
    }
  }
  return out.join("\n");
}
