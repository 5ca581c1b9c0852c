export * from "./limiter.ts";
export * from "./memory-store.ts";
export * from "./redis-store.ts";
export * from "./store.ts";
export * from "./token-bucket.ts";
