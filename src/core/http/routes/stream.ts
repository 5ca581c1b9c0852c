import { OutrigError, toOutrigError } from "../../../errors/index.ts";
import type { StreamEvent } from "../../types.ts";
import { essenceOf, isJsonEssence } from "../request-headers.ts";
import { safeHeaderValue } from "../respond.ts";
import type { Router } from "../router.ts";
import { SseWriter } from "../sse.ts";
import { type HttpServerDeps, type RequestContext, writer } from "../types.ts";
import { readInvocation } from "./invocation.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * `POST /v1/modules/:module/stream/:operation` as Server-Sent Events:
 * `started` `{contentType, instanceId, correlationId, traceId}`, then `chunk`
 * `{sequence, data}` (JSON stream content) or `{sequence, data_base64}` (anything else),
 * then exactly one `end` `{cancelled, usage}` or `error` (the envelope). A failure before
 * `started` is an ordinary HTTP error response.
 */
export function registerStreamRoute(
  router: Router,
  deps: Pick<HttpServerDeps, "invoker" | "maxBodyBytes" | "logger" | "gate">,
): void {
  router.add("POST", "/v1/modules/:module/stream/:operation", async (ctx) => {
    const request = await readInvocation(ctx, deps.maxBodyBytes, deps.gate);
    const events = deps.invoker.invokeStream(request)[Symbol.asyncIterator]();
    const first = await events.next();
    if (first.done || first.value.type !== "started") {
      release(events);
      if (!first.done && first.value.type === "error") throw first.value.error;
      throw OutrigError.fromCode("spi.stream.protocol_violation");
    }
    const started = first.value;
    writer(ctx.res).writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
      "x-outrig-instance": safeHeaderValue(started.instanceId, "unknown"),
    });
    const sse = new SseWriter(ctx.res, ctx.signal);
    try {
      await sse.event("started", {
        contentType: started.contentType,
        instanceId: started.instanceId,
        correlationId: started.correlationId,
        traceId: started.traceId,
      });
      await pump(ctx, events, sse, isJsonEssence(essenceOf(started.contentType)), deps);
    } finally {
      sse.end();
    }
  });
}

/** Forwards events until the terminal one, or until the client leaves. */
async function pump(
  ctx: RequestContext,
  events: AsyncIterator<StreamEvent>,
  sse: SseWriter,
  json: boolean,
  deps: Pick<HttpServerDeps, "logger">,
): Promise<void> {
  try {
    while (sse.open) {
      const next = await events.next();
      if (next.done) break;
      const event = next.value;
      if (event.type === "chunk") {
        await sse.eventJson("chunk", chunkJson(event.sequence, event.payload, json));
      } else if (event.type === "end") {
        await sse.event("end", { cancelled: event.cancelled, usage: event.usage });
        return;
      } else if (event.type === "error") {
        await sse.event("error", envelope(ctx, event.error));
        return;
      }
      // A second `started` is ignored: the router enforces the contract, this only forwards.
    }
    // The client left (the router cancels on the aborted signal), or the stream ended without
    // a terminal event, which the contract forbids.
    if (sse.open) {
      await sse.event("error", envelope(ctx, OutrigError.fromCode("spi.stream.protocol_violation")));
    }
  } catch (thrown) {
    const error = toOutrigError(thrown);
    if (error.category === "INTERNAL")
      deps.logger.error({ err: thrown, correlation_id: ctx.correlationId }, "stream failed");
    await sse.event("error", envelope(ctx, error));
  } finally {
    release(events);
  }
}

/**
 * Finishes the producer: it may sit suspended after its terminal event, or mid-stream when
 * the client left, and its cleanup must run either way (a no-op on a finished generator).
 */
function release(events: AsyncIterator<StreamEvent>): void {
  try {
    events.return?.()?.catch(() => {});
  } catch {
    // a producer that fails to close has nothing left to tell this client
  }
}

function envelope(ctx: RequestContext, error: OutrigError) {
  const env = error.toEnvelope();
  env.correlationId ??= ctx.correlationId;
  return env;
}

/**
 * The `chunk` data as JSON text. JSON content is spliced in verbatim once it parses (no
 * re-serialization): a raw CR or LF in valid JSON can only be whitespace, so it becomes a
 * space and the frame stays on one `data:` line. Anything else, or a chunk that is not
 * valid JSON, travels as base64.
 */
function chunkJson(sequence: number, payload: Uint8Array, json: boolean): string {
  if (json && payload.length > 0) {
    try {
      const text = utf8.decode(payload);
      JSON.parse(text);
      return `{"sequence":${sequence},"data":${text.replace(/[\r\n]/g, " ")}}`;
    } catch {
      // falls through to base64
    }
  }
  const base64 = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("base64");
  return `{"sequence":${sequence},"data_base64":"${base64}"}`;
}
