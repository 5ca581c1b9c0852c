/**
 * Policy reload under load: about 1,000 requests per second flow through the core while
 * an operator swaps the policy set. No request errors, and every decision is the old
 * set's (allow) or the new set's (deny): nothing in between, nothing after the switch
 * decided by the old set.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jwtIssuer } from "../authority/support/jwt.ts";
import { coreFetch, echoModule, startCore, type TestCore } from "../support/harness.ts";

const OLD = `@id("readers.may.invoke")
permit (principal in Outrig::Role::"reader", action == Outrig::Action::"module.invoke", resource);
`;
const NEW = `@id("readers.may.not.invoke")
forbid (principal in Outrig::Role::"reader", action == Outrig::Action::"module.invoke", resource);
`;

let dir: string;
let c: TestCore;
let bearer: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "policies-"));
  writeFileSync(join(dir, "policies.cedar"), OLD);
  const idp = await jwtIssuer({ roles: "roles" });
  c = await startCore({
    authority: {
      jwt: idp.config,
      policies: { paths: [join(dir, "policies.cedar")], watch: false },
    },
    modules: [echoModule({ replicas: 2 })],
  });
  await c.core.waitReady(15_000);
  bearer = await idp.sign({ sub: "reader-1", roles: ["reader"] }, { expiresIn: "10m" });
});

afterAll(async () => {
  await c?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  start: number;
  end: number;
  status: number;
  code?: string;
}

test("reloading policies under ~1,000 req/s: zero errors, each decision from the old or the new set", async () => {
  const outcomes: Outcome[] = [];
  const send = async () => {
    const start = performance.now();
    try {
      const res = await fetch(`${c.url}/v1/modules/echo/invoke/echo`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
        body: "{}",
      });
      const body = (await res.json()) as { error?: { code: string } };
      outcomes.push({
        start,
        end: performance.now(),
        status: res.status,
        ...(body.error ? { code: body.error.code } : {}),
      });
    } catch (error) {
      outcomes.push({ start, end: performance.now(), status: 0, code: String(error) });
    }
  };

  // Pace ~1,000 requests per second: 10 every 10 ms, for 3 seconds.
  const inflight: Promise<void>[] = [];
  const pacing = setInterval(() => {
    for (let i = 0; i < 10; i++) inflight.push(send());
  }, 10);
  await new Promise((r) => setTimeout(r, 1500));
  writeFileSync(join(dir, "policies.cedar"), NEW);
  const reloadStart = performance.now();
  const reload = await coreFetch(`${c.url}/admin/policies/reload`, { method: "POST" });
  const reloadEnd = performance.now();
  expect(reload.status).toBe(200);
  await new Promise((r) => setTimeout(r, 1500));
  clearInterval(pacing);
  await Promise.all(inflight);

  const seconds =
    (Math.max(...outcomes.map((o) => o.end)) - Math.min(...outcomes.map((o) => o.start))) / 1000;
  console.log(
    `policy reload: ${outcomes.length} requests in ${seconds.toFixed(2)} s (${Math.round(outcomes.length / seconds)}/s)`,
  );
  // The driver paces ~1,000/s; a loaded machine achieves less. What matters is that the
  // load ran on both sides of the reload (checked below), not the exact rate.
  expect(outcomes.length).toBeGreaterThan(300);

  // Zero errors: every answer is an allow (old set) or the new set's deny.
  const unexpected = outcomes.filter(
    (o) => !(o.status === 200 || (o.status === 403 && o.code === "policy.decision.denied")),
  );
  expect(unexpected).toEqual([]);
  // Nothing that finished before the reload began was denied, nothing begun after it ended was allowed.
  expect(outcomes.filter((o) => o.end < reloadStart && o.status !== 200)).toEqual([]);
  expect(outcomes.filter((o) => o.start > reloadEnd && o.status !== 403)).toEqual([]);
  // Both sets really decided part of the load.
  expect(outcomes.some((o) => o.status === 200)).toBe(true);
  expect(outcomes.some((o) => o.status === 403)).toBe(true);
});

test("an invalid policy set is refused with Cedar's diagnostics, and the old set stays in force", async () => {
  writeFileSync(
    join(dir, "policies.cedar"),
    `@id("broken") permit (principal, action == Outrig::Action::"no.such.action", resource);`,
  );
  const res = await coreFetch(`${c.url}/admin/policies/reload`, { method: "POST" });
  expect(res.status).toBe(400);
  const body = (await res.json()) as { error: { code: string }; diagnostics: Array<{ message: string }> };
  expect(body.error.code).toMatch(/^policy\./);
  expect(body.diagnostics.length).toBeGreaterThan(0);
  // Still the NEW set from the previous test: readers are denied.
  const still = await fetch(`${c.url}/v1/modules/echo/invoke/echo`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
    body: "{}",
  });
  expect(still.status).toBe(403);
});

test("a policy source that cannot be read is FAILED_PRECONDITION (412), and the set in force stays", async () => {
  renameSync(join(dir, "policies.cedar"), join(dir, "moved.cedar"));
  try {
    const res = await coreFetch(`${c.url}/admin/policies/reload`, {
      method: "POST",
      headers: { "x-correlation-id": "reload-unreadable" },
    });
    expect(res.status).toBe(412);
    const body = (await res.json()) as {
      error: { code: string; correlationId: string };
      diagnostics: unknown[];
    };
    expect(body.error).toMatchObject({
      code: "policy.source.unreadable",
      correlationId: "reload-unreadable",
    });
    expect(body.diagnostics).toEqual([]);
    const still = await fetch(`${c.url}/v1/modules/echo/invoke/echo`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
      body: "{}",
    });
    expect(still.status).toBe(403);
  } finally {
    renameSync(join(dir, "moved.cedar"), join(dir, "policies.cedar"));
  }
});
