import { send, sendJson } from "../respond.ts";
import type { Router } from "../router.ts";
import type { HttpServerDeps } from "../types.ts";

/** `/healthz` (liveness), `/readyz` (readiness), `/metrics` (Prometheus text). */
export function registerHealthRoutes(
  router: Router,
  deps: Pick<HttpServerDeps, "readiness" | "metrics">,
  closing: () => boolean,
): void {
  const noStore = { "cache-control": "no-store" };

  router.add("GET", "/healthz", async (ctx) => {
    sendJson(ctx, 200, { status: "ok" }, noStore);
  });

  router.add("GET", "/readyz", async (ctx) => {
    const readiness = deps.readiness();
    // A core that is shutting down leaves load balancer rotation even if its modules are fine.
    const ready = readiness.ready && !closing();
    const body = closing() ? { ...readiness, ready, reason: "the core is shutting down" } : readiness;
    sendJson(ctx, ready ? 200 : 503, body, noStore);
  });

  router.add("GET", "/metrics", async (ctx) => {
    const text = await deps.metrics.text();
    send(ctx, 200, { "content-type": deps.metrics.contentType, ...noStore }, text);
  });
}
