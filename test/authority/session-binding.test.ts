import { createPrincipal, type TeamScope } from "../../src/authority/principal.ts";
import { MemorySessionBindingStore } from "../../src/authority/session-binding.ts";

const p = (
  subject: string,
  teamScope: TeamScope,
  authMethod: "jwt" | "api_key" = "jwt",
  roles: string[] = [],
) => createPrincipal({ subject, authMethod, roles, teamScope });

const owner = p("alice", { kind: "teams", teamIds: ["team-a"] }, "jwt", ["developer"]);

describe("session binding", () => {
  let clock: number;
  let store: MemorySessionBindingStore;
  beforeEach(() => {
    clock = 1_000_000;
    store = new MemorySessionBindingStore({ ttlMs: 10_000, now: () => clock });
  });

  const verdict = async (sessionId: string, caller = owner) => {
    const check = await store.validate(sessionId, caller);
    return check.valid ? "valid" : `${check.error.category} ${check.error.code} ${check.error.message}`;
  };

  it("accepts the owner, even with different roles", async () => {
    expect(await store.bind("s1", owner)).toBe(true);
    expect(await verdict("s1")).toBe("valid");
    expect(await verdict("s1", p("alice", { kind: "teams", teamIds: ["team-a"] }, "jwt", ["viewer"]))).toBe(
      "valid",
    );
  });

  it("answers 'not your session' exactly like 'no such session'", async () => {
    await store.bind("s1", owner);
    const missing = await verdict("no-such-session");
    expect(missing).toBe("NOT_FOUND auth.session.not_found No such session.");
    for (const intruder of [
      p("bob", { kind: "teams", teamIds: ["team-a"] }), // same-team peer
      p("alice", { kind: "public_only" }), // same subject, public-only token
      p("alice", { kind: "teams", teamIds: ["team-a", "team-b"] }), // same subject, wider scope
      p("alice", { kind: "teams", teamIds: ["team-a"] }, "api_key"), // same subject, other credential kind
      p("root", { kind: "unrestricted" }), // even an admin
    ]) {
      expect(await verdict("s1", intruder)).toBe(missing);
    }
  });

  it("cannot be taken over by binding the same id again, nor deleted by another caller", async () => {
    await store.bind("s1", owner);
    const bob = p("bob", { kind: "teams", teamIds: ["team-a"] });
    expect(await store.bind("s1", bob)).toBe(false);
    expect(await store.unbind("s1", bob)).toBe(false);
    expect(await verdict("s1")).toBe("valid");
    expect(await store.unbind("s1", owner)).toBe(true);
    expect(await verdict("s1")).toMatch(/^NOT_FOUND/);
  });

  it("expires idle sessions and slides the expiry on use", async () => {
    await store.bind("s1", owner);
    clock += 8_000;
    expect(await verdict("s1")).toBe("valid");
    clock += 8_000; // 16 s after bind, 8 s after last use
    expect(await verdict("s1")).toBe("valid");
    clock += 10_001;
    expect(await verdict("s1")).toMatch(/^NOT_FOUND/);
  });

  it("treats invalid session ids as unknown and bounds its size", async () => {
    expect(await store.bind("bad id with spaces", owner)).toBe(false);
    expect(await verdict("x".repeat(300))).toMatch(/^NOT_FOUND/);
    const small = new MemorySessionBindingStore({ maxSessions: 2 });
    const bound = [];
    for (const id of ["a", "b", "c"]) bound.push(await small.bind(id, owner));
    expect(small.size).toBe(2);
    // Full: the new session is refused, and no live session of someone else is dropped for it.
    expect(bound).toEqual([true, true, false]);
    expect((await small.validate("a", owner)).valid).toBe(true);
    expect((await small.validate("c", owner)).valid).toBe(false);
    expect(await small.bind("a", owner)).toBe(true); // re-binding an existing session needs no room
  });

  it("makes room when full by sweeping expired bindings only", async () => {
    const small = new MemorySessionBindingStore({ ttlMs: 10_000, maxSessions: 2, now: () => clock });
    await small.bind("a", owner);
    clock += 5_000;
    await small.bind("b", owner);
    clock += 6_000; // "a" has expired, "b" has not
    expect(await small.bind("c", owner)).toBe(true);
    expect(small.size).toBe(2);
    expect((await small.validate("b", owner)).valid).toBe(true); // slides "b" to 21 s
    expect(await small.bind("d", owner)).toBe(false);
    clock += 10_001;
    expect(await small.bind("d", owner)).toBe(true);
  });

  it("gives a binding the configured idle TTL, and never a longer one", async () => {
    await store.bind("default", owner);
    await store.bind("short", owner, { ttlMs: 2_000 });
    await store.bind("long", owner, { ttlMs: 3_600_000 });
    expect(store.ttlMs).toBe(10_000);
    clock += 2_001;
    expect(await verdict("short")).toMatch(/^NOT_FOUND/);
    clock += 8_000; // 10,001 ms after binding
    expect(await verdict("default")).toMatch(/^NOT_FOUND/);
    expect(await verdict("long")).toMatch(/^NOT_FOUND/);
  });
});
