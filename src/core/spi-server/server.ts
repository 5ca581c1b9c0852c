import { chmodSync, rmSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { Authority } from "../../authority/authority.ts";
import { OutrigError } from "../../errors/index.ts";
import { AuthPolicyService } from "../../gen/outrig/core/v1/auth_policy_pb.ts";
import { CatalogService } from "../../gen/outrig/core/v1/catalog_pb.ts";
import { ConfigSecretsService } from "../../gen/outrig/core/v1/config_secrets_pb.ts";
import { Condition, ObservabilityService } from "../../gen/outrig/core/v1/observability_pb.ts";
import { PluginService } from "../../gen/outrig/core/v1/plugin_pb.ts";
import { RegistrationService } from "../../gen/outrig/core/v1/registration_pb.ts";
import { SessionService } from "../../gen/outrig/core/v1/session_pb.ts";
import { secretsEqual } from "../../spi/credentials.ts";
import { addService } from "../../spi/grpc-service.ts";
import { bearerToken } from "../../spi/metadata.ts";
import type { TlsMaterial } from "../../spi/tls.ts";
import type { OutrigConfig } from "../config/schema.ts";
import type { SecretScrubber } from "../secrets.ts";
import type { ModuleInstance } from "../supervisor/instance.ts";
import type { Supervisor } from "../supervisor/supervisor.ts";
import { authPolicyHandlers } from "./auth-policy.ts";
import { describeSecretRef, resolveSecretRef } from "./secret-refs.ts";
import { sessionHandlers } from "./sessions.ts";

export interface SpiServerDeps {
  config: OutrigConfig;
  authority: Authority;
  supervisor: Supervisor;
  logger: Logger;
  scrubber: SecretScrubber;
}

const MAX_AUDIT_BATCH = 1000;

/**
 * The core's SPI server. Modules authenticate with the credential they received in
 * Initialize; RegistrationService alone takes the bootstrap credential. Anything else
 * is UNAUTHENTICATED.
 */
export class SpiServer {
  readonly #server = new grpc.Server({ "grpc.max_receive_message_length": 8 * 1024 * 1024 });
  readonly #bootstrap: () => string | undefined;

  constructor(private readonly deps: SpiServerDeps) {
    const ref = deps.config.spi.bootstrap_token;
    this.#bootstrap = () => (ref ? resolveSecretRef(ref) : undefined);
    deps.scrubber.add(this.#bootstrap());
    const moduleAuth = {
      authorize: (call: { metadata: grpc.Metadata }) => this.#authorizeModule(call.metadata),
    };
    addService(this.#server, RegistrationService, this.#registration(), {
      authorize: (call) => this.#authorizeBootstrap(call.metadata),
    });
    addService(this.#server, ConfigSecretsService, this.#configSecrets(), moduleAuth);
    addService(this.#server, ObservabilityService, this.#observability(), moduleAuth);
    addService(
      this.#server,
      AuthPolicyService,
      authPolicyHandlers(deps.authority, (metadata) => this.#caller(metadata as grpc.Metadata)),
      moduleAuth,
    );
    // Implemented by later work; until then every RPC answers UNSUPPORTED in the envelope.
    addService(this.#server, CatalogService, {}, moduleAuth);
    addService(this.#server, PluginService, {}, moduleAuth);
    addService(
      this.#server,
      SessionService,
      sessionHandlers(deps.authority, (metadata) => this.#caller(metadata as grpc.Metadata)),
      moduleAuth,
    );
  }

  /** The instance each authorized call's credential resolved to, keyed by the call's metadata. */
  readonly #callers = new WeakMap<grpc.Metadata, ModuleInstance>();

  /** The calling instance; handlers run only after `#authorizeModule` resolved it. */
  #caller(metadata: grpc.Metadata): ModuleInstance {
    return this.#callers.get(metadata)!;
  }

  #authorizeModule(metadata: grpc.Metadata): OutrigError | undefined {
    const presented = bearerToken(metadata);
    if (presented === undefined) return OutrigError.fromCode("spi.auth.missing_credential");
    const instance = this.deps.supervisor.credentials.lookup(presented);
    if (!instance) return OutrigError.fromCode("spi.auth.invalid_credential");
    this.#callers.set(metadata, instance);
    return undefined;
  }

  #authorizeBootstrap(metadata: grpc.Metadata): OutrigError | undefined {
    const presented = bearerToken(metadata);
    if (presented === undefined) return OutrigError.fromCode("spi.auth.missing_credential");
    const expected = this.#bootstrap();
    if (!expected || !secretsEqual(presented, expected))
      return OutrigError.fromCode("spi.auth.invalid_credential");
    return undefined;
  }

  #registration(): Parameters<typeof addService<typeof RegistrationService>>[2] {
    return {
      register: (req) => {
        const group = this.deps.supervisor.attached(req.moduleId);
        if (!group) throw OutrigError.fromCode("core.registration.unknown_module");
        const instanceId = group.register({
          instanceId: req.instanceId,
          address: req.address,
          coreSecret: req.coreSecret,
        });
        this.deps.logger.info(
          { module_id: req.moduleId, instance_id: instanceId, address: req.address },
          "module registered",
        );
        return { instanceId, heartbeatIntervalMs: this.deps.config.spi.heartbeat_interval_ms };
      },
      deregister: (req) => {
        this.deps.supervisor.attached(req.moduleId)?.deregister(req.instanceId, req.reason.slice(0, 200));
        return {};
      },
    };
  }

  #configSecrets(): Parameters<typeof addService<typeof ConfigSecretsService>>[2] {
    return {
      getConfig: (_req, call) => {
        const instance = this.#caller(call.metadata);
        const module = this.deps.config.modules.find((m) => m.id === instance.moduleId);
        return { config: (module?.config ?? {}) as never, version: "1" };
      },
      resolveSecrets: (req, call) => {
        const instance = this.#caller(call.metadata);
        const module = this.deps.config.modules.find((m) => m.id === instance.moduleId);
        if (req.names.length > 100) throw OutrigError.fromCode("core.config.too_many_secrets");
        const secrets = req.names.map((name) => {
          const ref = module && Object.hasOwn(module.secrets, name) ? module.secrets[name] : undefined;
          const value = ref ? resolveSecretRef(ref) : undefined;
          if (ref && value === undefined) {
            this.deps.logger.warn(
              { module_id: instance.moduleId, secret: name },
              `secret ${JSON.stringify(name)} refers to ${describeSecretRef(ref)}, which is not set`,
            );
          }
          if (value === undefined) throw OutrigError.fromCode("core.config.secret_not_found");
          this.deps.scrubber.add(value);
          return { name, value: Buffer.from(value, "utf8") };
        });
        return { secrets };
      },
    };
  }

  #observability(): Parameters<typeof addService<typeof ObservabilityService>>[2] {
    return {
      reportStatus: (req, call) => {
        const instance = this.#caller(call.metadata);
        if (req.condition === Condition.UNSPECIFIED) throw OutrigError.fromCode("core.observability.invalid");
        const code = req.code.slice(0, 128);
        const reason = req.reason.slice(0, 500);
        if (req.condition === Condition.DEGRADED) {
          instance.condition = { code, reason };
          if (instance.state === "ready") instance.setState("degraded");
          instance.logger.warn({ code, reason }, "module reports degraded");
        } else {
          instance.condition = undefined;
          if (instance.state === "degraded") instance.setState("ready");
          instance.logger.info({ code }, "module reports healthy");
        }
        return {};
      },
      emitAuditEvents: (req, call) => {
        const instance = this.#caller(call.metadata);
        if (req.events.length > MAX_AUDIT_BATCH) throw OutrigError.fromCode("core.observability.invalid");
        const audit = this.deps.logger.child({
          audit: true,
          module_id: instance.moduleId,
          instance_id: instance.id,
        });
        for (const e of req.events) {
          audit.info(
            {
              action: e.action.slice(0, 200),
              resource: e.resource.slice(0, 500),
              outcome: e.outcome.slice(0, 32),
              correlation_id: e.correlationId.slice(0, 128),
              trace_id: e.traceId.slice(0, 64),
              attributes: e.attributes,
            },
            "audit event",
          );
        }
        return { accepted: req.events.length };
      },
    };
  }

  /** Listens on the private UDS (mode 0600) and, when configured, on TCP for attached modules. */
  async listen(
    socketPath: string,
    tcpAddress: string,
    tls?: TlsMaterial,
  ): Promise<{ unix: string; tcp?: string }> {
    rmSync(socketPath, { force: true });
    const unix = `unix://${socketPath}`;
    await this.#bind(unix, grpc.ServerCredentials.createInsecure());
    chmodSync(socketPath, 0o600);
    if (!tcpAddress) return { unix };
    const credentials = tls
      ? grpc.ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true)
      : grpc.ServerCredentials.createInsecure();
    const port = await this.#bind(tcpAddress, credentials);
    return { unix, tcp: tcpAddress.replace(/:0$/, `:${port}`) };
  }

  #bind(address: string, credentials: grpc.ServerCredentials): Promise<number> {
    return new Promise((resolve, reject) =>
      this.#server.bindAsync(address, credentials, (error, port) =>
        error
          ? reject(new Error(`cannot listen for the SPI on ${address}: ${error.message}`))
          : resolve(port),
      ),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, 2000);
      this.#server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
