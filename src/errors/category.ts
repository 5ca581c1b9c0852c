import { Category as CategoryPb, Origin as OriginPb } from "../gen/outrig/errors/v1/errors_pb.ts";

/** The eleven canonical failure categories of the Outrig error model. */
export const CATEGORIES = [
  "INVALID_ARGUMENT",
  "UNAUTHENTICATED",
  "PERMISSION_DENIED",
  "NOT_FOUND",
  "CONFLICT",
  "FAILED_PRECONDITION",
  "RATE_LIMITED",
  "UNSUPPORTED",
  "UNAVAILABLE",
  "UPSTREAM_ERROR",
  "INTERNAL",
] as const;

export type Category = (typeof CATEGORIES)[number];

export const ORIGINS = ["module", "core", "plugin", "upstream"] as const;
export type Origin = (typeof ORIGINS)[number];

export function isCategory(value: unknown): value is Category {
  return typeof value === "string" && (CATEGORIES as readonly string[]).includes(value);
}

export function isOrigin(value: unknown): value is Origin {
  return typeof value === "string" && (ORIGINS as readonly string[]).includes(value);
}

const toPb: Record<Category, CategoryPb> = {
  INVALID_ARGUMENT: CategoryPb.INVALID_ARGUMENT,
  UNAUTHENTICATED: CategoryPb.UNAUTHENTICATED,
  PERMISSION_DENIED: CategoryPb.PERMISSION_DENIED,
  NOT_FOUND: CategoryPb.NOT_FOUND,
  CONFLICT: CategoryPb.CONFLICT,
  FAILED_PRECONDITION: CategoryPb.FAILED_PRECONDITION,
  RATE_LIMITED: CategoryPb.RATE_LIMITED,
  UNSUPPORTED: CategoryPb.UNSUPPORTED,
  UNAVAILABLE: CategoryPb.UNAVAILABLE,
  UPSTREAM_ERROR: CategoryPb.UPSTREAM_ERROR,
  INTERNAL: CategoryPb.INTERNAL,
};

export function categoryToPb(category: Category): CategoryPb {
  return toPb[category];
}

/** An unset or unknown wire category is treated as INTERNAL, never as success. */
export function categoryFromPb(value: CategoryPb): Category {
  for (const c of CATEGORIES) if (toPb[c] === value) return c;
  return "INTERNAL";
}

const originToPbMap: Record<Origin, OriginPb> = {
  module: OriginPb.MODULE,
  core: OriginPb.CORE,
  plugin: OriginPb.PLUGIN,
  upstream: OriginPb.UPSTREAM,
};

export function originToPb(origin: Origin): OriginPb {
  return originToPbMap[origin];
}

export function originFromPb(value: OriginPb): Origin {
  for (const o of ORIGINS) if (originToPbMap[o] === value) return o;
  return "core";
}

/** Whether a category is retryable when nothing more specific is known. */
export function defaultRetryable(category: Category): boolean {
  return category === "UNAVAILABLE" || category === "RATE_LIMITED";
}
