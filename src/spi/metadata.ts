import { Metadata } from "@grpc/grpc-js";

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
export function bearerToken(metadata: Metadata): string | undefined {
  const value = metadata.get(MD.authorization)[0];
  if (typeof value !== "string" || !value.startsWith("Bearer ")) return undefined;
  return value.slice("Bearer ".length);
}

export function metadataValue(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === "string" ? value : undefined;
}

/** Metadata with the SPI credential set. */
export function credentialMetadata(secret: string): Metadata {
  const md = new Metadata();
  md.set(MD.authorization, bearer(secret));
  return md;
}
