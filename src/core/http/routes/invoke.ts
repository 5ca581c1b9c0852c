import { safeHeaderValue, send } from "../respond.ts";
import type { Router } from "../router.ts";
import type { HttpServerDeps } from "../types.ts";
import { readInvocation } from "./invocation.ts";

/** `POST /v1/modules/:module/invoke/:operation`: one unary call through the router. */
export function registerInvokeRoute(
  router: Router,
  deps: Pick<HttpServerDeps, "invoker" | "maxBodyBytes" | "gate">,
): void {
  router.add("POST", "/v1/modules/:module/invoke/:operation", async (ctx) => {
    const request = await readInvocation(ctx, deps.maxBodyBytes, deps.gate);
    const result = await deps.invoker.invoke(request);
    send(
      ctx,
      200,
      {
        "content-type": safeHeaderValue(result.contentType, "application/octet-stream"),
        "x-outrig-instance": safeHeaderValue(result.instanceId, "unknown"),
      },
      result.payload,
    );
  });
}
