import { hostname } from "node:os";
import { OutrigError } from "../errors/index.ts";
import { Health } from "../gen/grpc/health/v1/health_pb.ts";
import { ModuleService, ModuleState } from "../gen/outrig/module/v1/module_service_pb.ts";
import { newSecret, secretChecker } from "../spi/credentials.ts";
import { formatIssues, validateDescriptor } from "../spi/descriptor.ts";
import { ENV, MODULE_COOKIE_VALUE } from "../spi/env.ts";
import { H2GrpcServer } from "../spi/h2/server.ts";
import { formatHandshake, isModuleAddress } from "../spi/handshake.ts";
import { HealthBoard, healthHandlers, ServingStatus } from "../spi/health.ts";
import { bearerToken, type MetadataLike } from "../spi/metadata.ts";
import { mtlsServerOptions, readTlsMaterial, type TlsMaterial } from "../spi/tls.ts";
import { Tracing } from "../telemetry/tracing.ts";
import { buildDescriptor } from "./descriptor.ts";
import { Lifecycle } from "./lifecycle.ts";
import { createModuleLogger, LOG_LEVELS } from "./logger.ts";
import { createModuleService, type ModuleRuntime } from "./module-service.ts";
import { Registrar } from "./registration.ts";
import type { ModuleDefinition } from "./types.ts";

export interface RunOptions {
  /** Environment to read the launch contract from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Default drain deadline for SIGTERM and Shutdown, in milliseconds. */
  drainDeadlineMs?: number;
  /** Exit the process on Shutdown (default true; tests turn it off). */
  exitProcess?: boolean;
}

export interface RunningModule {
  /** Where ModuleService is served. */
  address: string;
  runtime: ModuleRuntime;
  /** Drains, stops serving and (unless exitProcess is false) ends the process. */
  stop(deadlineMs?: number): Promise<void>;
}

/** TLS files from the environment: all three, or none. */
function tlsFromEnv(env: NodeJS.ProcessEnv): TlsMaterial | undefined {
  const files = { cert: env[ENV.tlsCert], key: env[ENV.tlsKey], ca: env[ENV.tlsCa] };
  const given = Object.values(files).filter(Boolean).length;
  if (given === 0) return undefined;
  if (given !== 3) throw new Error(`set all of ${ENV.tlsCert}, ${ENV.tlsKey} and ${ENV.tlsCa}, or none`);
  return readTlsMaterial(files as { cert: string; key: string; ca: string });
}

const NOT_A_LAUNCH = `This program is an Outrig module. The Outrig core starts it (\`outrig up\`), or, in
attached mode (docker compose, Kubernetes), set ${ENV.coreAddress}, ${ENV.bootstrapToken} and ${ENV.listen}.`;

/**
 * Serves a module: validates its descriptor, listens where the launch contract says,
 * then prints the handshake line (supervised) or registers with the core (attached).
 */
export async function runModule(def: ModuleDefinition, options: RunOptions = {}): Promise<RunningModule> {
  const env = options.env ?? process.env;
  const descriptor = buildDescriptor(def);
  const issues = validateDescriptor(descriptor);
  if (issues.length > 0) throw new Error(`module ${def.id}: invalid descriptor: ${formatIssues(issues)}`);

  const supervised = env[ENV.launchSecret] !== undefined;
  if (supervised && env[ENV.cookie] !== MODULE_COOKIE_VALUE) throw new Error(NOT_A_LAUNCH);
  if (!supervised && !(env[ENV.coreAddress] && env[ENV.bootstrapToken])) throw new Error(NOT_A_LAUNCH);
  const listen = env[ENV.listen] ?? "";
  if (!isModuleAddress(listen))
    throw new Error(`${ENV.listen} must be unix:///path or host:port, got ${JSON.stringify(listen)}`);

  const tls = tlsFromEnv(env);
  const instanceId = env[ENV.instanceId] || `${def.id}-${hostname()}-${process.pid}`;
  const level = LOG_LEVELS.includes(env[ENV.logLevel] ?? "") ? (env[ENV.logLevel] as string) : "info";
  const logger = createModuleLogger(def.id, instanceId, level);
  const exitProcess = options.exitProcess ?? true;
  const board = new HealthBoard();
  const lifecycle = new Lifecycle();
  const coreSecret = supervised ? (env[ENV.launchSecret] as string) : newSecret();
  let registrar: Registrar | undefined;
  let server: H2GrpcServer | undefined;
  let stopping: Promise<void> | undefined;

  const stop = (deadlineMs: number): Promise<void> => {
    stopping ??= (async () => {
      await registrar?.deregister("shutdown");
      try {
        await def.shutdown?.();
      } catch (error) {
        logger.warn({ err: error }, "shutdown hook failed");
      }
      lifecycle.set(ModuleState.STOPPED);
      runtime.core?.close();
      await runtime.tracing.shutdown().catch(() => {});
      await server?.close(deadlineMs);
      logger.info("stopped");
      if (exitProcess) {
        // Let the last responses reach the socket before the process goes.
        process.stdin.destroy();
        setTimeout(() => process.exit(0), 50);
      }
    })();
    return stopping;
  };

  const runtime: ModuleRuntime = {
    def,
    descriptor,
    lifecycle,
    logger,
    instanceId,
    core: undefined,
    allowReinitialize: false,
    controllers: new Set(),
    drainDeadlineMs: options.drainDeadlineMs ?? 10_000,
    tls,
    tracing: Tracing.disabled(),
    onInitialized(info) {
      if (LOG_LEVELS.includes(info.logLevel)) logger.level = info.logLevel;
      if (info.traceEndpoint) {
        void Tracing.create({
          serviceName: info.serviceName,
          otlpEndpoint: info.traceEndpoint,
          sampleRatio: info.sampleRatio,
        }).then((tracing) => {
          runtime.tracing = tracing;
        });
      }
    },
    exit: (deadlineMs) => void stop(deadlineMs),
  };

  lifecycle.onChange((state) => {
    const status =
      state === ModuleState.READY || state === ModuleState.DEGRADED
        ? ServingStatus.SERVING
        : ServingStatus.NOT_SERVING;
    board.set("", status);
    board.set(ModuleService.typeName, status);
  });
  board.set("", ServingStatus.NOT_SERVING);
  board.set(ModuleService.typeName, ServingStatus.NOT_SERVING);

  const maxBytes = Math.max(def.limits?.maxRequestBytes ?? 0, 4 * 1024 * 1024) + 64 * 1024;
  server = new H2GrpcServer({
    maxMessageBytes: maxBytes,
    tls: tls && !listen.startsWith("unix://") ? mtlsServerOptions(tls) : undefined,
  });
  const isCoreSecret = secretChecker(coreSecret);
  const authorize = (call: { metadata: MetadataLike }) => {
    const presented = bearerToken(call.metadata);
    if (presented === undefined)
      return OutrigError.fromCode("spi.auth.missing_credential", { origin: "module" });
    if (!isCoreSecret(presented)) {
      return OutrigError.fromCode("spi.auth.invalid_credential", { origin: "module" });
    }
    registrar?.contact();
    return undefined;
  };
  const moduleService = createModuleService(runtime);
  server.addService(ModuleService, moduleService.handlers, { authorize });
  server.addService(
    Health,
    healthHandlers(board, (md) => {
      const presented = bearerToken(md);
      if (isCoreSecret(presented)) registrar?.contact();
    }),
  );

  const address = await server.listen(listen);

  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "signal received; draining");
    moduleService.shutdown(runtime.drainDeadlineMs, signal);
  };
  process.once("SIGTERM", onSignal);
  // A supervised module ignores Ctrl-C: the core orchestrates the shutdown.
  if (supervised) process.on("SIGINT", () => {});
  else process.once("SIGINT", onSignal);

  if (supervised) {
    if (env[ENV.lifeline] === "stdin") {
      // The core holds our stdin open; EOF means it died without stopping us.
      process.stdin.on("end", () => {
        logger.warn("the core went away; exiting");
        process.exit(70);
      });
      process.stdin.resume();
    }
    process.stdout.write(`${formatHandshake(address)}\n`);
  } else {
    registrar = new Registrar({
      coreAddress: env[ENV.coreAddress] as string,
      bootstrapToken: env[ENV.bootstrapToken] as string,
      moduleId: def.id,
      instanceId,
      advertiseAddress: env[ENV.advertiseAddress] || address,
      coreSecret,
      logger,
      tls,
    });
    registrar.onRegistered = () => {
      runtime.allowReinitialize = true;
    };
    void registrar.start();
  }
  logger.info({ address, mode: supervised ? "supervised" : "attached" }, "listening");
  return { address, runtime, stop: (deadlineMs = runtime.drainDeadlineMs) => stop(deadlineMs) };
}
