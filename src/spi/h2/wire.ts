/**
 * gRPC over HTTP/2, the parts both ends need: length-prefixed messages, grpc-timeout,
 * grpc-message percent-encoding, and binary metadata. See the gRPC "PROTOCOL-HTTP2"
 * specification; this is what grpc-js, grpc-go and grpcio put on the wire.
 */

import { GrpcStatus } from "../../errors/grpc-status.ts";

type RawHeaders = Record<string, string | string[] | undefined>;

/**
 * Metadata as the SDK and core read it: lowercase keys; `-bin` values are bytes.
 * Built from HTTP/2 headers, it decodes a key only when asked (the hot path reads two).
 */
export class WireMetadata {
  /** Decoded values of the keys asked for so far. */
  readonly #map = new Map<string, Array<string | Buffer>>();
  #raw: RawHeaders | undefined;

  get(key: string): Array<string | Buffer> {
    const own = this.#map.get(key);
    if (own || !this.#raw) return own ?? [];
    const raw = key.startsWith(":") || TRANSPORT_HEADERS.has(key) ? undefined : this.#raw[key];
    if (raw === undefined) return [];
    const values: Array<string | Buffer> = [];
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      if (!key.endsWith("-bin")) values.push(v);
      else for (const part of v.split(",")) values.push(Buffer.from(part.trim(), "base64"));
    }
    this.#map.set(key, values);
    return values;
  }

  /** Metadata over HTTP/2 headers, leaving out pseudo-headers and transport headers. */
  static fromHeaders(headers: RawHeaders): WireMetadata {
    const md = new WireMetadata();
    md.#raw = headers;
    return md;
  }
}

const TRANSPORT_HEADERS = new Set([
  "content-type",
  "te",
  "grpc-timeout",
  "grpc-encoding",
  "grpc-accept-encoding",
  "user-agent",
  "content-length",
  "grpc-status",
  "grpc-message",
]);

/** One message with its 5-byte prefix (uncompressed). */
export function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.byteLength);
  out[0] = 0;
  out.writeUInt32BE(message.byteLength, 1);
  out.set(message, 5);
  return out;
}

export class FrameError extends Error {
  constructor(
    message: string,
    readonly grpcStatus: GrpcStatus,
  ) {
    super(message);
  }
}

/** Splits a byte stream into gRPC messages; chunks may cut anywhere. */
export class MessageReader {
  #buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxMessageBytes: number) {}

  /** Appends bytes; returns every message now complete. Throws FrameError on a bad frame. */
  push(chunk: Buffer): Buffer[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const messages: Buffer[] = [];
    while (this.#buffer.length >= 5) {
      if (this.#buffer[0] !== 0) {
        // RESOURCE_EXHAUSTED is wrong here; compressed messages are unimplemented.
        throw new FrameError("compressed messages are not supported", GrpcStatus.UNIMPLEMENTED);
      }
      const length = this.#buffer.readUInt32BE(1);
      if (length > this.maxMessageBytes) {
        throw new FrameError(
          `message of ${length} bytes exceeds the limit of ${this.maxMessageBytes}`,
          GrpcStatus.RESOURCE_EXHAUSTED,
        );
      }
      if (this.#buffer.length < 5 + length) break;
      messages.push(this.#buffer.subarray(5, 5 + length));
      this.#buffer = this.#buffer.subarray(5 + length);
    }
    return messages;
  }

  get pending(): number {
    return this.#buffer.length;
  }
}

const TIMEOUT_UNITS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000001,
};

/** `grpc-timeout` for a duration: at most 8 digits, the finest unit that fits. */
export function encodeTimeout(ms: number): string {
  const value = Math.max(0, Math.ceil(ms));
  if (value < 1e8) return `${value}m`;
  if (value / 1000 < 1e8) return `${Math.ceil(value / 1000)}S`;
  return `${Math.min(99_999_999, Math.ceil(value / 60_000))}M`;
}

/** Milliseconds of a `grpc-timeout` header, or undefined when absent or malformed. */
export function decodeTimeout(value: string | undefined): number | undefined {
  const match = value ? /^(\d{1,8})([HMSmun])$/.exec(value) : null;
  if (!match) return undefined;
  return Number(match[1]) * TIMEOUT_UNITS[match[2]!]!;
}

/** Percent-encodes a status message as the spec asks (bytes outside 0x20–0x7E, and '%'). */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export function decodeGrpcMessage(value: string | undefined): string {
  if (!value) return "";
  // Never throws: invalid UTF-8 decodes to U+FFFD.
  return Buffer.from(
    value.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
    "latin1",
  ).toString("utf8");
}

export const GRPC_CONTENT_TYPE = "application/grpc+proto";
