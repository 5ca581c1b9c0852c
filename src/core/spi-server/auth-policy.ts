/**
 * AuthPolicyService: the authority offered to modules. The calling module is known from
 * its SPI credential, never from the request, so a context reference minted for one
 * module is refused when another presents it.
 */
import { type Authority, MAX_BATCH } from "../../authority/authority.ts";
import type { ResourceType } from "../../authority/cedar/schema.ts";
import { invalidationToPb } from "../../authority/invalidation.ts";
import {
  catalogAccessToPb,
  decisionToPb,
  permissionCheckFromPb,
  resolveCallerToPb,
  sessionCheckToPb,
} from "../../authority/pb.ts";
import { OutrigError } from "../../errors/index.ts";
import type { AuthPolicyService } from "../../gen/outrig/core/v1/auth_policy_pb.ts";
import type { ServiceHandlers } from "../../spi/grpc-service.ts";
import type { ModuleInstance } from "../supervisor/instance.ts";

const MAX_HEADERS = 64;
const MAX_HEADER_BYTES = 16 * 1024;

export function authPolicyHandlers(
  authority: Authority,
  caller: (metadata: { get(key: string): unknown[] }) => ModuleInstance,
): ServiceHandlers<typeof AuthPolicyService> {
  return {
    resolveCaller: async (req, call) => {
      const moduleId = caller(call.metadata).moduleId;
      const entries = Object.entries(req.headers);
      if (entries.length > MAX_HEADERS || entries.some(([k, v]) => k.length + v.length > MAX_HEADER_BYTES)) {
        throw OutrigError.fromCode("core.request.invalid_header", {
          message: "Too many or too large headers.",
        });
      }
      const headers = Object.fromEntries(entries.map(([k, v]) => [k.toLowerCase(), v]));
      const result = await authority.resolveCaller({
        moduleId,
        headers,
        ...(req.sessionId ? { sessionId: req.sessionId } : {}),
        ids: {
          module: moduleId,
          transport: req.transport || "direct",
          ...(req.clientIp ? { clientIp: req.clientIp } : {}),
        },
      });
      return resolveCallerToPb(result);
    },
    checkPermissions: async (req, call) => {
      const moduleId = caller(call.metadata).moduleId;
      const result = await authority.checkPermissions({
        moduleId,
        contextRef: req.contextRef,
        checks: req.checks.map(permissionCheckFromPb),
      });
      if (!result.ok) throw result.error;
      return { decisions: result.decisions.map(decisionToPb) };
    },
    checkCatalogAccess: (req, call) => {
      const moduleId = caller(call.metadata).moduleId;
      // An unknown type stays as given and is refused by the engine. More than MAX_BATCH
      // entries are refused by the authority (after the reference check): build no more
      // than it takes to see that.
      const type = req.entityType as ResourceType;
      const result = authority.checkCatalogAccess({
        moduleId,
        contextRef: req.contextRef,
        entries: req.entityIds.slice(0, MAX_BATCH + 1).map((id) => ({ resource: { type, id } })),
        ...(req.serverId ? { serverId: req.serverId } : {}),
      });
      if (!result.ok) throw result.error;
      return { entries: result.entries.map(catalogAccessToPb) };
    },
    validateSessionBinding: async (req, call) => {
      const moduleId = caller(call.metadata).moduleId;
      return sessionCheckToPb(
        await authority.validateSessionBinding({
          moduleId,
          contextRef: req.contextRef,
          sessionId: req.sessionId,
        }),
      );
    },
    watchInvalidations: async (_req, call) => {
      const controller = new AbortController();
      call.on("cancelled", () => controller.abort());
      for await (const event of authority.watchInvalidations(controller.signal)) {
        if (call.cancelled) break;
        call.write(invalidationToPb(event));
      }
    },
  };
}
