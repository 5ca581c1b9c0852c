/**
 * `outrig module smoke`: launches one module exactly as the core would (the config
 * loader's view of its manifest, launchModule, ModuleInstance's start sequence, the
 * real SPI server for Initialize's core address), makes one round trip, drains and
 * shuts it down, timing every step. Nothing on the module side is faked, and the
 * module's process group is killed whatever happens, so no process outlives a run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import pino from "pino";
import { type AuthorityHandle, createAuthority } from "../authority/config.ts";
import { ConfigError, validateConfig } from "../core/config/load.ts";
import type { OutrigConfig, SupervisedModuleConfig } from "../core/config/schema.ts";
import { CoreMetrics } from "../core/metrics.ts";
import { SecretScrubber } from "../core/secrets.ts";
import { SpiServer } from "../core/spi-server/server.ts";
import { BRING_UP_STEPS, type BringUpStep, ModuleInstance, StartError } from "../core/supervisor/instance.ts";
import { manifestHooks } from "../core/supervisor/manifest-admission.ts";
import { type ExitInfo, LaunchError, launchModule } from "../core/supervisor/process-launch.ts";
import { moduleEnv, resolveCommand } from "../core/supervisor/supervised-module.ts";
import { Supervisor } from "../core/supervisor/supervisor.ts";
import { envelopeFromPb, fromGrpcError, OutrigError } from "../errors/index.ts";
import type {
  InvokeStreamRequestSchema,
  InvokeStreamResponse,
} from "../gen/outrig/module/v1/module_service_pb.ts";
import { newSecret } from "../spi/credentials.ts";
import { MD } from "../spi/metadata.ts";
import type { SmokeReport, SmokeRoundTrip, SmokeStep, SmokeStepName } from "./report.ts";

export interface SmokeOptions {
  /** Path of the module's manifest. */
  manifest: string;
  /** Operation of the round trip; default: the descriptor's first unary operation. */
  operation?: string;
  /** JSON input of the round trip; default `{}`. */
  input?: unknown;
  /** Limit for the whole run, in milliseconds (default 60,000). */
  timeoutMs?: number;
  /** Aborting stops the run (the module is killed); the current step fails. */
  signal?: AbortSignal;
  /** Called as each step ends, for live output. */
  onStep?: (step: SmokeStep) => void;
  /** Every line the module writes (stderr, and stdout after the handshake). */
  onOutput?: (stream: "stdout" | "stderr", line: string) => void;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const OUTPUT_TAIL = 20;
const MAX_CHUNKS = 100;

/** A failed step; the run stops with it. */
class StepFailure extends Error {
  constructor(
    readonly step: SmokeStepName,
    message: string,
  ) {
    super(message);
  }
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
const describeExit = (exit: ExitInfo) =>
  exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

const SMOKE_CONFIG = "outrig module smoke";

/** The config loader reads the manifest and turns it into a launch exactly as `outrig up` would. */
function smokeConfig(path: string): OutrigConfig {
  try {
    return validateConfig(
      { logging: { level: "silent" }, modules: [{ manifest: path }] },
      SMOKE_CONFIG,
      dirname(path),
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // The lines name a config entry the author never wrote; the manifest's path says enough.
    const prefix = `${SMOKE_CONFIG}: modules[0].manifest: `;
    const lines = error.message.split("\n").map((l) => (l.startsWith(prefix) ? l.slice(prefix.length) : l));
    throw new Error(lines.join("\n    "));
  }
}

/** Runs the smoke test; never throws: every outcome is in the report. */
export function smokeModule(options: SmokeOptions): Promise<SmokeReport> {
  return new SmokeRun(options).execute();
}

class SmokeRun {
  readonly #options: SmokeOptions;
  readonly #steps: SmokeStep[] = [];
  readonly #output: string[] = [];
  readonly #deadline: number;
  #startDeadline = 0;
  /** Rejects at the run's deadline or on abort; every step races it. */
  readonly #interrupt: Promise<never>;
  #timer: NodeJS.Timeout | undefined;
  #onAbort: (() => void) | undefined;
  #current: SmokeStepName = "manifest";
  #finished = false;
  #dir: string | undefined;
  #spi: SpiServer | undefined;
  #authority: AuthorityHandle | undefined;
  #instance: ModuleInstance | undefined;
  #pid: number | undefined;
  #exited: Promise<ExitInfo> | undefined;
  /** The launch while it may still be pending (an interrupt can come during the handshake). */
  #launching: Promise<unknown> | undefined;
  #exit: ExitInfo | undefined;

  constructor(options: SmokeOptions) {
    this.#options = options;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#deadline = Date.now() + timeoutMs;
    this.#interrupt = new Promise<never>((_, reject) => {
      this.#timer = setTimeout(
        () => reject(new Error(`timed out: the run took longer than ${timeoutMs} ms`)),
        timeoutMs,
      );
      const { signal } = options;
      if (signal) {
        this.#onAbort = () => reject(new Error("interrupted"));
        if (signal.aborted) this.#onAbort();
        else signal.addEventListener("abort", this.#onAbort, { once: true });
      }
    });
    this.#interrupt.catch(() => {});
  }

  async execute(): Promise<SmokeReport> {
    const started = performance.now();
    // Keys in reading order; the undefined ones are filled in (or dropped from JSON) later.
    const report: SmokeReport = {
      manifest: resolve(this.#options.manifest),
      ok: false,
      module_id: undefined,
      version: undefined,
      profile: undefined,
      failed_step: undefined,
      error: undefined,
      duration_ms: 0,
      steps: this.#steps,
      round_trip: undefined,
      module_output: this.#output,
    };
    try {
      await this.#run(report);
      report.ok = true;
    } catch (error) {
      const failure = error instanceof StepFailure ? error : new StepFailure(this.#current, describe(error));
      report.failed_step = failure.step;
      report.error = failure.message;
    } finally {
      this.#finished = true;
      await this.#cleanup();
      report.duration_ms = Math.round(performance.now() - started);
    }
    return report;
  }

  async #run(report: SmokeReport): Promise<void> {
    const path = report.manifest;
    const { config, module } = await this.#step("manifest", async () => {
      const config = smokeConfig(path);
      const module = config.modules[0] as SupervisedModuleConfig;
      const { manifest, issues } = module.loadedManifest!;
      report.module_id = manifest.id;
      report.version = manifest.version;
      report.profile = manifest.profile;
      const warnings = issues.filter((i) => i.severity === "warning").length;
      return {
        value: { config, module },
        detail: `${manifest.id} ${manifest.version} (${manifest.profile}), valid${warnings ? ` with ${warnings} warning(s)` : ""}`,
      };
    });

    this.#dir = mkdtempSync(join(tmpdir(), "outrig-smoke-"));
    const coreSocket = join(this.#dir, "core.sock");
    // No caller can authenticate to a smoke run's core: only the module talks to it.
    this.#authority = await createAuthority({});
    const instance = this.#newInstance(config, module, coreSocket);
    const launched = await this.#launch(module, instance);
    instance.connect(launched.address);
    await this.#bringUp(module, instance, coreSocket);
    report.round_trip = await this.#roundTrip(module, instance);
    await this.#stop(module, instance);
  }

  /** The core side: a real SPI server (Initialize names its address) and the module's credential on it. */
  #newInstance(config: OutrigConfig, module: SupervisedModuleConfig, coreSocket: string): ModuleInstance {
    const logger = pino({ level: "silent" });
    const scrubber = new SecretScrubber();
    const supervisor = new Supervisor(
      { ...config, modules: [] },
      {
        logger,
        metrics: new CoreMetrics({ processMetrics: false }),
        scrubber,
        runDir: this.#dir!,
        reaper: undefined,
        coreAddress: `unix://${coreSocket}`,
        attachedCoreAddress: () => `unix://${coreSocket}`,
      },
    );
    this.#spi = new SpiServer({
      config,
      supervisor,
      logger,
      scrubber,
      authority: this.#authority!.authority,
    });
    const instance = new ModuleInstance(
      `${module.id}-smoke`,
      module.id,
      "supervised",
      1,
      newSecret(),
      newSecret(),
      logger,
    );
    supervisor.credentials.register(instance.moduleCredential, instance);
    this.#instance = instance;
    return instance;
  }

  async #launch(module: SupervisedModuleConfig, instance: ModuleInstance): Promise<{ address: string }> {
    this.#current = "spawn";
    await this.#spi!.listen(join(this.#dir!, "core.sock"), "");
    // As in the core: one startup deadline covers the handshake and the start sequence.
    this.#startDeadline = Math.min(this.#deadline, Date.now() + module.health.startup_timeout_ms);
    let spawnedAt = performance.now();
    const spawnStarted = spawnedAt;
    const launching = launchModule(
      {
        moduleId: module.id,
        instanceId: instance.id,
        command: resolveCommand(module.command),
        args: module.args,
        env: moduleEnv(module),
        ...(module.workdir === undefined ? {} : { workdir: module.workdir }),
        listenAddress: `unix://${join(this.#dir!, "module.sock")}`,
        launchSecret: instance.coreSecret,
        handshakeTimeoutMs: Math.max(1, this.#startDeadline - Date.now()),
        logLevel: "info",
      },
      {
        line: (stream, line) => {
          this.#output.push(line);
          if (this.#output.length > OUTPUT_TAIL) this.#output.shift();
          this.#options.onOutput?.(stream, line);
        },
      },
      (pid) => {
        this.#pid = pid;
        spawnedAt = performance.now();
        this.#record({
          name: "spawn",
          ok: true,
          duration_ms: ms(spawnedAt - spawnStarted),
          detail: `pid ${pid}`,
        });
        this.#current = "handshake";
      },
    );
    this.#launching = launching.catch(() => {});
    try {
      const launched = await Promise.race([launching, this.#interrupt]);
      this.#exited = launched.exited;
      void launched.exited.then((exit) => {
        this.#exit = exit;
      });
      this.#record({
        name: "handshake",
        ok: true,
        duration_ms: ms(performance.now() - spawnedAt),
        detail: launched.address,
      });
      return launched;
    } catch (error) {
      launching.catch(() => {});
      // launchModule killed the process on failure; cleanup waits until it is gone.
      if (error instanceof LaunchError && error.exited) this.#exited = error.exited;
      const step: SmokeStepName =
        error instanceof LaunchError && error.reason === "spawn_failed" ? "spawn" : this.#current;
      const since = step === "spawn" ? spawnStarted : spawnedAt;
      return this.#fail(step, since, describe(error));
    }
  }

  /** Descriptor (+ manifest agreement), SPI negotiation, Initialize, SERVING, proof of wiring: the core's own sequence. */
  async #bringUp(
    module: SupervisedModuleConfig,
    instance: ModuleInstance,
    coreSocket: string,
  ): Promise<void> {
    let since = performance.now();
    let next: BringUpStep = BRING_UP_STEPS[0];
    this.#current = next;
    const hooks = {
      ...manifestHooks(module.loadedManifest),
      onStep: (step: BringUpStep, detail: string) => {
        if (this.#finished) return;
        const now = performance.now();
        this.#record({ name: step, ok: true, duration_ms: ms(now - since), detail });
        since = now;
        next = BRING_UP_STEPS[BRING_UP_STEPS.indexOf(step) + 1] ?? step;
        this.#current = next;
      },
    };
    try {
      await this.#guard(
        instance.bringUp(
          module.id,
          {
            config: module.config,
            coreAddress: `unix://${coreSocket}`,
            moduleCredential: instance.moduleCredential,
            trace: { otlpEndpoint: "", sampleRatio: 0, serviceName: `outrig-module-${module.id}` },
            logLevel: "info",
          },
          this.#startDeadline,
          hooks,
        ),
        true,
      );
    } catch (error) {
      const step = error instanceof StartError && error.step ? error.step : next;
      return this.#fail(step, since, await this.#withExit(describe(error)));
    }
  }

  /** One call of a real operation, through the client the core routes with. */
  async #roundTrip(module: SupervisedModuleConfig, instance: ModuleInstance): Promise<SmokeRoundTrip> {
    return this.#step("round-trip", async (): Promise<{ value: SmokeRoundTrip; detail: string }> => {
      const operations = instance.descriptor?.operations ?? [];
      const wanted = this.#options.operation;
      const op =
        wanted === undefined
          ? (operations.find((o) => !o.streaming) ?? operations[0])
          : operations.find((o) => o.name === wanted);
      if (!op) {
        throw new Error(
          wanted === undefined
            ? "the descriptor declares no operation to call"
            : `operation ${JSON.stringify(wanted)} is not in the descriptor (it has: ${operations.map((o) => o.name).join(", ") || "none"})`,
        );
      }
      const input = this.#options.input ?? {};
      const request = {
        operation: op.name,
        payload: new TextEncoder().encode(JSON.stringify(input)),
        contentType: "application/json",
        context: { contextRef: "", attempt: 1, attributes: {} },
      };
      const callOptions = {
        deadline: Math.min(this.#deadline, Date.now() + (op.timeoutMs || module.timeouts.invoke_ms)),
        metadata: { [MD.correlationId]: crypto.randomUUID() },
      };
      const failed = (error: unknown) => {
        const outrig = fromGrpcError(error, "module");
        return new Error(`${op.name} answered ${outrig.category} ${outrig.code}: ${outrig.message}`);
      };
      if (!op.streaming) {
        const res = await instance.client!.unary("invoke", request, callOptions).catch((error) => {
          throw failed(error);
        });
        const output = decodePayload(res.payload, res.contentType);
        return {
          value: { operation: op.name, streaming: false, input, content_type: res.contentType, output },
          detail: `${op.name} ${JSON.stringify(input)} → ${res.payload.length} bytes ${res.contentType}: ${preview(output)}`,
        };
      }
      const stream = await this.#consumeStream(instance, request, callOptions).catch((error) => {
        throw error instanceof StreamBroken ? error : failed(error);
      });
      return {
        value: {
          operation: op.name,
          streaming: true,
          input,
          content_type: stream.contentType,
          output: stream.chunks,
        },
        detail: `${op.name} ${JSON.stringify(input)} → started, ${stream.count} chunk(s), end`,
      };
    });
  }

  /** Reads a stream to its terminal event, holding the module to the streaming contract. */
  async #consumeStream(
    instance: ModuleInstance,
    request: MessageInitShape<typeof InvokeStreamRequestSchema>,
    callOptions: { deadline: number; metadata: Record<string, string> },
  ): Promise<{ contentType: string; chunks: unknown[]; count: number }> {
    const call = instance.client!.serverStream("invokeStream", request, callOptions);
    let contentType = "";
    let count = 0;
    const chunks: unknown[] = [];
    try {
      for await (const message of call as AsyncIterable<InvokeStreamResponse>) {
        const event = message.event;
        if (event.case === "started") {
          if (contentType) throw new StreamBroken("a second started event");
          contentType = event.value.contentType || "application/json";
        } else if (event.case === "chunk") {
          if (!contentType) throw new StreamBroken("a chunk before started");
          if (event.value.sequence !== BigInt(count + 1)) {
            throw new StreamBroken(`chunk sequence ${event.value.sequence}, expected ${count + 1}`);
          }
          count++;
          if (chunks.length < MAX_CHUNKS) chunks.push(decodePayload(event.value.payload, contentType));
        } else if (event.case === "end") {
          if (!contentType) throw new StreamBroken("end before started");
          return { contentType, chunks, count };
        } else if (event.case === "error") {
          const e = OutrigError.fromEnvelope(envelopeFromPb(event.value, "module"));
          throw new Error(`the stream ended with ${e.category} ${e.code}: ${e.message}`);
        }
      }
      throw new StreamBroken("the stream closed without a terminal event");
    } finally {
      call.cancel();
    }
  }

  /** Drain, Shutdown, then the process must exit by itself, with code 0. */
  async #stop(module: SupervisedModuleConfig, instance: ModuleInstance): Promise<void> {
    const client = instance.client!;
    const { drain_ms: drainMs, shutdown_ms: shutdownMs } = module.timeouts;
    await this.#step(
      "drain",
      async () => {
        const res = await client.unary(
          "drain",
          { deadlineMs: Math.max(1, drainMs), reason: "outrig module smoke" },
          { deadline: Math.min(this.#deadline, Date.now() + drainMs + 1000) },
        );
        return { value: undefined, detail: `${res.inFlightRemaining} in flight after the drain` };
      },
      true,
    );
    await this.#step("shutdown", async () => {
      try {
        await client.unary(
          "shutdown",
          { deadlineMs: shutdownMs },
          { deadline: Math.min(this.#deadline, Date.now() + Math.max(500, shutdownMs)) },
        );
        return { value: undefined, detail: "acknowledged" };
      } catch (error) {
        // A module may exit as it answers; that is a clean shutdown, not a failure.
        const exit = await Promise.race([this.#exited!, sleep(200).then(() => undefined)]);
        if (exit?.code === 0) return { value: undefined, detail: "the process exited while answering" };
        throw new Error(`Shutdown failed: ${fromGrpcError(error, "module").message}`);
      }
    });
    await this.#step("exit", async () => {
      const limit = Math.max(1000, shutdownMs);
      const exit = await Promise.race([this.#exited!, sleep(limit).then(() => undefined)]);
      if (!exit) throw new Error(`the process did not exit within ${limit} ms of Shutdown`);
      if (exit.code !== 0)
        throw new Error(`the process ${describeExit(exit)} after Shutdown (expected code 0)`);
      return { value: undefined, detail: "exit code 0" };
    });
  }

  /** Runs one step: times it, records it, and turns any failure into a StepFailure. */
  async #step<T>(
    name: SmokeStepName,
    work: () => Promise<{ value: T; detail: string }>,
    watchExit = false,
  ): Promise<T> {
    this.#current = name;
    const started = performance.now();
    try {
      const { value, detail } = await this.#guard(work(), watchExit);
      this.#record({ name, ok: true, duration_ms: ms(performance.now() - started), detail });
      return value;
    } catch (error) {
      return this.#fail(name, started, watchExit ? await this.#withExit(describe(error)) : describe(error));
    }
  }

  #fail(name: SmokeStepName, since: number, message: string): never {
    this.#record({ name, ok: false, duration_ms: ms(performance.now() - since), error: message });
    throw new StepFailure(name, message);
  }

  /** Races the work against the run's deadline and, before Shutdown, against the process dying. */
  #guard<T>(work: Promise<T>, watchExit: boolean): Promise<T> {
    work.catch(() => {});
    const racers: Promise<T>[] = [work, this.#interrupt];
    if (watchExit && this.#exited) {
      racers.push(
        this.#exited.then((exit) => {
          throw new Error(`the module process ${describeExit(exit)}`);
        }),
      );
    }
    return Promise.race(racers);
  }

  /** Appends how the process ended when it did, since a dead module explains a failed call. */
  async #withExit(message: string): Promise<string> {
    if (!this.#exited || message.includes("the module process")) return message;
    const exit = this.#exit ?? (await Promise.race([this.#exited, sleep(100).then(() => undefined)]));
    return exit ? `${message} (the module process ${describeExit(exit)})` : message;
  }

  #record(step: SmokeStep): void {
    this.#steps.push(step);
    this.#options.onStep?.(step);
  }

  /** Kills the module's process group unless it exited cleanly, and releases everything. */
  async #cleanup(): Promise<void> {
    clearTimeout(this.#timer);
    if (this.#onAbort) this.#options.signal?.removeEventListener("abort", this.#onAbort);
    this.#instance?.close();
    if (this.#pid !== undefined) {
      // Also sweeps anything the module left behind in its group after a clean exit.
      try {
        process.kill(-this.#pid, "SIGKILL");
      } catch {
        // The group is gone.
      }
      // After the kill, a pending launch settles once the process has exited.
      const gone = this.#exit === undefined ? (this.#exited ?? this.#launching) : undefined;
      if (gone) await Promise.race([gone, sleep(2000)]);
    }
    await this.#spi?.close();
    await this.#authority?.close();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }
}

class StreamBroken extends Error {
  constructor(what: string) {
    super(`the stream broke the streaming contract: ${what}`);
  }
}

function ms(value: number): number {
  return Math.max(0, Math.round(value));
}

/** JSON as data, text as a string, anything else as base64. */
function decodePayload(payload: Uint8Array, contentType: string): unknown {
  const text = () => new TextDecoder().decode(payload);
  if (/^application\/(.+\+)?json\b/.test(contentType) || contentType === "") {
    if (payload.length === 0) return null;
    try {
      return JSON.parse(text());
    } catch {
      return text();
    }
  }
  if (contentType.startsWith("text/")) return text();
  return { base64: Buffer.from(payload).toString("base64") };
}

function preview(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}
