import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { fromGrpcError } from "../errors/index.ts";
import {
  AuthPolicyService,
  type CheckPermissionsResponse,
  type ResolveCallerResponse,
} from "../gen/outrig/core/v1/auth_policy_pb.ts";
import { ConfigSecretsService } from "../gen/outrig/core/v1/config_secrets_pb.ts";
import { Condition, ObservabilityService } from "../gen/outrig/core/v1/observability_pb.ts";
import { H2ServiceClient } from "../spi/h2/client.ts";
import { credentialHeaders } from "../spi/metadata.ts";
import { mtlsClientOptions, type TlsMaterial } from "../spi/tls.ts";

export interface AuditEventInput {
  action: string;
  resource: string;
  outcome: "allow" | "deny" | "success" | "failure";
  correlationId?: string;
  traceId?: string;
  attributes?: Record<string, string>;
}

/**
 * The module's side of the core SPI: one channel to the core, authenticated with the
 * module credential from Initialize. Errors reject as OutrigError.
 */
export class CoreConnection {
  readonly #config: H2ServiceClient<typeof ConfigSecretsService>;
  readonly #observability: H2ServiceClient<typeof ObservabilityService>;
  readonly #auth: H2ServiceClient<typeof AuthPolicyService>;

  constructor(address: string, credential: string, tls?: TlsMaterial) {
    const metadata = credentialHeaders(credential);
    const tlsOptions = tls ? mtlsClientOptions(tls) : undefined;
    this.#config = new H2ServiceClient(ConfigSecretsService, address, { metadata, tls: tlsOptions });
    this.#auth = new H2ServiceClient(AuthPolicyService, address, { metadata, channel: this.#config.channel });
    this.#observability = new H2ServiceClient(ObservabilityService, address, {
      metadata,
      channel: this.#config.channel,
    });
  }

  /** The module's own configuration, as the core holds it now. */
  async config(): Promise<Record<string, unknown>> {
    const res = await this.#config.unary("getConfig", {}, { deadline: Date.now() + 5000 }).catch(rethrow);
    return (res.config ?? {}) as Record<string, unknown>;
  }

  /** Resolves secrets granted to this module; an unknown name rejects NOT_FOUND. */
  async secrets(names: string[]): Promise<Record<string, Uint8Array>> {
    const res = await this.#config
      .unary("resolveSecrets", { names }, { deadline: Date.now() + 5000 })
      .catch(rethrow);
    return Object.fromEntries(res.secrets.map((s) => [s.name, s.value]));
  }

  /** Tells the core the module is healthy, or degraded and why. */
  async reportStatus(condition: "healthy" | "degraded", code: string, reason: string): Promise<void> {
    await this.#observability
      .unary(
        "reportStatus",
        { condition: condition === "healthy" ? Condition.HEALTHY : Condition.DEGRADED, code, reason },
        { deadline: Date.now() + 5000 },
      )
      .catch(rethrow);
  }

  async audit(events: AuditEventInput[]): Promise<number> {
    const res = await this.#observability
      .unary(
        "emitAuditEvents",
        {
          events: events.map((e) => ({
            time: timestampFromDate(new Date()),
            action: e.action,
            resource: e.resource,
            outcome: e.outcome,
            correlationId: e.correlationId ?? "",
            traceId: e.traceId ?? "",
            attributes: e.attributes ?? {},
          })),
        },
        { deadline: Date.now() + 5000 },
      )
      .catch(rethrow);
    return res.accepted;
  }

  /** AuthPolicyService.ResolveCaller: authenticates what a caller presented to this module. */
  async resolveCaller(request: {
    headers: Record<string, string>;
    transport: string;
    clientIp?: string;
    sessionId?: string;
  }): Promise<ResolveCallerResponse> {
    return this.#auth
      .unary(
        "resolveCaller",
        {
          headers: request.headers,
          transport: request.transport,
          clientIp: request.clientIp ?? "",
          sessionId: request.sessionId ?? "",
        },
        { deadline: Date.now() + 5000 },
      )
      .catch(rethrow);
  }

  /** AuthPolicyService.CheckPermissions for a caller's context reference. */
  async checkPermissions(
    contextRef: string,
    checks: Array<{
      action: string;
      resource: { type: string; id: string; attributes?: Record<string, string> };
      context?: Record<string, string>;
    }>,
  ): Promise<CheckPermissionsResponse> {
    return this.#auth
      .unary(
        "checkPermissions",
        {
          contextRef,
          checks: checks.map((c) => ({
            action: c.action,
            resource: { type: c.resource.type, id: c.resource.id, attributes: c.resource.attributes ?? {} },
            context: c.context ?? {},
          })),
        },
        { deadline: Date.now() + 5000 },
      )
      .catch(rethrow);
  }

  close(): void {
    this.#config.close();
  }
}

function rethrow(error: unknown): never {
  throw fromGrpcError(error, "core");
}
