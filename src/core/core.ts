import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { type AuthorityHandle, createAuthority } from "../authority/config.ts";
import { generateDevToken, isLoopbackHost, writeDevToken } from "../authority/dev-token.ts";
import { loadSignerRegistry, type TrustedSigners } from "../manifest/index.ts";
import { readPem, readTlsMaterial } from "../spi/tls.ts";
import { Tracing } from "../telemetry/tracing.ts";
import { authorityGate } from "./auth/access-gate.ts";
import { authorityAdmin } from "./auth/authority-admin.ts";
import { ConfigError } from "./config/load.ts";
import type { OutrigConfig } from "./config/schema.ts";
import type { ListenerTls } from "./http/listener.ts";
import { createHttpServer } from "./http/server.ts";
import { createCoreLogger } from "./logger.ts";
import { CoreMetrics } from "./metrics.ts";
import { coreStateFile } from "./paths.ts";
import { Router } from "./router/router.ts";
import { createRunDir } from "./run-dir.ts";
import { SecretScrubber } from "./secrets.ts";
import { SpiServer } from "./spi-server/server.ts";
import { Reaper } from "./supervisor/reaper.ts";
import { Supervisor } from "./supervisor/supervisor.ts";

export interface CoreOptions {
  config: OutrigConfig;
  /** `$OUTRIG_HOME`: runtime state (sockets, core.json). */
  home: string;
  /** Where log lines go (default stdout); tests capture them here. */
  logDestination?: { write(chunk: string): boolean };
  /** Write `$OUTRIG_HOME/core.json` so `outrig status` finds this core (outrig up does). */
  writeStateFile?: boolean;
}

/** The signer registry of `security.trusted_signers`; a failure names the key. */
async function loadTrust(path: string | undefined): Promise<TrustedSigners> {
  if (path === undefined)
    throw new ConfigError("security.trusted_signers: required when security.require_signed is true");
  try {
    return await loadSignerRegistry(path);
  } catch (error) {
    throw new ConfigError(`security.trusted_signers: ${(error as Error).message}`);
  }
}

/** The public listener's TLS: certificate, key, and the CA client certificates chain to. */
function publicTls(tls: NonNullable<OutrigConfig["server"]["tls"]>): ListenerTls {
  const read = (what: string, path: string) => readPem(`the public listener's ${what}`, path);
  return {
    cert: read("certificate", tls.cert_file),
    key: read("key", tls.key_file),
    ...(tls.client_ca_file ? { ca: read("client CA", tls.client_ca_file) } : {}),
    requestCert: tls.client_ca_file !== undefined,
    rejectUnauthorized: tls.require_client_cert,
  };
}

/**
 * The Outrig core: public HTTP listener, SPI server, supervisor and router, wired
 * together. `Core.start` resolves once every listener is up and module launches have
 * begun; `waitReady` waits for the required modules.
 */
export class Core {
  private constructor(
    readonly config: OutrigConfig,
    readonly logger: Logger,
    readonly metrics: CoreMetrics,
    readonly supervisor: Supervisor,
    readonly router: Router,
    readonly url: string,
    readonly spiAddress: { unix: string; tcp?: string },
    readonly runDir: string,
    private readonly parts: {
      http: ReturnType<typeof createHttpServer>;
      spi: SpiServer;
      reaper: Reaper;
      tracing: Tracing;
      stateFile: string | undefined;
      authority: AuthorityHandle;
      devTokenFile: string | undefined;
    },
    /** The development admin token (loopback listeners only); present it as a Bearer token. */
    readonly devToken: string | undefined,
  ) {}

  static async start(options: CoreOptions): Promise<Core> {
    const { config } = options;
    const scrubber = new SecretScrubber();
    const format =
      config.logging.format === "auto" ? (process.stdout.isTTY ? "pretty" : "json") : config.logging.format;
    const logger = createCoreLogger({
      level: config.logging.level,
      format,
      scrubber,
      destination: options.logDestination as NodeJS.WritableStream & { write(chunk: string): boolean },
    });
    // Read every input file first: a broken signer registry or TLS file stops the core
    // before anything starts.
    const trust = config.security.require_signed
      ? await loadTrust(config.security.trusted_signers)
      : undefined;
    const tls = config.spi.tls
      ? readTlsMaterial({
          cert: config.spi.tls.cert_file,
          key: config.spi.tls.key_file,
          ca: config.spi.tls.ca_file,
        })
      : undefined;
    const listenerTls = config.server.tls ? publicTls(config.server.tls) : undefined;
    // The development token exists only on a loopback listener, never elsewhere.
    const devToken = isLoopbackHost(config.server.host) ? generateDevToken() : undefined;
    scrubber.add(devToken);
    // What has started so far; a later failure undoes it in reverse order, so a core that
    // fails to start leaves no watcher, socket, run directory or file behind.
    const undo: Array<() => unknown> = [];
    try {
      const authority = await createAuthority(config.authorityConfig ?? {}, {
        logger: logger.child({ subsystem: "authority" }),
        ...(devToken ? { devToken: { token: devToken, bindHost: config.server.host } } : {}),
      });
      undo.push(() => authority.close());
      const metrics = new CoreMetrics();
      const tracing = await Tracing.create({
        serviceName: config.telemetry.service_name,
        otlpEndpoint: config.telemetry.otlp_endpoint,
        sampleRatio: config.telemetry.sample_ratio,
      });
      undo.push(() => tracing.shutdown());
      const runDir = createRunDir(options.home);
      undo.push(() => rmSync(runDir, { recursive: true, force: true }));
      const reaper = new Reaper(logger);
      undo.push(() => reaper.close());
      const coreSocket = join(runDir, "core.sock");
      let attachedCoreAddress = config.spi.advertise_address;
      const supervisor = new Supervisor(config, {
        tls,
        attachedCoreAddress: () => attachedCoreAddress,
        logger,
        metrics,
        scrubber,
        runDir,
        reaper,
        coreAddress: `unix://${coreSocket}`,
      });
      const spi = new SpiServer({ config, supervisor, logger, scrubber, authority: authority.authority });
      undo.push(() => spi.close());
      const router = new Router({ metrics, tracing, logger, groups: (id) => supervisor.group(id) });
      const http = createHttpServer({
        invoker: router,
        admin: supervisor,
        readiness: () => supervisor.readiness(),
        metrics,
        logger,
        maxBodyBytes: config.server.max_body_bytes,
        gate: authorityGate(authority.authority, config.modules),
        ...(listenerTls ? { tls: listenerTls } : {}),
        authorityAdmin: authorityAdmin(authority.authority),
      });
      undo.push(() => http.close(0));
      const spiAddress = await spi.listen(coreSocket, config.spi.tcp_listen, tls);
      attachedCoreAddress ||= spiAddress.tcp ?? spiAddress.unix;
      const { port } = await http.listen(config.server.host, config.server.port);
      const host = config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host;
      const url = `${listenerTls ? "https" : "http"}://${host}:${port}`;
      // The token before core.json: whoever finds the core can then authenticate.
      const devTokenFile = devToken ? await writeDevToken(options.home, devToken) : undefined;
      if (devTokenFile) undo.push(() => rmSync(devTokenFile, { force: true }));
      let stateFile: string | undefined;
      if (options.writeStateFile) {
        stateFile = coreStateFile(options.home);
        writeFileSync(stateFile, `${JSON.stringify({ url, pid: process.pid, spi: spiAddress })}\n`, {
          mode: 0o600,
        });
        const written = stateFile;
        undo.push(() => rmSync(written, { force: true }));
      }
      logger.info({ url, spi: spiAddress.unix, modules: config.modules.length }, "core listening");
      if (devTokenFile)
        logger.info({ file: devTokenFile }, "development admin token written (`outrig dev-token` prints it)");
      if (trust) await supervisor.admit(trust);
      supervisor.start();
      return new Core(
        config,
        logger,
        metrics,
        supervisor,
        router,
        url,
        spiAddress,
        runDir,
        { http, spi, reaper, tracing, stateFile, authority, devTokenFile },
        devToken,
      );
    } catch (error) {
      for (const step of undo.reverse())
        await Promise.resolve()
          .then(step)
          .catch(() => {});
      throw error;
    }
  }

  waitReady(timeoutMs = 60_000): Promise<void> {
    return this.supervisor.waitReady(timeoutMs);
  }

  #stopping: Promise<void> | undefined;

  /** Stops taking requests, lets in-flight ones finish, drains and stops every module. */
  stop(deadlineMs = 10_000): Promise<void> {
    this.#stopping ??= (async () => {
      this.logger.info("core stopping");
      await this.parts.http.close(deadlineMs);
      await this.supervisor.stop();
      await this.parts.spi.close();
      await this.parts.authority.close();
      this.parts.reaper.close();
      if (this.parts.devTokenFile) rmSync(this.parts.devTokenFile, { force: true });
      await this.parts.tracing.shutdown().catch(() => {});
      if (this.parts.stateFile) rmSync(this.parts.stateFile, { force: true });
      rmSync(this.runDir, { recursive: true, force: true });
      this.logger.info("core stopped");
    })();
    return this.#stopping;
  }
}
