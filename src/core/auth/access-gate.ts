/**
 * The core's ingress decisions: the HTTP listener asks the gate before it invokes a
 * module or serves an admin call. The authority-backed gate authenticates the caller,
 * decides with Cedar, applies rate limits, audits, and issues the context reference the
 * module receives.
 */

import type { HeaderBag } from "../../authority/authenticator.ts";
import type { Authority, Refused } from "../../authority/authority.ts";
import type { ResourceRef } from "../../authority/cedar/entities.ts";
import type { PeerCertificate } from "../../authority/mtls.ts";
import type { OutrigError } from "../../errors/index.ts";
import type { ModuleConfig } from "../config/schema.ts";

export type AccessDenied = { ok: false; error: OutrigError; wwwAuthenticate?: string };

/** An allowed invoke carries the context reference the module receives. */
export type AccessDecision = { ok: true; contextRef: string } | AccessDenied;

/** An allowed admin call carries no reference: no module sees it. */
export type AdminDecision = { ok: true; contextRef?: undefined } | AccessDenied;

export interface AccessRequest {
  headers: HeaderBag;
  /** A client certificate the public listener verified. */
  peer?: PeerCertificate;
  correlationId: string;
  clientIp?: string;
  traceId?: string;
}

export interface AccessGate {
  /** May this caller invoke an operation of this module? */
  invoke(request: AccessRequest & { moduleId: string; operation: string }): Promise<AccessDecision>;
  /** May this caller use the admin API (on this module, or on all)? */
  admin(request: AccessRequest & { moduleId?: string }): Promise<AdminDecision>;
}

/** The module's resource attributes as policies see them. */
function moduleResource(moduleId: string, module: ModuleConfig | undefined): ResourceRef {
  const access = module?.access;
  const attributes: Record<string, string> = {
    visibility: access?.visibility ?? "public",
    hidden: String(access?.hidden ?? false),
  };
  if (access?.team) attributes.team = access.team;
  if (access?.owner) attributes.owner = access.owner;
  return Object.freeze({ type: "module", id: moduleId, attributes: Object.freeze(attributes) });
}

function denied(result: Refused): AccessDenied {
  return {
    ok: false,
    error: result.error,
    ...(result.wwwAuthenticate ? { wwwAuthenticate: result.wwwAuthenticate } : {}),
  };
}

export function authorityGate(authority: Authority, modules: readonly ModuleConfig[]): AccessGate {
  // Built once: the configured modules do not change while the gate lives.
  const resources = new Map(modules.map((m) => [m.id, moduleResource(m.id, m)]));
  const ids = (r: AccessRequest) => ({
    correlationId: r.correlationId,
    transport: "http",
    ...(r.clientIp ? { clientIp: r.clientIp } : {}),
    ...(r.traceId ? { traceId: r.traceId } : {}),
  });
  return {
    async invoke(request) {
      const result = await authority.authorizeRequest({
        moduleId: request.moduleId,
        headers: request.headers,
        ...(request.peer ? { peer: request.peer } : {}),
        check: {
          action: "module.invoke",
          resource: resources.get(request.moduleId) ?? moduleResource(request.moduleId, undefined),
          context: {
            transport: "http",
            ingress: "core",
            ...(request.clientIp ? { clientIp: request.clientIp } : {}),
          },
        },
        // authorizeRequest adds the module id.
        ids: ids(request),
      });
      return result.ok ? { ok: true, contextRef: result.contextRef } : denied(result);
    },
    async admin(request) {
      const result = await authority.authorizeAdmin({
        headers: request.headers,
        ...(request.peer ? { peer: request.peer } : {}),
        ...(request.moduleId ? { moduleId: request.moduleId } : {}),
        ids: ids(request),
      });
      return result.ok ? { ok: true } : denied(result);
    },
  };
}
