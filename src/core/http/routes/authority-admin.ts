import { z } from "zod";
import { OutrigError } from "../../../errors/index.ts";
import { readBody } from "../body.ts";
import { mediaTypeOf } from "../request-headers.ts";
import { sendJson } from "../respond.ts";
import type { Router } from "../router.ts";
import type { HttpServerDeps } from "../types.ts";

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
  const admin = () => {
    if (!deps.authorityAdmin) throw OutrigError.fromCode("spi.method.unimplemented");
    return deps.authorityAdmin;
  };

  router.add("POST", "/admin/policies/reload", async (ctx) => {
    const result = await admin().reloadPolicies();
    if (!result.ok) {
      deps.logger.warn(
        { code: result.error.code },
        "policy reload refused; the previous policies stay in force",
      );
      sendJson(ctx, 400, {
        error: { ...result.error.toEnvelope(), correlationId: ctx.correlationId },
        diagnostics: result.diagnostics,
      });
      return;
    }
    deps.logger.info({ epoch: result.epoch, policies: result.policies }, "policies reloaded by an operator");
    sendJson(ctx, 200, { epoch: result.epoch, policies: result.policies });
  });

  router.add("POST", "/admin/revocations", async (ctx) => {
    if (!mediaTypeOf(ctx.req).json) throw OutrigError.fromCode("core.request.unsupported_media_type");
    const body = await readBody(ctx.req, deps.maxBodyBytes, ctx.signal);
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
    } catch {
      throw OutrigError.fromCode("core.request.invalid_json");
    }
    const parsed = revocationSchema.safeParse(value);
    if (!parsed.success) {
      throw OutrigError.fromCode("core.admin.invalid", {
        message: `Invalid revocation: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ")}`,
      });
    }
    const r = parsed.data;
    admin().revoke({
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
