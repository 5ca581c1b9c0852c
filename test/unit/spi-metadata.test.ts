import { isCorrelationId, traceIdOf } from "../../src/spi/metadata.ts";

describe("SPI metadata checks", () => {
  test("a correlation id is 1-128 letters, digits or ._:-", () => {
    expect(["req-42", "a.b_c:d", "x".repeat(128)].every(isCorrelationId)).toBe(true);
    expect([undefined, "", "x".repeat(129), "has spaces", "<script>", "é"].some(isCorrelationId)).toBe(false);
  });

  test("traceIdOf reads the trace id of a well-formed traceparent only", () => {
    expect(traceIdOf("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")).toBe(
      "0af7651916cd43dd8448eb211c80319c",
    );
    expect(traceIdOf(undefined)).toBeUndefined();
    expect(traceIdOf("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01")).toBeUndefined();
    expect(traceIdOf("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331")).toBeUndefined();
  });
});
