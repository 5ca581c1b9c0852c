import { status as GrpcStatus, Metadata } from "@grpc/grpc-js";
import fc from "fast-check";
import { toGrpcStatus } from "../../src/errors/grpc.ts";
import {
  CATEGORIES,
  type Category,
  fromGrpcError,
  fromHttpError,
  fromJsonRpcError,
  fromOpenAIError,
  OutrigError,
  registeredCodes,
  sanitizeMessage,
  toHttpError,
  toJsonRpcError,
  toOpenAIError,
  toOutrigError,
} from "../../src/errors/index.ts";

const category = fc.constantFrom(...CATEGORIES);
const code = fc
  .tuple(
    fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/),
    fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,8}$/),
    fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,8}$/),
  )
  .map((parts) => parts.join("."));
const error = fc
  .record({
    category,
    code,
    message: fc.string({ maxLength: 80 }),
    retryable: fc.boolean(),
    retryAfterMs: fc.option(fc.integer({ min: 1, max: 600_000 }), { nil: undefined }),
    origin: fc.constantFrom("module", "core", "plugin", "upstream" as const),
  })
  .map(
    (r) =>
      new OutrigError(r.category, r.code, r.message, {
        retryable: r.retryable,
        retryAfterMs: r.retryAfterMs,
        origin: r.origin,
      }),
  );

/** Every mapping, as an encode/decode pair through its wire representation. */
const mappings: Record<string, (e: OutrigError) => OutrigError> = {
  grpc: (e) => {
    const status = toGrpcStatus(e);
    return fromGrpcError({ code: status.code, details: status.details, metadata: status.metadata });
  },
  http: (e) => {
    const r = toHttpError(e);
    return fromHttpError(r.status, JSON.parse(JSON.stringify(r.body)), r.headers["retry-after"]);
  },
  jsonrpc: (e) => fromJsonRpcError(JSON.parse(JSON.stringify(toJsonRpcError(e)))),
  openai: (e) => {
    const r = toOpenAIError(e);
    return fromOpenAIError(r.status, JSON.parse(JSON.stringify(r.body)));
  },
};

describe("error model mappings", () => {
  for (const [name, roundTrip] of Object.entries(mappings)) {
    test(`every category round-trips through ${name}`, () => {
      fc.assert(
        fc.property(error, (e) => {
          const back = roundTrip(e);
          expect(back.category).toBe(e.category);
          expect(back.code).toBe(e.code);
          expect(back.retryable).toBe(e.retryable);
          expect(back.origin).toBe(e.origin);
          expect(back.message).toBe(e.message);
        }),
        { numRuns: 300 },
      );
    });
  }

  test("the category survives even when a peer sends no envelope", () => {
    for (const c of CATEGORIES) {
      const e = new OutrigError(c, "test.bare.peer");
      const grpc = toGrpcStatus(e);
      expect(fromGrpcError({ code: grpc.code, details: "x", metadata: new Metadata() }).category).toBe(c);
      expect(fromHttpError(toHttpError(e).status, { not: "an envelope" }).category).toBe(c);
      expect(fromJsonRpcError({ code: toJsonRpcError(e).code, message: "x" }).category).toBe(c);
      expect(fromOpenAIError(toOpenAIError(e).status, {}).category).toBe(c);
    }
  });

  const secret = "s3cr3t-internal-detail";
  const hostile = fc.oneof(
    fc.constant(`TypeError: cannot read ${secret}\n    at Object.<anonymous> (/srv/app/src/handler.ts:10:5)`),
    fc.constant(`failed\n    at run (/home/x/node_modules/lib/index.js:1:1)\n${secret}`),
    fc.string().map((s) => `Error: ${secret} ${s}`),
    fc.string().map((s) => `${s}\n    at foo (/a/b/c.js:1:2) ${secret}`),
  );

  test("no mapping leaks an internal message, a stack or a cause", () => {
    fc.assert(
      fc.property(hostile, category, (text, c) => {
        const cause = new Error(`${secret} cause`);
        const candidates = [
          toOutrigError(new Error(text)),
          toOutrigError(cause),
          toOutrigError({ weird: secret }),
          new OutrigError(c, "test.leak.check", text, { cause }),
        ];
        for (const e of candidates) {
          for (const wire of [
            JSON.stringify(toHttpError(e).body),
            JSON.stringify(toJsonRpcError(e)),
            JSON.stringify(toOpenAIError(e).body),
            toGrpcStatus(e).details ?? "",
            Buffer.from(toGrpcStatus(e).metadata?.get("grpc-status-details-bin")[0] as Buffer).toString(
              "latin1",
            ),
          ]) {
            expect(wire).not.toContain(secret);
            expect(wire).not.toMatch(/\bat .+\(.*:\d+/);
            expect(wire).not.toContain("/srv/app");
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  test("ordinary prose that mentions 'at … (…)' is not mistaken for a stack frame", () => {
    const text = "The core refused this module at start (its manifest signature did not verify).";
    expect(sanitizeMessage(text, "fallback")).toBe(text);
    expect(sanitizeMessage("oops at handler (/srv/app.js:10:2)", "fallback")).toBe("fallback");
  });

  test("unknown thrown values become INTERNAL with a generic message", () => {
    const e = toOutrigError(new RangeError("index 7 out of range in /srv/x.ts"));
    expect(e.category).toBe("INTERNAL");
    expect(e.message).toBe("Internal error.");
  });

  test("HTTP status overrides come from the code registry", () => {
    expect(toHttpError(OutrigError.fromCode("core.invoke.deadline_exceeded")).status).toBe(504);
    expect(toHttpError(OutrigError.fromCode("core.request.body_too_large")).status).toBe(413);
    const limited = new OutrigError("RATE_LIMITED", "core.rate.limited", "slow down", { retryAfterMs: 1500 });
    expect(toHttpError(limited).headers["retry-after"]).toBe("2");
  });

  test("bare gRPC deadline and cancel statuses map to registered codes", () => {
    expect(fromGrpcError({ code: GrpcStatus.DEADLINE_EXCEEDED }).code).toBe("spi.invoke.deadline_exceeded");
    expect(fromGrpcError({ code: GrpcStatus.CANCELLED }).code).toBe("spi.invoke.cancelled");
    expect(fromGrpcError({ code: GrpcStatus.UNAVAILABLE }).retryable).toBe(true);
  });

  test("a malformed status detail is ignored, not trusted", () => {
    const md = new Metadata();
    md.set("grpc-status-details-bin", Buffer.from([0xff, 0x01, 0x02]));
    const e = fromGrpcError({ code: GrpcStatus.PERMISSION_DENIED, details: "raw peer text", metadata: md });
    expect(e.category).toBe("PERMISSION_DENIED");
    expect(e.message).not.toContain("raw peer text");
  });

  test("registered codes are well-formed and unique", () => {
    const codes = registeredCodes();
    expect(codes.length).toBeGreaterThan(20);
    for (const c of codes) {
      expect(c.code).toMatch(/^[a-z][a-z0-9_]*(\.[a-z0-9][a-z0-9_-]*){2,}$/);
      expect(CATEGORIES).toContain(c.category satisfies Category);
      expect(sanitizeMessage(c.message, "")).toBe(c.message);
    }
  });
});
