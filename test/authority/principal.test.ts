import { fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import {
  AUTH_METHODS,
  createPrincipal,
  principalDigest,
  principalFromPb,
  principalToPb,
  type TeamScope,
  teamScopeFromPb,
} from "../../src/authority/principal.ts";
import { PrincipalSchema } from "../../src/gen/outrig/core/v1/principal_pb.ts";

const id = fc.stringMatching(/^[a-z0-9:@._-]{1,20}$/);
const scope: fc.Arbitrary<TeamScope> = fc.oneof(
  fc.constant({ kind: "unrestricted" } as const),
  fc.constant({ kind: "public_only" } as const),
  fc
    .array(id, { minLength: 1, maxLength: 5 })
    .map((ids) => ({ kind: "teams", teamIds: ids as [string, ...string[]] }) as const),
);
const principal = fc
  .record({
    subject: id,
    authMethod: fc.constantFrom(...AUTH_METHODS),
    roles: fc.array(id, { maxLength: 5 }),
    scopes: fc.array(id, { maxLength: 5 }),
    teamScope: scope,
  })
  .map(createPrincipal);

describe("principal", () => {
  it("converts to the proto Principal and back without loss (property)", () => {
    fc.assert(
      fc.property(principal, (p) => {
        const wire = toBinary(PrincipalSchema, principalToPb(p));
        const back = principalFromPb(fromBinary(PrincipalSchema, wire));
        expect(back).toEqual(p);
        expect(principalDigest(back)).toBe(principalDigest(p));
      }),
    );
  });

  it("reads an unset scope and an empty team list as public-only, never as 'all teams'", () => {
    expect(teamScopeFromPb(undefined)).toEqual({ kind: "public_only" });
    const pb = principalToPb(
      createPrincipal({ subject: "a", authMethod: "jwt", teamScope: { kind: "public_only" } }),
    );
    pb.teamScope = undefined;
    expect(principalFromPb(pb).teamScope).toEqual({ kind: "public_only" });
    pb.teamScope = principalToPb(
      createPrincipal({ subject: "a", authMethod: "jwt", teamScope: { kind: "teams", teamIds: ["x"] } }),
    ).teamScope;
    if (pb.teamScope?.scope.case === "teams") pb.teamScope.scope.value.teamIds = [];
    expect(principalFromPb(pb).teamScope).toEqual({ kind: "public_only" });
  });

  it("is canonical: order and duplicates do not change it or its digest", () => {
    const a = createPrincipal({
      subject: "s",
      authMethod: "jwt",
      roles: ["b", "a", "a"],
      teamScope: { kind: "teams", teamIds: ["y", "x"] },
    });
    const b = createPrincipal({
      subject: "s",
      authMethod: "jwt",
      roles: ["a", "b"],
      teamScope: { kind: "teams", teamIds: ["x", "y"] },
    });
    expect(a).toEqual(b);
    expect(principalDigest(a)).toBe(principalDigest(b));
    expect(Object.isFrozen(a)).toBe(true);
    expect(
      createPrincipal({
        subject: "s",
        authMethod: "jwt",
        teamScope: { kind: "teams", teamIds: [] as unknown as [string] },
      }).teamScope,
    ).toEqual({
      kind: "public_only",
    });
  });

  it("refuses invalid wire principals", () => {
    const pb = principalToPb(
      createPrincipal({ subject: "a", authMethod: "jwt", teamScope: { kind: "public_only" } }),
    );
    for (const mutate of [
      () => (pb.authMethod = "password"),
      () => (pb.subject = ""),
      () => (pb.roles = ["ok", "bad\nrole"]),
    ]) {
      const copy = fromBinary(PrincipalSchema, toBinary(PrincipalSchema, pb));
      mutate();
      expect(() => principalFromPb(pb)).toThrow(expect.objectContaining({ code: "auth.principal.invalid" }));
      Object.assign(pb, copy);
    }
  });
});
