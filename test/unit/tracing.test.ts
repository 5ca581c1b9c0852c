import { NO_SPAN, SpanKind, Tracing } from "../../src/telemetry/tracing.ts";

const PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

describe("Tracing", () => {
  test("disabled tracing is the shared no-op span: no id, no headers", () => {
    const tracing = Tracing.disabled();
    expect(tracing.enabled).toBe(false);
    const span = tracing.startSpan("x", {
      kind: SpanKind.SERVER,
      parent: tracing.extract({ traceparent: PARENT }),
    });
    expect(span).toBe(NO_SPAN);
    expect(span.traceId).toBeUndefined();
    expect(span.headers()).toEqual({});
    span.end({ code: "c", category: "INTERNAL" });
  });

  test("without an endpoint, ids are still generated and the parent's trace is carried on", async () => {
    const tracing = await Tracing.create({ serviceName: "test" });
    try {
      expect(tracing.enabled).toBe(true);
      const root = tracing.startSpan("root", { kind: SpanKind.SERVER });
      expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
      const child = tracing.startSpan("child", {
        kind: SpanKind.CLIENT,
        parent: tracing.extract({ traceparent: PARENT }),
      });
      expect(child.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
      const headers = child.headers();
      expect(headers.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-0[01]$/);
      headers.extra = "callers add their own headers";
      expect(child.headers().extra).toBeUndefined();
      root.end();
      child.end();
    } finally {
      await tracing.shutdown();
    }
  });
});
