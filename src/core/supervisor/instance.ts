import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { toJson } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { fromGrpcError } from "../../errors/index.ts";
import { Health, HealthCheckResponse_ServingStatus as Serving } from "../../gen/grpc/health/v1/health_pb.ts";
import {
  DeploymentMode,
  type ModuleDescriptor,
  ModuleDescriptorSchema,
  type OperationDescriptor,
} from "../../gen/outrig/module/v1/descriptor_pb.ts";
import { ModuleService, ModuleState as ModuleStatePb } from "../../gen/outrig/module/v1/module_service_pb.ts";
import { formatIssues, validateDescriptor, WIRING_PROBE_OPERATION } from "../../spi/descriptor.ts";
import { H2ServiceClient } from "../../spi/h2/client.ts";
import { credentialHeaders } from "../../spi/metadata.ts";
import { mtlsClientOptions, type TlsMaterial } from "../../spi/tls.ts";
import { negotiateSpiVersion, SUPPORTED_SPI_VERSIONS } from "../../spi/versions.ts";
import type { HealthConfig } from "../config/schema.ts";
import type { ErrorNote, InstanceState, InstanceStatus } from "../types.ts";
import type { ExitInfo } from "./process-launch.ts";

/** The steps of the start sequence after the handshake, in order. */
export const BRING_UP_STEPS = [
  "descriptor",
  "spi-negotiation",
  "initialize",
  "health",
  "proof-of-wiring",
] as const;
export type BringUpStep = (typeof BRING_UP_STEPS)[number];

/** A start that failed for a reason worth showing the operator as is. */
export class StartError extends Error {
  override name = "StartError";
  /** The step of the start sequence that failed, when it is known. */
  step: BringUpStep | undefined;
  constructor(
    message: string,
    /** Permanent problems (bad descriptor, SPI mismatch) are not retried. */
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** Optional additions to the start sequence. */
export interface BringUpHooks {
  /**
   * Further checks of the descriptor (the manifest's), run right after GetDescriptor,
   * before SPI negotiation and Initialize. Each string is one problem; any problem is a
   * permanent start failure.
   */
  checkDescriptor?: (descriptor: ModuleDescriptor) => string[];
  /** What the further checks compare against, for the failure message ("its manifest x.yaml"). */
  checkedAgainst?: string;
  /** Called as each step completes, with what it found (`outrig module smoke` prints these). */
  onStep?: (step: BringUpStep, detail: string) => void;
}

export interface InitializeParams {
  config: Record<string, unknown>;
  coreAddress: string;
  moduleCredential: string;
  trace: { otlpEndpoint: string; sampleRatio: number; serviceName: string };
  logLevel: string;
}

/**
 * One module instance as the core sees it: its process (when supervised), its SPI
 * client, its lifecycle state, and the in-flight count the balancer uses.
 */
export class ModuleInstance {
  state: InstanceState = "starting";
  pid: number | undefined;
  child: ChildProcess | undefined;
  exited: Promise<ExitInfo> | undefined;
  address: string | undefined;
  client: H2ServiceClient<typeof ModuleService> | undefined;
  descriptor: ModuleDescriptor | undefined;
  spiVersion: string | undefined;
  /** Invocations the core has outstanding at this instance. */
  outstanding = 0;
  readonly startedAt = new Date();
  readyAt: Date | undefined;
  condition: { code: string; reason: string } | undefined;
  lastError: ErrorNote | undefined;
  /** Set by the supervisor when it stops this instance on purpose. */
  stopping = false;
  #health: H2ServiceClient<typeof Health> | undefined;
  /** The descriptor's operations by name, built once when the descriptor is accepted. */
  #operations = new Map<string, OperationDescriptor>();
  #healthTimer: NodeJS.Timeout | undefined;
  #healthFailures = 0;
  #idleWaiters: Array<() => void> = [];
  #listeners: Array<(state: InstanceState) => void> = [];

  constructor(
    readonly id: string,
    readonly moduleId: string,
    readonly deployment: "supervised" | "attached",
    readonly generation: number,
    /** Secret the core presents to the module. */
    readonly coreSecret: string,
    /** Credential the module presents to the core. */
    readonly moduleCredential: string,
    readonly logger: Logger,
  ) {}

  get routable(): boolean {
    return (this.state === "ready" || this.state === "degraded") && !this.stopping;
  }

  onStateChange(listener: (state: InstanceState) => void): void {
    this.#listeners.push(listener);
  }

  setState(state: InstanceState): void {
    if (this.state === state) return;
    const previous = this.state;
    this.state = state;
    if (state === "ready" && !this.readyAt) this.readyAt = new Date();
    this.logger.debug({ from: previous, to: state }, "instance state");
    for (const listener of this.#listeners) listener(state);
  }

  noteError(message: string): void {
    this.lastError = { message, at: new Date().toISOString() };
  }

  #tls: ReturnType<typeof mtlsClientOptions> | undefined;

  /** Connects the SPI client; the core's secret goes on every call, over mTLS for TCP when configured. */
  connect(address: string, tls?: TlsMaterial): void {
    this.address = address;
    // The channel ignores TLS on a Unix socket.
    this.#tls = tls ? mtlsClientOptions(tls) : undefined;
    const metadata = credentialHeaders(this.coreSecret);
    this.client = new H2ServiceClient(ModuleService, address, { metadata, tls: this.#tls });
    this.#health = new H2ServiceClient(Health, address, { metadata, channel: this.client.channel });
  }

  /**
   * The start sequence after the module listens: descriptor, SPI negotiation (a
   * mismatch fails before any other call), Initialize, SERVING, proof of wiring.
   */
  async bringUp(
    expectedModuleId: string,
    params: InitializeParams,
    deadline: number,
    hooks: BringUpHooks = {},
  ): Promise<void> {
    let current: BringUpStep = "descriptor";
    const done = (detail: string, next?: BringUpStep) => {
      hooks.onStep?.(current, detail);
      if (next) current = next;
    };
    try {
      await this.#bringUp(expectedModuleId, params, deadline, hooks, done);
    } catch (error) {
      if (error instanceof StartError) error.step ??= current;
      throw error;
    }
  }

  async #bringUp(
    expectedModuleId: string,
    params: InitializeParams,
    deadline: number,
    hooks: BringUpHooks,
    done: (detail: string, next?: BringUpStep) => void,
  ): Promise<void> {
    const client = this.client!;
    const callDeadline = () => Math.min(deadline, Date.now() + 10_000);
    const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      try {
        return await run();
      } catch (error) {
        if (error instanceof StartError) throw error;
        const outrig = fromGrpcError(error, "module");
        throw new StartError(`${this.#who()}: ${name} failed: ${outrig.message} (${outrig.code})`, false);
      }
    };

    const descriptor = await step("GetDescriptor", async () => {
      const res = await client.unary(
        "getDescriptor",
        { coreSpiVersions: [...SUPPORTED_SPI_VERSIONS] },
        { deadline: callDeadline() },
      );
      if (!res.descriptor) throw new StartError(`${this.#who()} returned no descriptor`, true);
      return res.descriptor;
    });
    const issues = validateDescriptor(descriptor);
    if (issues.length > 0) {
      throw new StartError(`${this.#who()} sent an invalid descriptor: ${formatIssues(issues)}`, true);
    }
    if (descriptor.moduleId !== expectedModuleId) {
      throw new StartError(
        `${this.#who()} describes itself as ${JSON.stringify(descriptor.moduleId)}, but is configured as ${JSON.stringify(expectedModuleId)}`,
        true,
      );
    }
    const wanted = this.deployment === "supervised" ? DeploymentMode.SUPERVISED : DeploymentMode.ATTACHED;
    if (!descriptor.deploymentModes.includes(wanted)) {
      throw new StartError(`${this.#who()} does not support ${this.deployment} deployment`, true);
    }
    const mismatches = hooks.checkDescriptor?.(descriptor) ?? [];
    if (mismatches.length > 0) {
      throw new StartError(
        `${this.#who()} does not match ${hooks.checkedAgainst ?? "what it must be"}: ${mismatches.join("; ")}; refusing before Initialize`,
        true,
      );
    }
    done(
      `${descriptor.moduleId} ${descriptor.moduleVersion}, ${descriptor.operations.length} operation(s)${hooks.checkDescriptor ? `; agrees with ${hooks.checkedAgainst ?? "the checks"}` : ""}`,
      "spi-negotiation",
    );
    const spiVersion = negotiateSpiVersion(SUPPORTED_SPI_VERSIONS, descriptor.spiVersions);
    if (!spiVersion) {
      throw new StartError(
        `SPI version mismatch: the core supports [${SUPPORTED_SPI_VERSIONS.join(", ")}], ${this.#who()} supports [${descriptor.spiVersions.join(", ")}]; refusing before any traffic`,
        true,
      );
    }
    this.descriptor = descriptor;
    this.#operations = new Map(descriptor.operations.map((op) => [op.name, op]));
    this.spiVersion = spiVersion;
    done(`SPI ${spiVersion}`, "initialize");

    this.setState("initializing");
    const init = await step("Initialize", () =>
      client.unary(
        "initialize",
        {
          spiVersion,
          instanceId: this.id,
          deploymentMode: wanted,
          config: params.config as never,
          core: { address: params.coreAddress, moduleCredential: params.moduleCredential },
          trace: params.trace,
          logLevel: params.logLevel,
        },
        { deadline: callDeadline() },
      ),
    );
    if (init.state === ModuleStatePb.DEGRADED)
      this.condition = { code: "module.initialize.degraded", reason: init.message };
    done(
      init.state === ModuleStatePb.DEGRADED ? `DEGRADED: ${init.message}` : ModuleStatePb[init.state],
      "health",
    );

    await step("waiting for SERVING", () => this.#waitServing(deadline));
    done("SERVING", "proof-of-wiring");
    await step("proof of wiring", () => this.#proveWiring(callDeadline()));
    done("an unauthenticated call was denied; the probe round-tripped");
    this.setState(init.state === ModuleStatePb.DEGRADED ? "degraded" : "ready");
  }

  async #waitServing(deadline: number): Promise<void> {
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      const res = await this.#health!.unary(
        "check",
        { service: ModuleService.typeName },
        { deadline: Math.min(deadline, Date.now() + 2000) },
      ).catch((error) => {
        if (Date.now() >= deadline) throw error;
        return undefined;
      });
      if (res?.status === Serving.SERVING) return;
      if (Date.now() + delay >= deadline) {
        throw new StartError(`${this.#who()} never reported SERVING before its startup timeout`, false);
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /**
   * Ready means the deny path works: a call without the core's secret must be
   * refused with UNAUTHENTICATED, and the probe operation must round-trip through
   * the very client the router uses.
   */
  async #proveWiring(deadline: number): Promise<void> {
    const anonymous = new H2ServiceClient(ModuleService, this.address!, { tls: this.#tls });
    try {
      await anonymous.unary("invoke", { operation: WIRING_PROBE_OPERATION }, { deadline });
      throw new StartError(
        `${this.#who()} accepted an SPI call without the core's credential; refusing to route traffic to it`,
        true,
      );
    } catch (error) {
      if (error instanceof StartError) throw error;
      const outrig = fromGrpcError(error, "module");
      if (outrig.category !== "UNAUTHENTICATED") {
        throw new StartError(
          `${this.#who()} answered an unauthenticated call with ${outrig.category} instead of UNAUTHENTICATED`,
          true,
        );
      }
    } finally {
      anonymous.close();
    }
    const nonce = randomBytes(16);
    const res = await this.client!.unary(
      "invoke",
      { operation: WIRING_PROBE_OPERATION, payload: nonce, contentType: "application/octet-stream" },
      { deadline },
    );
    if (!Buffer.from(res.payload).equals(nonce)) {
      throw new StartError(`${this.#who()} answered the wiring probe with the wrong payload`, true);
    }
  }

  /** Polls health; `onUnhealthy` runs once the failure threshold is reached. */
  startHealthChecks(config: HealthConfig, onUnhealthy: (reason: string) => void): void {
    const graceEnds = Date.now() + config.grace_period_ms;
    const poll = async () => {
      if (this.stopping || !this.#health) return;
      let failure: string | undefined;
      try {
        const res = await this.#health.unary(
          "check",
          { service: ModuleService.typeName },
          // A slow answer is not a dead module: allow at least a second, at most five.
          { deadline: Date.now() + Math.max(1000, Math.min(config.poll_interval_ms, 5000)) },
        );
        if (res.status !== Serving.SERVING && this.state !== "draining")
          failure = `health is ${Serving[res.status]}`;
      } catch (error) {
        failure = `health check failed: ${fromGrpcError(error, "module").code}`;
      }
      if (this.stopping) return;
      if (!failure) {
        this.#healthFailures = 0;
      } else if (Date.now() >= graceEnds) {
        this.#healthFailures++;
        this.logger.warn({ failures: this.#healthFailures, threshold: config.failure_threshold }, failure);
        if (this.#healthFailures >= config.failure_threshold) {
          this.stopHealthChecks();
          onUnhealthy(`${config.failure_threshold} consecutive failed health checks (${failure})`);
          return;
        }
      }
      this.#healthTimer = setTimeout(poll, config.poll_interval_ms);
      this.#healthTimer.unref();
    };
    this.#healthTimer = setTimeout(poll, config.poll_interval_ms);
    this.#healthTimer.unref();
  }

  stopHealthChecks(): void {
    clearTimeout(this.#healthTimer);
    this.#healthTimer = undefined;
  }

  begin(): void {
    this.outstanding++;
  }

  end(): void {
    this.outstanding--;
    if (this.outstanding === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves when the core has nothing outstanding at this instance, or at the deadline. */
  waitIdle(timeoutMs: number): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Takes the instance out of routing and drains it: the core's outstanding calls and
   * the module's own in-flight work finish, bounded by the deadline.
   */
  async drain(deadlineMs: number, reason: string): Promise<void> {
    this.stopping = true;
    this.stopHealthChecks();
    if (this.state !== "failed" && this.state !== "stopped") this.setState("draining");
    const deadline = Date.now() + deadlineMs;
    await this.waitIdle(deadlineMs);
    if (this.client) {
      await this.client
        .unary(
          "drain",
          { deadlineMs: Math.max(1, deadline - Date.now()), reason },
          { deadline: deadline + 1000 },
        )
        .catch((error) => this.logger.debug({ code: fromGrpcError(error).code }, "drain call failed"));
    }
  }

  /** Asks the module to exit; the caller kills the process if it has not exited by the deadline. */
  async shutdown(deadlineMs: number): Promise<void> {
    this.stopping = true;
    this.stopHealthChecks();
    await this.client
      ?.unary("shutdown", { deadlineMs }, { deadline: Date.now() + Math.max(500, deadlineMs) })
      .catch(() => {});
  }

  close(): void {
    this.stopHealthChecks();
    this.client?.close();
  }

  status(): InstanceStatus {
    const status: InstanceStatus = {
      id: this.id,
      state: this.state,
      deployment: this.deployment,
      generation: this.generation,
      startedAt: this.startedAt.toISOString(),
      inFlight: this.outstanding,
    };
    if (this.pid !== undefined) status.pid = this.pid;
    if (this.address) status.address = this.address;
    if (this.descriptor) status.version = this.descriptor.moduleVersion;
    if (this.readyAt) status.readyAt = this.readyAt.toISOString();
    if (this.condition) status.condition = this.condition;
    if (this.lastError) status.lastError = this.lastError;
    return status;
  }

  /** The declared operation of that name, once the descriptor is accepted. */
  operation(name: string): OperationDescriptor | undefined {
    return this.#operations.get(name);
  }

  descriptorJson(): unknown {
    return this.descriptor ? toJson(ModuleDescriptorSchema, this.descriptor) : undefined;
  }

  #who(): string {
    return `module ${JSON.stringify(this.moduleId)} (instance ${this.id})`;
  }
}
