/**
 * SessionService, the part the authority needs now: CreateSession binds a new protocol
 * session to the caller, so ValidateSessionBinding can refuse anyone else. Event history
 * (AppendEvent, ReplayEvents) and lookups arrive with the protocol profiles that need them.
 */
import { randomBytes } from "node:crypto";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Authority } from "../../authority/authority.ts";
import { OutrigError } from "../../errors/index.ts";
import type { SessionService } from "../../gen/outrig/core/v1/session_pb.ts";
import type { ServiceHandlers } from "../../spi/grpc-service.ts";
import type { ModuleInstance } from "../supervisor/instance.ts";

export function sessionHandlers(
  authority: Authority,
  caller: (metadata: { get(key: string): unknown[] }) => ModuleInstance,
): ServiceHandlers<typeof SessionService> {
  return {
    createSession: async (req, call) => {
      const moduleId = caller(call.metadata).moduleId;
      const verified = authority.verifyRef(moduleId, req.contextRef);
      if (!verified.ok) throw verified.error;
      // 0 asks for the configured idle TTL (`authority.sessions.ttlMs`), which also bounds a request.
      const configured = authority.parts.sessions.ttlMs;
      const ttlMs = Math.min(Number(req.ttlMs) || configured, configured);
      const id = randomBytes(24).toString("base64url");
      // Ids are random, so a refusal means the store is full (it never evicts a live session).
      if (!(await authority.bindSession(id, verified.ref.principal, { ttlMs }))) {
        throw OutrigError.fromCode("core.session.store_full", { retryAfterMs: 1000 });
      }
      const now = Date.now();
      return {
        session: {
          id,
          protocol: req.protocol.slice(0, 64),
          ownerSubject: verified.ref.principal.subject,
          createdAt: timestampFromMs(now),
          expiresAt: timestampFromMs(now + ttlMs),
          attributes: req.attributes,
        },
      };
    },
  };
}
