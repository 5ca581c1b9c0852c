import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { envelopeToPb } from "../errors/grpc-status.ts";
import {
  AuthDenySchema,
  AuthenticatedContextSchema,
  type CatalogAccess as CatalogAccessPb,
  CatalogAccessSchema,
  type Decision as DecisionPb,
  DecisionSchema,
  Effect,
  type PermissionCheck as PermissionCheckPb,
  type ResolveCallerResponse,
  ResolveCallerResponseSchema,
  type ValidateSessionBindingResponse,
  ValidateSessionBindingResponseSchema,
} from "../gen/outrig/core/v1/auth_policy_pb.ts";
import type { Resource as ResourcePb } from "../gen/outrig/core/v1/principal_pb.ts";
import type { ResolveCallerResult } from "./authority.ts";
import type { ResourceRef } from "./cedar/entities.ts";
import type { CatalogAccess, Decision, PermissionCheck } from "./cedar/policy-engine.ts";
import type { ResourceType } from "./cedar/schema.ts";
import { principalToPb } from "./principal.ts";
import type { SessionCheck } from "./session-binding.ts";

/** Wire conversions for `AuthPolicyService`. Validation happens in the engine, not here. */

export function resourceFromPb(pb: ResourcePb | undefined): ResourceRef {
  // An unknown type stays as given and is refused by the engine as policy.request.invalid.
  return {
    type: (pb?.type ?? "") as ResourceType,
    id: pb?.id ?? "",
    attributes: { ...(pb?.attributes ?? {}) },
  };
}

export function permissionCheckFromPb(pb: PermissionCheckPb): PermissionCheck {
  return { action: pb.action, resource: resourceFromPb(pb.resource), context: { ...pb.context } };
}

export function decisionToPb(decision: Decision): DecisionPb {
  return create(DecisionSchema, {
    effect: decision.effect === "allow" ? Effect.ALLOW : Effect.DENY,
    policyIds: [...decision.policyIds],
    ...(decision.error ? { error: envelopeToPb(decision.error.toEnvelope()) } : {}),
  });
}

export function catalogAccessToPb(access: CatalogAccess): CatalogAccessPb {
  return create(CatalogAccessSchema, { ...access });
}

export function resolveCallerToPb(result: ResolveCallerResult): ResolveCallerResponse {
  if (result.ok) {
    return create(ResolveCallerResponseSchema, {
      result: {
        case: "context",
        value: create(AuthenticatedContextSchema, {
          principal: principalToPb(result.principal),
          contextRef: result.contextRef,
          expiresAt: timestampFromMs(result.expiresAtMs),
        }),
      },
    });
  }
  return create(ResolveCallerResponseSchema, {
    result: {
      case: "deny",
      value: create(AuthDenySchema, {
        error: envelopeToPb(result.error.toEnvelope()),
        wwwAuthenticate: result.wwwAuthenticate,
      }),
    },
  });
}

export function sessionCheckToPb(check: SessionCheck): ValidateSessionBindingResponse {
  return create(ValidateSessionBindingResponseSchema, {
    valid: check.valid,
    ...(check.valid ? {} : { error: envelopeToPb(check.error.toEnvelope()) }),
  });
}
