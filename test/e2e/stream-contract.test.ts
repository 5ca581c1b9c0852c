/**
 * The core holds any module, SDK or not, to the streaming contract: `started` first,
 * chunks numbered 1, 2, 3…, exactly one terminal event, nothing after it.
 */
import type { StreamEvent } from "../../src/core/types.ts";
import { rawModule, startCore, type TestCore } from "../support/harness.ts";

let c: TestCore | undefined;
beforeAll(async () => {
  c = await startCore({ modules: [rawModule("raw", "healthy")] });
  await c.core.waitReady(10_000);
});
afterAll(async () => {
  await c?.stop();
});

async function collect(operation: string): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of c!.core.router.invokeStream({
    moduleId: "raw",
    operation,
    payload: new Uint8Array(),
    contentType: "application/json",
  })) {
    events.push(event);
  }
  return events;
}

const shape = (events: StreamEvent[]) =>
  events.map((e) =>
    e.type === "chunk" ? `chunk ${e.sequence}` : e.type === "error" ? `error ${e.error.code}` : e.type,
  );

test("a well-behaved raw stream passes through unchanged", async () => {
  expect(shape(await collect("stream.ok"))).toEqual(["started", "chunk 1", "chunk 2", "end"]);
});

test.each([
  ["stream.double-start", ["started", "chunk 1", "error spi.stream.protocol_violation"]],
  ["stream.gap", ["started", "chunk 1", "error spi.stream.protocol_violation"]],
  ["stream.chunk-first", ["error spi.stream.protocol_violation"]],
  ["stream.no-terminal", ["started", "chunk 1", "chunk 2", "error spi.stream.protocol_violation"]],
  ["stream.after-end", ["started", "chunk 1", "end"]],
])("%s ends with exactly one terminal event and nothing after it", async (operation, expected) => {
  const events = await collect(operation);
  expect(shape(events)).toEqual(expected);
  const terminals = events.filter((e) => e.type === "end" || e.type === "error");
  expect(terminals).toHaveLength(1);
  expect(events.at(-1)).toBe(terminals[0]);
});

test("a contract violation is logged with what went wrong, and the client sees no internals", async () => {
  const events = await collect("stream.gap");
  const error = events.at(-1);
  expect(error?.type).toBe("error");
  if (error?.type === "error") {
    expect(error.error.category).toBe("INTERNAL");
    expect(error.error.message).toBe("The module broke the streaming contract.");
  }
  expect(
    c!
      .entries()
      .some((e) => e.msg === "stream contract broken" && e.violation === "chunk sequence 3, expected 2"),
  ).toBe(true);
});
