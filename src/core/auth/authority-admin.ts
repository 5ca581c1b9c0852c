import type { Authority } from "../../authority/authority.ts";
import type { AuthorityAdmin } from "../http/types.ts";

/** The authority's admin operations for the admin API. */
export function authorityAdmin(authority: Authority): AuthorityAdmin {
  return {
    async reloadPolicies() {
      const result = await authority.parts.policies.reload();
      return result.ok
        ? { ok: true, epoch: result.epoch, policies: result.policyCount }
        : { ok: false, error: result.error, diagnostics: [...result.diagnostics] };
    },
    revoke(what) {
      const { revocations } = authority.parts;
      if (what.jti) revocations.revokeToken(what.jti);
      if (what.apiKeyId) revocations.revokeApiKey(what.apiKeyId);
      if (what.subject) revocations.revokeSubject(what.subject);
    },
  };
}
