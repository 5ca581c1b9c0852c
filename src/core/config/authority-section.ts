/**
 * The `authority:` section of the core's config. The file is snake_case like the rest of
 * the config; the authority library's schema is camelCase. Keys convert one way on load
 * and error paths the other way, except where keys are user data: role names under
 * `policies.roles` and JWK members under `jwt.keys[].jwk` pass through untouched.
 */
import { isAbsolute, resolve } from "node:path";
import { type AuthorityConfig, authorityConfigSchema } from "../../authority/config.ts";

const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Keys whose values are maps of user-chosen names, converted no further. */
const OPAQUE = new Set(["policies.roles", "jwt.keys.*.jwk"]);

function convert(value: unknown, path: string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => convert(v, [...path, "*"]));
  if (typeof value !== "object" || value === null) return value;
  if (OPAQUE.has(path.join("."))) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const k = camel(key);
    out[k] = convert(v, [...path, k]);
  }
  return out;
}

export interface AuthoritySectionProblem {
  path: string;
  message: string;
}

/**
 * Converts and validates the section; relative paths (policy files, context-reference
 * keys, the audit file) resolve against `baseDir`. Returns the library's config, or the
 * problems with snake_case paths under `authority.`.
 */
export function readAuthoritySection(
  section: unknown,
  baseDir: string,
): { ok: true; config: AuthorityConfig } | { ok: false; problems: AuthoritySectionProblem[] } {
  const converted = convert(section ?? {}, []);
  const parsed = authorityConfigSchema.safeParse(converted);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => ({
        path: ["authority", ...issue.path.map((p) => (typeof p === "number" ? `[${p}]` : snake(String(p))))]
          .join(".")
          .replace(/\.\[/g, "["),
        message:
          issue.code === "unrecognized_keys"
            ? `unknown key(s) ${issue.keys.map((k) => JSON.stringify(snake(k))).join(", ")}`
            : issue.message,
      })),
    };
  }
  const config = converted as AuthorityConfig;
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  if (config.policies?.paths) config.policies.paths = config.policies.paths.map(at);
  if (config.contextRefs?.keyFiles)
    config.contextRefs.keyFiles = config.contextRefs.keyFiles.map((k) => ({ ...k, path: at(k.path) }));
  if (config.audit?.file) config.audit.file = at(config.audit.file);
  return { ok: true, config };
}

/** Whether the section configures a way for callers to authenticate besides the dev token. */
export function hasCredentials(config: AuthorityConfig | undefined): boolean {
  return Boolean(
    config?.jwt ||
      (config?.apiKeys && config.apiKeys.length > 0) ||
      (config?.mtls?.identities?.length ?? 0) > 0,
  );
}
