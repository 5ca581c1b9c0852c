import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  InvalidationKind,
  type WatchInvalidationsResponse,
  WatchInvalidationsResponseSchema,
} from "../gen/outrig/core/v1/auth_policy_pb.ts";

/** What changed. `reset` means "drop everything cached" (sent after a subscriber overflowed). */
export type InvalidationKindName =
  | "token_revoked"
  | "role_changed"
  | "policy_changed"
  | "catalog_changed"
  | "reset";

export interface InvalidationEvent {
  readonly kind: InvalidationKindName;
  /** Affected subject; absent means every subject. */
  readonly subject?: string;
  /** Policy epoch after the change (policy changes), else the current epoch when known. */
  readonly epoch?: number;
  readonly timeMs: number;
}

export type InvalidationListener = (event: InvalidationEvent) => void;

/**
 * In-process publish/subscribe for invalidations. Delivery is synchronous, so a
 * listener sees an event before `publish` returns: in-process invalidation latency
 * is the time of the publish call. A throwing listener cannot stop delivery to others.
 */
export class InvalidationBus {
  readonly #listeners = new Set<InvalidationListener>();
  readonly #onListenerError: ((error: unknown) => void) | undefined;

  constructor(options: { onListenerError?: (error: unknown) => void } = {}) {
    this.#onListenerError = options.onListenerError;
  }

  get subscriberCount(): number {
    return this.#listeners.size;
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: InvalidationListener): () => void {
    this.#listeners.add(listener);
    return () => this.unsubscribe(listener);
  }

  unsubscribe(listener: InvalidationListener): void {
    this.#listeners.delete(listener);
  }

  publish(event: Omit<InvalidationEvent, "timeMs"> & { timeMs?: number }): void {
    const full: InvalidationEvent = Object.freeze({ ...event, timeMs: event.timeMs ?? Date.now() });
    for (const listener of [...this.#listeners]) {
      try {
        listener(full);
      } catch (error) {
        this.#onListenerError?.(error);
      }
    }
  }

  /**
   * Events as an async iterator, for a server stream (`WatchInvalidations`). The
   * queue is bounded: a subscriber that falls behind gets one `reset` in place of
   * the backlog, telling it to drop every cached decision.
   */
  async *watch(signal?: AbortSignal, maxQueued = 1024): AsyncGenerator<InvalidationEvent> {
    const queue: InvalidationEvent[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = this.subscribe((event) => {
      if (queue.length >= maxQueued) {
        queue.length = 0;
        queue.push({ kind: "reset", timeMs: event.timeMs });
      } else {
        queue.push(event);
      }
      wake?.();
    });
    const onAbort = () => wake?.();
    signal?.addEventListener("abort", onAbort);
    try {
      while (!signal?.aborted) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      unsubscribe();
      signal?.removeEventListener("abort", onAbort);
    }
  }
}

const KIND_TO_PB: Record<InvalidationKindName, InvalidationKind> = {
  token_revoked: InvalidationKind.TOKEN_REVOKED,
  role_changed: InvalidationKind.ROLE_CHANGED,
  policy_changed: InvalidationKind.POLICY_CHANGED,
  catalog_changed: InvalidationKind.CATALOG_CHANGED,
  reset: InvalidationKind.UNSPECIFIED,
};

export function invalidationToPb(event: InvalidationEvent): WatchInvalidationsResponse {
  return create(WatchInvalidationsResponseSchema, {
    kind: KIND_TO_PB[event.kind],
    subject: event.subject ?? "",
    epoch: BigInt(event.epoch ?? 0),
    time: timestampFromMs(event.timeMs),
  });
}
