import { z } from "zod";
import { toHttpError } from "../../../errors/index.ts";
import { sendJson } from "../respond.ts";
import type { Router } from "../router.ts";
import type { HttpServerDeps } from "../types.ts";
import { readJsonBody } from "./admin-body.ts";

const revocationSchema = z
  .strictObject({
    jti: z.string().min(1).max(256).optional(),
    api_key_id: z.string().min(1).max(64).optional(),
    subject: z.string().min(1).max(512).optional(),
  })
  .refine((r) => r.jti !== undefined || r.api_key_id !== undefined || r.subject !== undefined, {
    message: "give jti, api_key_id or subject",
  });

/**
 * The authority's admin API (module.manage on all modules, checked by the listener):
 * `POST /admin/policies/reload` re-reads the policy files atomically (an invalid set is
 * refused with Cedar's diagnostics, the old one stays); `POST /admin/revocations` revokes a
 * token by `jti`, an API key by id, or everything a subject holds now.
 */
export function registerAuthorityRoutes(
  router: Router,
  deps: Pick<HttpServerDeps, "authorityAdmin" | "maxBodyBytes" | "logger">,
): void {
  const admin = deps.authorityAdmin;

  router.add("POST", "/admin/policies/reload", async (ctx) => {
    const result = await admin.reloadPolicies();
    if (!result.ok) {
      deps.logger.warn(
        { code: result.error.code },
        "policy reload refused; the previous policies stay in force",
      );
      // The error answer every route gives (the code's status), plus Cedar's diagnostics.
      const answer = toHttpError(result.error);
      answer.body.error.correlationId ??= ctx.correlationId;
      sendJson(ctx, answer.status, { ...answer.body, diagnostics: result.diagnostics }, answer.headers);
      return;
    }
    deps.logger.info({ epoch: result.epoch, policies: result.policies }, "policies reloaded by an operator");
    sendJson(ctx, 200, { epoch: result.epoch, policies: result.policies });
  });

  router.add("POST", "/admin/revocations", async (ctx) => {
    const r = await readJsonBody(ctx, deps.maxBodyBytes, revocationSchema, "revocation");
    admin.revoke({
      ...(r.jti ? { jti: r.jti } : {}),
      ...(r.api_key_id ? { apiKeyId: r.api_key_id } : {}),
      ...(r.subject ? { subject: r.subject } : {}),
    });
    deps.logger.info(
      { jti: r.jti, api_key_id: r.api_key_id, subject: r.subject },
      "credentials revoked by an operator",
    );
    sendJson(ctx, 200, { revoked: true });
  });
}
