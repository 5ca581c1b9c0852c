/**
 * The authority's hot path: JWT verification plus a Cedar decision with a 200-policy
 * set, cold (every cache missed) and warm (verified-token and decision caches hit),
 * measured against raw cedar-wasm `isAuthorized` in the same run, both re-parsing the
 * policies on each call and with a pre-parsed set. Prints JSON lines.
 *
 *   npm run build && node dist/bench/authz/run.js [--quick]
 */
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { Authenticator } from "../../src/authority/authenticator.ts";
import {
  cedarContext,
  cedarTypeOf,
  normalizeResource,
  principalEntity,
  resourceEntity,
} from "../../src/authority/cedar/entities.ts";
import { type PermissionCheck, PolicyEngine } from "../../src/authority/cedar/policy-engine.ts";
import { compilePolicySet } from "../../src/authority/cedar/policy-set.ts";
import { ContextRefService } from "../../src/authority/context-ref.ts";
import { JwtAuthenticator } from "../../src/authority/jwt.ts";
import type { Principal } from "../../src/authority/principal.ts";
import { latency, report, type Summary, throughput } from "../lib/stats.ts";
import { BENCH_ROLES, benchPolicies } from "./policy-set.ts";

const quick = process.argv.includes("--quick");
const ISSUER = "https://idp.bench";
const AUDIENCE = "outrig-bench";

/** Latency of `fn` after a warm-up (JIT, wasm), printed as a line of its own. */
async function measure(name: string, n: number, fn: (i: number) => unknown): Promise<Summary> {
  const stats = await latency(fn, n, Math.min(200, n));
  report("authz", { kind: "latency", name, ...stats });
  return stats;
}

/** Calls per second, one caller on one core, printed as a line of its own. */
async function opsPerSecond(name: string, ms: number, fn: () => unknown): Promise<number> {
  const perSecond = await throughput(fn, 1, ms);
  report("authz", { kind: "throughput", name, ops_per_s: perSecond, one_core: true });
  return perSecond;
}

async function main() {
  const iterations = quick ? 500 : 5000;
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const jwtConfig = {
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ["RS256" as const],
    keys: [{ kid: "bench", pem: await exportSPKI(publicKey) }],
  };
  const coldJwt = new Authenticator({ jwt: await JwtAuthenticator.create({ ...jwtConfig, cache: false }) });
  const warmJwt = new Authenticator({ jwt: await JwtAuthenticator.create(jwtConfig) });
  const sign = (jti: string) =>
    new SignJWT({ roles: ["developer"], teams: ["team-7", "team-3"], scope: "routes:1 tools:call", jti })
      .setProtectedHeader({ alg: "RS256", kid: "bench" })
      .setSubject("alice@example.com")
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(privateKey);
  const tokens = await Promise.all(Array.from({ length: 256 }, (_, i) => sign(`jti-${i}`)));
  const headersFor = (i: number) => ({ authorization: `Bearer ${tokens[i % tokens.length]}` });

  const policies = benchPolicies(200);
  const coldEngine = await PolicyEngine.create({ roles: BENCH_ROLES, policies, decisionCacheSize: 0 });
  const warmEngine = await PolicyEngine.create({ roles: BENCH_ROLES, policies });
  report("authz", {
    kind: "setup",
    policies: coldEngine.policyCount,
    node: process.version,
    cedar: cedar.getCedarVersion(),
  });

  const first = await warmJwt.authenticate(headersFor(0));
  if (!first.ok) throw new Error("bench token refused");
  const principal: Principal = first.principal;
  const toolCheck: PermissionCheck = {
    action: "mcp.tools.call",
    resource: { type: "tool", id: "tool-7", attributes: { team: "team-7", module: "mcp-github" } },
    context: { transport: "http" },
  };
  // The largest slice in this set: 28 type-wide forbids on resource reads, plus roles and the built-in.
  const readCheck: PermissionCheck = {
    action: "mcp.resources.read",
    resource: { type: "resource", id: "doc-1", attributes: { team: "team-3", tags: "restricted-5,public" } },
    context: { transport: "http" },
  };
  const expected = warmEngine.decide(principal, toolCheck);
  if (expected.effect !== "allow") throw new Error("bench request should be allowed");

  // Components.
  const jwtCold = await measure("jwt.verify.cold (RS256)", iterations, (i) =>
    coldJwt.authenticate(headersFor(i)),
  );
  const jwtWarm = await measure("jwt.verify.warm (cached)", iterations, (i) =>
    warmJwt.authenticate(headersFor(i)),
  );
  const decideCold = await measure("decide.cold (tools.call slice)", iterations, () =>
    coldEngine.decide(principal, toolCheck),
  );
  const decideColdBig = await measure("decide.cold (largest slice)", iterations, () =>
    coldEngine.decide(principal, readCheck),
  );
  const decideWarm = await measure("decide.warm", iterations, () => warmEngine.decide(principal, toolCheck));

  // End to end: what one request costs the core.
  const cold = await measure("jwt+decide.cold", iterations, async (i) => {
    const r = await coldJwt.authenticate(headersFor(i));
    if (r.ok) coldEngine.decide(r.principal, toolCheck);
  });
  const coldBig = await measure("jwt+decide.cold (largest slice)", iterations, async (i) => {
    const r = await coldJwt.authenticate(headersFor(i));
    if (r.ok) coldEngine.decide(r.principal, readCheck);
  });
  const warmHeaders = headersFor(0);
  // A known caller on a request not decided before: verified-token cache hit, decision miss.
  const decisionMiss = await measure("jwt(cached)+decide.cold", iterations, async () => {
    const r = await warmJwt.authenticate(warmHeaders);
    if (r.ok) coldEngine.decide(r.principal, toolCheck);
  });
  const warm = await measure("jwt+decide.warm", iterations, async () => {
    const r = await warmJwt.authenticate(warmHeaders);
    if (r.ok) warmEngine.decide(r.principal, toolCheck);
  });

  // Raw cedar-wasm on the same request and the whole 200-policy set.
  const schema = warmEngine.schema;
  const compiled = compilePolicySet(policies, BENCH_ROLES, schema);
  if (!compiled.ok) throw new Error("bench set should compile");
  const wholeText = compiled.policies.map((p) => p.text).join("\n");
  cedar.preparsePolicySet("bench-whole", {
    staticPolicies: Object.fromEntries(compiled.policies.map((p) => [p.id, p.text])),
  });
  const cedarType = cedarTypeOf(toolCheck.resource.type);
  const entities = [
    principalEntity(principal),
    resourceEntity(cedarType, toolCheck.resource.id, normalizeResource(toolCheck.resource.attributes)!),
    {
      uid: { type: "Outrig::Action", id: "mcp.tools.call" },
      attrs: {},
      parents: [{ type: "Outrig::Action", id: "mcp.*" }],
    },
  ];
  const request = {
    principal: { type: "Outrig::User", id: principal.subject },
    action: { type: "Outrig::Action", id: toolCheck.action },
    resource: { type: cedarType, id: toolCheck.resource.id },
    context: cedarContext(toolCheck.context).context,
    entities,
  };
  const rawReparse = await measure("raw.isAuthorized (re-parse 200)", quick ? 50 : 300, () =>
    cedar.isAuthorized({ ...request, policies: { staticPolicies: wholeText } }),
  );
  const rawPreparsed = await measure("raw.statefulIsAuthorized (pre-parsed 200)", iterations, () =>
    cedar.statefulIsAuthorized({ ...request, preparsedPolicySetId: "bench-whole" }),
  );
  const rawAnswer = cedar.statefulIsAuthorized({ ...request, preparsedPolicySetId: "bench-whole" });
  if (rawAnswer.type !== "success" || rawAnswer.response.decision !== "allow")
    throw new Error("raw and engine disagree");

  // Context references (the module → core hop).
  const refs = new ContextRefService({ cacheEntries: 0 });
  const refsCached = new ContextRefService();
  const issued = Array.from(
    { length: 256 },
    (_, i) => refs.issue(principal, { audience: "mcp-github", sessionId: `s-${i}` }).token,
  );
  const refSign = await measure("context_ref.sign", iterations, (i) =>
    refs.issue(principal, { audience: "mcp-github", sessionId: `s-${i}` }),
  );
  const refVerify = await measure("context_ref.verify.cold", iterations, (i) =>
    refs.verifyContextRef(issued[i % issued.length]!, { audience: "mcp-github" }),
  );
  const oneRef = refsCached.issue(principal, { audience: "mcp-github" }).token;
  const refVerifyWarm = await measure("context_ref.verify.warm", iterations, () =>
    refsCached.verifyContextRef(oneRef, { audience: "mcp-github" }),
  );

  const warmPerSecond = await opsPerSecond("jwt+decide.warm", quick ? 500 : 2000, async () => {
    const r = await warmJwt.authenticate(warmHeaders);
    if (r.ok) warmEngine.decide(r.principal, toolCheck);
  });
  const decisionsPerSecond = await opsPerSecond("decide.warm", quick ? 500 : 2000, () =>
    warmEngine.decide(principal, toolCheck),
  );

  const ratio = (a: Summary, b: Summary) => Math.round((a.p50_us / b.p50_us) * 1000) / 1000;
  report("authz", {
    kind: "summary",
    warm_p50_us: warm.p50_us,
    cold_p50_us: cold.p50_us,
    cold_largest_slice_p50_us: coldBig.p50_us,
    cached_token_cold_decision_p50_us: decisionMiss.p50_us,
    warm_ops_per_s: warmPerSecond,
    warm_decisions_per_s: decisionsPerSecond,
    raw_reparse_p50_us: rawReparse.p50_us,
    raw_preparsed_p50_us: rawPreparsed.p50_us,
    ratio_cold_to_raw_preparsed: ratio(cold, rawPreparsed),
    ratio_cold_to_raw_reparse: ratio(cold, rawReparse),
    ratio_warm_to_raw_preparsed: ratio(warm, rawPreparsed),
    ratio_decide_cold_to_raw_preparsed: ratio(decideCold, rawPreparsed),
    components_p50_us: {
      jwt_cold: jwtCold.p50_us,
      jwt_warm: jwtWarm.p50_us,
      decide_cold: decideCold.p50_us,
      decide_cold_largest_slice: decideColdBig.p50_us,
      decide_warm: decideWarm.p50_us,
      context_ref_sign: refSign.p50_us,
      context_ref_verify_cold: refVerify.p50_us,
      context_ref_verify_warm: refVerifyWarm.p50_us,
    },
    targets: {
      warm_p50_le_20us: warm.p50_us <= 20,
      cold_p50_le_250us: cold.p50_us <= 250,
      warm_ge_20000_per_s: warmPerSecond >= 20_000,
    },
  });
}

await main();
