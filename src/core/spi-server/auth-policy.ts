/**
 * AuthPolicyService: the authority offered to modules. The calling module is known from
 * its SPI credential, never from the request, so a context reference minted for one
 * module is refused when another presents it.
 */
import { create } from "@bufbuild/protobuf";
import type { Authority } from "../../authority/authority.ts";
import { invalidationToPb } from "../../authority/invalidation.ts";
import {
  catalogAccessToPb,
  decisionToPb,
  permissionCheckFromPb,
  resolveCallerToPb,
  resourceFromPb,
  sessionCheckToPb,
} from "../../authority/pb.ts";
import { OutrigError } from "../../errors/index.ts";
import type { AuthPolicyService } from "../../gen/outrig/core/v1/auth_policy_pb.ts";
import { ResourceSchema } from "../../gen/outrig/core/v1/principal_pb.ts";
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
      const result = authority.checkCatalogAccess({
        moduleId,
        contextRef: req.contextRef,
        entries: req.entityIds.map((id) => ({
          resource: resourceFromPb(create(ResourceSchema, { type: req.entityType, id })),
        })),
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
