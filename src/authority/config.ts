import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import { z } from "zod";
import { ApiKeyAuthenticator, apiKeyRecordSchema, MemoryApiKeyStore } from "./api-keys.ts";
import { AuditLogger } from "./audit.ts";
import { Authenticator } from "./authenticator.ts";
import { Authority } from "./authority.ts";
import { PolicyEngine } from "./cedar/policy-engine.ts";
import { type PolicyWatcher, policyFileSource, watchPolicyFiles } from "./cedar/policy-source.ts";
import { configError } from "./codes.ts";
import { ContextRefService, MAX_CONTEXT_REF_TTL_SEC } from "./context-ref.ts";
import { ContextRefKeyRing } from "./context-ref-keys.ts";
import { DevTokenAuthenticator } from "./dev-token.ts";
import { InvalidationBus } from "./invalidation.ts";
import { JwtAuthenticator } from "./jwt.ts";
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, type StaticKey } from "./jwt-keys.ts";
import { MtlsAuthenticator, mtlsIdentitySchema } from "./mtls.ts";
import { RateLimiter } from "./rate-limit/limiter.ts";
import { MemoryRateLimitStore } from "./rate-limit/memory-store.ts";
import { RedisRateLimitStore } from "./rate-limit/redis-store.ts";
import type { RateLimitStore } from "./rate-limit/store.ts";
import { RevocationList } from "./revocation.ts";
import { MemorySessionBindingStore } from "./session-binding.ts";

const oneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/**
 * The authority section of the core's configuration. Secrets never sit in it: HMAC
 * secrets come from an environment variable and signing keys from files.
 */
export const authorityConfigSchema = z
  .object({
    realm: z.string().min(1).default("outrig"),
    jwt: z
      .object({
        issuer: oneOrMany,
        audience: oneOrMany,
        algorithms: z.array(z.enum([...ASYMMETRIC_ALGORITHMS, ...HMAC_ALGORITHMS])).min(1),
        keys: z
          .array(
            z.union([
              z.object({ kid: z.string().optional(), pem: z.string().min(1) }).strict(),
              z.object({ kid: z.string().optional(), jwk: z.record(z.string(), z.unknown()) }).strict(),
              z.object({ kid: z.string().optional(), secretEnv: z.string().min(1) }).strict(),
            ]),
          )
          .optional(),
        jwks: z
          .object({
            url: z.url(),
            cooldownMs: z.number().int().nonnegative().optional(),
            cacheMaxAgeMs: z.number().int().nonnegative().optional(),
            timeoutMs: z.number().int().positive().optional(),
          })
          .strict()
          .optional(),
        clockSkewSec: z.number().int().min(0).max(300).default(30),
        requiredClaims: z.array(z.string().min(1)).optional(),
        maxTokenLength: z.number().int().min(256).max(65_536).default(8192),
        typ: z.string().optional(),
        claims: z
          .object({
            subject: z.string().optional(),
            subjectPrefix: z.string().optional(),
            roles: z.string().optional(),
            teams: z.string().optional(),
            scopes: z.string().optional(),
            admin: z.string().optional(),
            adminRoles: z.array(z.string()).optional(),
          })
          .strict()
          .optional(),
        cache: z
          .union([
            z.literal(false),
            z
              .object({
                maxEntries: z.number().int().positive().optional(),
                maxAgeMs: z.number().int().positive().optional(),
              })
              .strict(),
          ])
          .optional(),
      })
      .strict()
      .optional(),
    apiKeys: z.array(apiKeyRecordSchema).default([]),
    /** Client-certificate identities, for a public listener with TLS and a client CA. */
    mtls: z
      .object({ identities: z.array(mtlsIdentitySchema).default([]) })
      .strict()
      .optional(),
    policies: z
      .object({
        /** `.cedar` files or directories of them. */
        paths: z.array(z.string().min(1)).default([]),
        watch: z.boolean().default(true),
        roles: z.record(z.string(), z.array(z.string().min(1))).default({}),
        decisionCacheSize: z.number().int().nonnegative().default(10_000),
      })
      .strict()
      .default({ paths: [], watch: true, roles: {}, decisionCacheSize: 10_000 }),
    contextRefs: z
      .object({
        ttlSec: z.number().int().min(1).max(MAX_CONTEXT_REF_TTL_SEC).default(MAX_CONTEXT_REF_TTL_SEC),
        /**
         * Generated keys (no `keyFiles`) are replaced this often; the previous key keeps
         * verifying references it signed until they expire. Shared key files rotate by
         * replacing the files (several replicas must agree).
         */
        rotateEverySec: z
          .number()
          .int()
          .min(60)
          .max(30 * 86_400)
          .default(3600),
        /** PKCS#8 Ed25519 keys shared by all replicas; the first signs. Default: a fresh key per process. */
        keyFiles: z
          .array(z.object({ kid: z.string().optional(), path: z.string().min(1) }).strict())
          .optional(),
      })
      .strict()
      .default({ ttlSec: MAX_CONTEXT_REF_TTL_SEC, rotateEverySec: 3600 }),
    rateLimits: z
      .object({
        redisUrl: z.string().optional(),
        failOpen: z.boolean().default(false),
        rules: z
          .array(
            z
              .object({
                match: z
                  .object({
                    action: z.string().optional(),
                    module: z.string().optional(),
                    subject: z.string().optional(),
                  })
                  .strict()
                  .optional(),
                capacity: z.number().positive(),
                refillPerSecond: z.number().nonnegative(),
                cost: z.number().positive().optional(),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .default({ failOpen: false, rules: [] }),
    audit: z
      .object({ file: z.string().optional(), allowSampleRate: z.number().min(0).max(1).default(0.01) })
      .strict()
      .default({ allowSampleRate: 0.01 }),
    sessions: z
      .object({
        /** Idle TTL of a session binding (default 24 h); also the longest `CreateSession` may ask for. */
        ttlMs: z.number().int().positive().optional(),
        /** Bindings held at most (default 100,000); a full store refuses new sessions. */
        maxSessions: z.number().int().positive().optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export type AuthorityConfig = z.input<typeof authorityConfigSchema>;

export interface AuthorityRuntime {
  logger?: Logger;
  /** `outrig up` only: the dev token and the address the public listener binds. */
  devToken?: { token: string; bindHost: string };
  env?: NodeJS.ProcessEnv;
}

export interface AuthorityHandle {
  readonly authority: Authority;
  /** Stops the policy watcher, flushes the audit file, closes the Redis connection. */
  close(): Promise<void>;
}

/** Validates the configuration and builds every part; throws `auth.config.invalid` / `policy.set.invalid`. */
export async function createAuthority(
  input: unknown,
  runtime: AuthorityRuntime = {},
): Promise<AuthorityHandle> {
  const parsed = authorityConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw configError(
      `authority configuration: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  const config = parsed.data;
  const env = runtime.env ?? process.env;
  const logger = runtime.logger;
  const bus = new InvalidationBus({ onListenerError: () => logger?.warn("invalidation listener failed") });
  const revocations = new RevocationList({ bus });

  let jwt: JwtAuthenticator | undefined;
  if (config.jwt) {
    const { keys, ...rest } = config.jwt;
    const staticKeys = keys?.map((k): StaticKey => {
      if ("secretEnv" in k) {
        const secret = env[k.secretEnv];
        if (!secret) throw configError(`environment variable ${k.secretEnv} is not set`);
        return { ...(k.kid ? { kid: k.kid } : {}), secret };
      }
      return k as StaticKey;
    });
    jwt = await JwtAuthenticator.create({
      ...rest,
      ...(staticKeys ? { keys: staticKeys } : {}),
      realm: config.realm,
      ...(logger ? { logger } : {}),
    });
  }

  const keyRing = config.contextRefs.keyFiles
    ? ContextRefKeyRing.fromPem(
        config.contextRefs.keyFiles.map((k) => ({
          ...(k.kid ? { kid: k.kid } : {}),
          privateKeyPem: readFileSync(k.path, "utf8"),
        })),
      )
    : ContextRefKeyRing.generate();
  const rotation = config.contextRefs.keyFiles
    ? undefined
    : setInterval(() => {
        const kid = keyRing.rotate();
        logger?.info({ kid }, "context-reference signing key rotated");
      }, config.contextRefs.rotateEverySec * 1000).unref();

  const source = config.policies.paths.length > 0 ? policyFileSource(config.policies.paths) : undefined;
  // `outrig up`: the dev token's principal holds role `admin`; make sure that role can act.
  const roles =
    runtime.devToken && !config.policies.roles.admin
      ? { ...config.policies.roles, admin: ["*"] }
      : config.policies.roles;
  const policies = await PolicyEngine.create({
    ...(source ? { source } : {}),
    roles,
    decisionCacheSize: config.policies.decisionCacheSize,
    bus,
    ...(logger ? { logger } : {}),
  });
  let watcher: PolicyWatcher | undefined;
  if (source && config.policies.watch) watcher = watchPolicyFiles(policies, config.policies.paths);

  let store: RateLimitStore | undefined;
  if (config.rateLimits.rules.length > 0) {
    store = config.rateLimits.redisUrl
      ? await RedisRateLimitStore.connect(config.rateLimits.redisUrl)
      : new MemoryRateLimitStore();
  }
  const audit = new AuditLogger({
    ...(config.audit.file ? { filePath: config.audit.file } : {}),
    ...(logger ? { logger } : {}),
    allowSampleRate: config.audit.allowSampleRate,
  });

  const authority = new Authority({
    authenticator: new Authenticator({
      ...(jwt ? { jwt } : {}),
      apiKeys: new ApiKeyAuthenticator(MemoryApiKeyStore.fromValidated(config.apiKeys), {
        realm: config.realm,
      }),
      ...(runtime.devToken
        ? { devToken: new DevTokenAuthenticator({ ...runtime.devToken, realm: config.realm }) }
        : {}),
      ...(config.mtls && config.mtls.identities.length > 0
        ? { mtls: new MtlsAuthenticator(config.mtls.identities, config.realm) }
        : {}),
      revocations,
      realm: config.realm,
      ...(logger ? { logger } : {}),
    }),
    policies,
    contextRefs: new ContextRefService({ keys: keyRing, ttlSec: config.contextRefs.ttlSec, revocations }),
    sessions: new MemorySessionBindingStore(config.sessions),
    bus,
    revocations,
    ...(store
      ? {
          rateLimiter: new RateLimiter({
            store,
            rules: config.rateLimits.rules,
            failOpen: config.rateLimits.failOpen,
            ...(logger ? { logger } : {}),
          }),
        }
      : {}),
    audit,
  });
  return {
    authority,
    async close() {
      clearInterval(rotation);
      watcher?.close();
      await audit.close();
      await store?.close?.();
    },
  };
}
