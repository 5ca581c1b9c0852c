import { join } from "node:path";
import type { Logger } from "pino";
import { OutrigError } from "../../errors/index.ts";
import type { TrustedSigners } from "../../manifest/index.ts";
import type { OutrigConfig } from "../config/schema.ts";
import type { CoreMetrics } from "../metrics.ts";
import type { SecretScrubber } from "../secrets.ts";
import type { ModuleAdmin, ModuleStatus, Readiness, UpgradeSpec } from "../types.ts";
import { AttachedModule } from "./attached-module.ts";
import { CredentialRegistry } from "./credentials.ts";
import { refusalMessage, signatureRefusal } from "./manifest-admission.ts";
import type { ModuleGroup } from "./module-group.ts";
import type { Reaper } from "./reaper.ts";
import { SupervisedModule } from "./supervised-module.ts";

export interface SupervisorDeps {
  logger: Logger;
  metrics: CoreMetrics;
  scrubber: SecretScrubber;
  runDir: string;
  reaper: Reaper | undefined;
  /** Address of the core's SPI server that supervised modules call (its Unix socket). */
  coreAddress: string;
  /** Address attached modules call back on (over TCP); known once the listener is bound. */
  attachedCoreAddress: () => string;
  tls?: import("../../spi/tls.ts").TlsMaterial;
}

/** Owns every configured module; the admin API and readiness read from here. */
export class Supervisor implements ModuleAdmin {
  readonly credentials = new CredentialRegistry();
  readonly #groups = new Map<string, ModuleGroup>();

  constructor(config: OutrigConfig, deps: SupervisorDeps) {
    const groupDeps = {
      logger: deps.logger,
      metrics: deps.metrics,
      scrubber: deps.scrubber,
      credentials: this.credentials,
      tls: deps.tls,
      initialize: (moduleId: string, deployment: "supervised" | "attached") => ({
        config: config.modules.find((m) => m.id === moduleId)?.config ?? {},
        coreAddress: deployment === "attached" ? deps.attachedCoreAddress() : deps.coreAddress,
        trace: {
          otlpEndpoint: config.telemetry.otlp_endpoint,
          sampleRatio: config.telemetry.sample_ratio,
          serviceName: `outrig-module-${moduleId}`,
        },
        logLevel: config.logging.level,
      }),
    };
    let sockets = 0;
    const socketPath = () => join(deps.runDir, `${++sockets}.sock`);
    for (const module of config.modules) {
      const group =
        module.launch === "attached"
          ? new AttachedModule(module, groupDeps)
          : new SupervisedModule(module, {
              ...groupDeps,
              socketPath,
              reaper: deps.reaper,
              logLevel: config.logging.level,
            });
      this.#groups.set(module.id, group);
    }
  }

  /**
   * Under `security.require_signed`: verifies every module's manifest signature and
   * refuses, by name, each module whose manifest is missing, unsigned, tampered or
   * signed by an untrusted key. Refused modules are failed and never launched; the
   * others are unaffected. Call before `start`.
   */
  async admit(trust: TrustedSigners): Promise<void> {
    await Promise.all(
      [...this.#groups.values()].map(async (group) => {
        const refusal = await signatureRefusal(group.config, trust);
        if (refusal) group.refuse(refusal, refusalMessage(refusal));
      }),
    );
  }

  start(): void {
    for (const group of this.#groups.values()) if (group.refused === undefined) group.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#groups.values()].map((g) => g.stop()));
  }

  group(moduleId: string): ModuleGroup | undefined {
    return this.#groups.get(moduleId);
  }

  attached(moduleId: string): AttachedModule | undefined {
    const group = this.#groups.get(moduleId);
    return group instanceof AttachedModule ? group : undefined;
  }

  list(): ModuleStatus[] {
    return [...this.#groups.values()].map((g) => g.status());
  }

  get(moduleId: string): ModuleStatus | undefined {
    return this.#groups.get(moduleId)?.status();
  }

  #supervised(moduleId: string): SupervisedModule {
    const group = this.#groups.get(moduleId);
    if (!group) throw OutrigError.fromCode("core.invoke.module_not_found");
    if (!(group instanceof SupervisedModule)) {
      throw OutrigError.fromCode("core.admin.not_supervised");
    }
    return group;
  }

  restart(moduleId: string): Promise<void> {
    return this.#supervised(moduleId).replaceAll({}, "rolling restart");
  }

  upgrade(moduleId: string, spec: UpgradeSpec): Promise<void> {
    return this.#supervised(moduleId).replaceAll(spec, "upgrade");
  }

  drainInstance(moduleId: string, instanceId: string): Promise<void> {
    return this.#supervised(moduleId).replaceInstance(instanceId);
  }

  readiness(): Readiness {
    const modules = [...this.#groups.values()].map((g) => {
      const entry: Readiness["modules"][number] = { id: g.id, required: g.config.required, state: g.state };
      if (g.lastError && g.state !== "ready") entry.reason = g.lastError.message;
      return entry;
    });
    const ready = modules.every((m) => !m.required || m.state === "ready" || m.state === "degraded");
    return { ready, modules };
  }

  /** Resolves once every required module is ready, or rejects after `timeoutMs` naming the laggards. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.readiness();
      if (r.ready) return;
      const failed = r.modules.filter((m) => m.required && m.state === "failed");
      if (failed.length > 0 || Date.now() >= deadline) {
        const names = r.modules
          .filter((m) => m.required && m.state !== "ready" && m.state !== "degraded")
          .map((m) => `${m.id} (${m.state}${m.reason ? `: ${m.reason}` : ""})`);
        throw new Error(`modules not ready: ${names.join("; ")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
