import { OutrigError } from "../../errors/index.ts";
import type { HttpRequest } from "./types.ts";

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

function tooLarge(limit: number): OutrigError {
  return OutrigError.fromCode("core.request.body_too_large", {
    message: `The request body is larger than ${limit} bytes.`,
    details: { max_body_bytes: String(limit) },
  });
}

/**
 * Reads the whole request body, refusing more than `limit` bytes: at once on a
 * `Content-Length` above it, else as soon as the streamed total passes it. On refusal the
 * request stays paused (not destroyed), so the 413 can still be written.
 */
export function readBody(req: HttpRequest, limit: number, signal: AbortSignal): Promise<Buffer> {
  const declared = req.headers["content-length"];
  if (declared !== undefined) {
    if (!/^\d{1,15}$/.test(declared)) {
      return Promise.reject(
        OutrigError.fromCode("core.request.invalid_header", { details: { header: "content-length" } }),
      );
    }
    if (Number(declared) > limit) return Promise.reject(tooLarge(limit));
  }
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      signal.removeEventListener("abort", onAbort);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = () => {
      cleanup();
      reject(OutrigError.fromCode("core.invoke.cancelled"));
    };
    const onAbort = onError;
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The value of a UTF-8 JSON body; anything else is `core.request.invalid_json`. */
export function parseJsonBody(body: Uint8Array): unknown {
  try {
    return JSON.parse(fatalUtf8.decode(body));
  } catch {
    throw OutrigError.fromCode("core.request.invalid_json");
  }
}

/** Rejects a JSON-typed body that is not UTF-8 JSON. An empty body means "no input" and passes. */
export function assertJson(body: Uint8Array): void {
  if (body.length > 0) parseJsonBody(body);
}
