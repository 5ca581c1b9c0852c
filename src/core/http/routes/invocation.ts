import { OutrigError } from "../../../errors/index.ts";
import { MODULE_ID_PATTERN, OPERATION_NAME_PATTERN } from "../../../spi/descriptor.ts";
import { traceIdOf } from "../../../spi/metadata.ts";
import type { AccessGate } from "../../auth/access-gate.ts";
import type { RouteRequest } from "../../types.ts";
import { enforce } from "../access.ts";
import { assertJson, readBody } from "../body.ts";
import { deadlineOf, mediaTypeOf, traceContextOf } from "../request-headers.ts";
import type { RequestContext } from "../types.ts";

/**
 * Turns a public invoke request into a RouteRequest. Cheap checks (names, headers, media
 * type) and the access decision run before the body is read, so an unauthenticated or
 * denied caller never gets to upload; a JSON-typed body must parse before any module sees it.
 */
export async function readInvocation(
  ctx: RequestContext,
  maxBodyBytes: number,
  gate: AccessGate,
): Promise<RouteRequest> {
  const moduleId = ctx.params.module!;
  const operation = ctx.params.operation!;
  // Names no descriptor could declare are refused before the access decision and the body.
  if (!MODULE_ID_PATTERN.test(moduleId)) throw OutrigError.fromCode("core.invoke.module_not_found");
  if (!OPERATION_NAME_PATTERN.test(operation)) throw OutrigError.fromCode("core.invoke.operation_not_found");
  const deadline = deadlineOf(ctx.req);
  const media = mediaTypeOf(ctx.req);
  const trace = traceContextOf(ctx.req);
  const traceId = traceIdOf(trace.traceparent);
  const contextRef = await enforce(
    gate.invoke({
      headers: ctx.req.headers,
      moduleId,
      operation,
      correlationId: ctx.correlationId,
      ...(ctx.peer ? { peer: ctx.peer } : {}),
      ...(ctx.remoteAddress ? { clientIp: ctx.remoteAddress } : {}),
      ...(traceId ? { traceId } : {}),
    }),
  );
  const payload = await readBody(ctx.req, maxBodyBytes, ctx.signal);
  if (media.json) assertJson(payload);
  const request: RouteRequest = {
    moduleId,
    operation,
    payload,
    contentType: media.value,
    correlationId: ctx.correlationId,
    signal: ctx.signal,
    contextRef,
    ...trace,
  };
  if (deadline !== undefined) request.deadline = deadline;
  if (ctx.remoteAddress) request.attributes = { client_ip: ctx.remoteAddress };
  return request;
}
