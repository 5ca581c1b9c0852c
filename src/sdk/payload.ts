import { OutrigError } from "../errors/index.ts";
import { type InputSchema, type RawReply, rawReplyTag } from "./types.ts";

export const JSON_TYPE = "application/json";
export const BYTES_TYPE = "application/octet-stream";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A reply with an explicit media type (text, bytes, or a pre-encoded document). */
export function reply(payload: Uint8Array | string, contentType: string): RawReply {
  return {
    [rawReplyTag]: true,
    payload: typeof payload === "string" ? encoder.encode(payload) : payload,
    contentType,
  };
}

export function isRawReply(value: unknown): value is RawReply {
  return typeof value === "object" && value !== null && rawReplyTag in value;
}

/** Encodes what a handler returned: RawReply as is, bytes as octet-stream, everything else as JSON. */
export function encodeReply(value: unknown): { payload: Uint8Array; contentType: string } {
  if (isRawReply(value)) return { payload: value.payload, contentType: value.contentType };
  if (value instanceof Uint8Array) return { payload: value, contentType: BYTES_TYPE };
  const json = JSON.stringify(value === undefined ? null : value);
  return { payload: encoder.encode(json), contentType: JSON_TYPE };
}

function isJsonType(contentType: string): boolean {
  const base = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return base === "" || base === JSON_TYPE || base.endsWith("+json");
}

/**
 * Decodes a request payload for a handler: JSON types are parsed (empty means null)
 * and validated by the operation's schema; other types pass through as bytes.
 */
export function decodeInput<T>(
  payload: Uint8Array,
  contentType: string,
  schema: InputSchema<T> | undefined,
): T {
  let value: unknown = payload;
  if (isJsonType(contentType)) {
    if (payload.byteLength === 0) value = null;
    else {
      try {
        value = JSON.parse(decoder.decode(payload));
      } catch {
        throw OutrigError.fromCode("spi.invoke.invalid_payload", {
          origin: "module",
          message: "The request payload is not valid UTF-8 JSON.",
        });
      }
    }
  }
  if (!schema) return value as T;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const path = first ? first.path.map(String).join(".") : "";
  throw OutrigError.fromCode("spi.invoke.invalid_payload", {
    origin: "module",
    message: first ? `Invalid input${path ? ` at ${path}` : ""}: ${first.message}` : "Invalid input.",
    details: path ? { field: path } : {},
  });
}
