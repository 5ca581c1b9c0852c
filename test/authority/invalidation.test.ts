import {
  InvalidationBus,
  type InvalidationEvent,
  invalidationToPb,
} from "../../src/authority/invalidation.ts";
import { InvalidationKind } from "../../src/gen/outrig/core/v1/auth_policy_pb.ts";

describe("invalidation bus", () => {
  it("delivers synchronously to every subscriber, isolating a throwing one", () => {
    const errors: unknown[] = [];
    const bus = new InvalidationBus({ onListenerError: (e) => errors.push(e) });
    const seen: InvalidationEvent[] = [];
    bus.subscribe(() => {
      throw new Error("listener bug");
    });
    const unsubscribe = bus.subscribe((e) => seen.push(e));
    bus.publish({ kind: "role_changed", subject: "alice" });
    expect(seen).toHaveLength(1); // delivered before publish returned
    expect(errors).toHaveLength(1);
    unsubscribe();
    bus.publish({ kind: "role_changed", subject: "bob" });
    expect(seen).toHaveLength(1);
    expect(bus.subscriberCount).toBe(1);
  });

  it("streams events to a watcher until it is aborted", async () => {
    const bus = new InvalidationBus();
    const controller = new AbortController();
    const received: string[] = [];
    const consumer = (async () => {
      for await (const event of bus.watch(controller.signal)) {
        received.push(event.kind);
        if (received.length === 2) controller.abort();
      }
    })();
    await new Promise((r) => setImmediate(r));
    bus.publish({ kind: "token_revoked", subject: "a" });
    bus.publish({ kind: "policy_changed", epoch: 7 });
    await consumer;
    expect(received).toEqual(["token_revoked", "policy_changed"]);
    expect(bus.subscriberCount).toBe(0);
  });

  it("replaces a backlog that overflows with one reset", async () => {
    const bus = new InvalidationBus();
    const controller = new AbortController();
    const iterator = bus.watch(controller.signal, 3);
    const first = iterator.next(); // subscribes
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 5; i++) bus.publish({ kind: "role_changed", subject: `s${i}` });
    // Five events into a queue of three: the backlog becomes one reset, then the rest follows.
    const events = [(await first).value!, (await iterator.next()).value!];
    controller.abort();
    await iterator.return(undefined);
    expect(events.map((e) => [e.kind, e.subject])).toEqual([
      ["reset", undefined],
      ["role_changed", "s4"],
    ]);
  });

  it("converts to the wire form", () => {
    const pb = invalidationToPb({ kind: "policy_changed", epoch: 3, timeMs: 1_700_000_000_000 });
    expect(pb.kind).toBe(InvalidationKind.POLICY_CHANGED);
    expect(pb.epoch).toBe(3n);
    expect(invalidationToPb({ kind: "reset", timeMs: 0 }).kind).toBe(InvalidationKind.UNSPECIFIED);
  });
});
