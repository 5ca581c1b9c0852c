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
