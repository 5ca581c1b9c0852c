import { randomUUID } from "node:crypto";
import { OutrigError } from "../../errors/index.ts";
import { isCorrelationId, TRACEPARENT_PATTERN } from "../../spi/metadata.ts";
import type { HttpRequest } from "./types.ts";

const TIMEOUT_MS = /^[1-9][0-9]{0,5}$/;
/** Longest per-request timeout a client may ask for. */
export const MAX_TIMEOUT_MS = 600_000;
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const MEDIA_TYPE = new RegExp(`^(${TOKEN})/(${TOKEN})\\s*(;.*)?$`);

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The client's `X-Correlation-Id` when well formed, else a new UUIDv4 (a bad one is ignored, not an error). */
export function correlationIdOf(req: HttpRequest): string {
  const value = single(req.headers["x-correlation-id"]);
  return isCorrelationId(value) ? value : randomUUID();
}

/** `X-Outrig-Timeout-Ms` as an absolute deadline (epoch ms), or undefined when absent. */
export function deadlineOf(req: HttpRequest): number | undefined {
  const value = single(req.headers["x-outrig-timeout-ms"]);
  if (value === undefined) return undefined;
  if (!TIMEOUT_MS.test(value) || Number(value) > MAX_TIMEOUT_MS) {
    throw OutrigError.fromCode("core.request.invalid_header", {
      message: `X-Outrig-Timeout-Ms must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}.`,
      details: { header: "x-outrig-timeout-ms" },
    });
  }
  return Date.now() + Number(value);
}

/** W3C trace context, forwarded only when `traceparent` is well formed (as the spec says to treat it). */
export function traceContextOf(req: HttpRequest): { traceparent?: string; tracestate?: string } {
  const traceparent = single(req.headers.traceparent)?.trim().toLowerCase();
  if (traceparent === undefined || !TRACEPARENT_PATTERN.test(traceparent) || traceparent.startsWith("ff"))
    return {};
  const tracestate = single(req.headers.tracestate);
  const okState = tracestate !== undefined && tracestate.length <= 512 && /^[\x20-\x7e]*$/.test(tracestate);
  return okState ? { traceparent, tracestate } : { traceparent };
}

export interface MediaType {
  /** As the client sent it, trimmed; what the module receives. */
  value: string;
  /** `type/subtype`, lowercase. */
  essence: string;
  json: boolean;
}

/**
 * The request's media type, `application/json` when absent. A malformed one, or JSON in a
 * charset other than UTF-8 (RFC 8259), is 415.
 */
export function mediaTypeOf(req: HttpRequest): MediaType {
  const raw = single(req.headers["content-type"])?.trim();
  if (raw === undefined || raw === "")
    return { value: "application/json", essence: "application/json", json: true };
  const m = raw.length <= 256 ? MEDIA_TYPE.exec(raw) : null;
  if (!m) throw unsupported("The Content-Type header is not a valid media type.");
  const essence = `${m[1]}/${m[2]}`.toLowerCase();
  // `curl -d` labels its body as a form; the invoke routes have no form semantics, so
  // such a body is read as the JSON it almost always is (and refused if it is not).
  if (essence === "application/x-www-form-urlencoded") {
    return { value: "application/json", essence: "application/json", json: true };
  }
  const json = isJsonEssence(essence);
  if (json) {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(m[3] ?? "")?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
      throw unsupported("JSON request bodies must be UTF-8.");
    }
  }
  return { value: raw, essence, json };
}

/** `application/json` and any `application/*+json`. */
export function isJsonEssence(essence: string): boolean {
  return essence === "application/json" || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(essence);
}

/** Essence of a media type string without validation (for a module's answer). */
export function essenceOf(contentType: string): string {
  return (contentType.split(";")[0] ?? "").trim().toLowerCase();
}

function unsupported(message: string): OutrigError {
  return OutrigError.fromCode("core.request.unsupported_media_type", { message });
}
