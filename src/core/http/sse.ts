import { type HttpResponse, type ResponseWriter, writer } from "./types.ts";

/** Comment line sent while a stream is quiet, so idle-timeout proxies keep it open. */
const HEARTBEAT_MS = 15_000;

/**
 * Server-Sent Events on a response whose head is already written. `event()` resolves once
 * the frame is accepted by the transport: when `write` reports a full buffer it waits for
 * `drain` (or the client leaving), so a slow client slows the producer instead of growing memory.
 */
export class SseWriter {
  readonly #res: HttpResponse;
  readonly #out: ResponseWriter;
  readonly #signal: AbortSignal;
  readonly #heartbeat: NodeJS.Timeout;
  #waiting = false;

  constructor(res: HttpResponse, signal: AbortSignal) {
    this.#res = res;
    this.#out = writer(res);
    this.#signal = signal;
    this.#heartbeat = setInterval(() => {
      if (!this.#waiting && this.open) this.#out.write(":\n\n");
    }, HEARTBEAT_MS).unref();
  }

  get open(): boolean {
    return !this.#signal.aborted && !this.#res.writableEnded;
  }

  /** One event; `data` is JSON-encoded on a single `data:` line (JSON.stringify never emits a raw newline). */
  event(name: string, data: unknown): Promise<void> {
    return this.eventJson(name, JSON.stringify(data));
  }

  /** One event whose data is JSON text already free of CR and LF. */
  async eventJson(name: string, json: string): Promise<void> {
    if (!this.open) return;
    if (this.#out.write(`event: ${name}\ndata: ${json}\n\n`)) return;
    this.#waiting = true;
    try {
      await drained(this.#res, this.#signal);
    } finally {
      this.#waiting = false;
    }
  }

  end(): void {
    clearInterval(this.#heartbeat);
    if (this.open) this.#out.end();
  }
}

function drained(res: HttpResponse, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
    signal.addEventListener("abort", done, { once: true });
  });
}
