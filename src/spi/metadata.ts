/** Anything metadata-like: grpc-js's Metadata or the lean server's WireMetadata. */
export interface MetadataLike {
  get(key: string): unknown[];
}

/** gRPC metadata keys of the SPI. */
export const MD = {
  authorization: "authorization",
  correlationId: "x-correlation-id",
  traceparent: "traceparent",
  tracestate: "tracestate",
} as const;

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** W3C `traceparent`: version, trace id (captured), parent id and flags, lowercase hex. */
export const TRACEPARENT_PATTERN = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Whether a caller's correlation id may be passed on: 1-128 letters, digits or `._:-`. */
export function isCorrelationId(value: string | undefined): value is string {
  return value !== undefined && CORRELATION_ID.test(value);
}

/** The trace id of a well-formed `traceparent`, else undefined. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent ? TRACEPARENT_PATTERN.exec(traceparent)?.[1] : undefined;
}

export function bearer(secret: string): string {
  return `Bearer ${secret}`;
}

/** The bearer token of a call, or undefined. */
export function bearerToken(metadata: MetadataLike): string | undefined {
  const value = metadata.get(MD.authorization)[0];
  if (typeof value !== "string" || !value.startsWith("Bearer ")) return undefined;
  return value.slice("Bearer ".length);
}

export function metadataValue(metadata: MetadataLike, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === "string" ? value : undefined;
}

/** Headers with the SPI credential, for the lean HTTP/2 client. */
export function credentialHeaders(secret: string): Record<string, string> {
  return { [MD.authorization]: bearer(secret) };
}
