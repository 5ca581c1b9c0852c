import type { Logger } from "pino";
import { fromGrpcError } from "../errors/index.ts";
import { RegistrationService } from "../gen/outrig/core/v1/registration_pb.ts";
import { H2ServiceClient } from "../spi/h2/client.ts";
import { credentialHeaders } from "../spi/metadata.ts";
import { mtlsClientOptions, type TlsMaterial } from "../spi/tls.ts";
import { SUPPORTED_SPI_VERSIONS } from "../spi/versions.ts";

export interface RegistrationOptions {
  coreAddress: string;
  bootstrapToken: string;
  moduleId: string;
  instanceId: string;
  /** Address the core dials to reach this module. */
  advertiseAddress: string;
  /** Secret the core must present on its calls to this module. */
  coreSecret: string;
  logger: Logger;
  tls?: TlsMaterial;
  /** Backoff bounds between attempts. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Attached mode: registers with the core, retrying with exponential backoff and
 * jitter until it answers (start order never matters), and registers again when the
 * core has not called for three heartbeat intervals (the core restarted or lost us).
 */
export class Registrar {
  readonly #client: H2ServiceClient<typeof RegistrationService>;
  readonly #opts: RegistrationOptions;
  #lastContact = Date.now();
  #heartbeatMs = 5000;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #registering: Promise<void> | undefined;
  /** Called after each successful (re-)registration, before the core initializes us again. */
  onRegistered: () => void = () => {};

  constructor(opts: RegistrationOptions) {
    this.#opts = opts;
    this.#client = new H2ServiceClient(RegistrationService, opts.coreAddress, {
      metadata: credentialHeaders(opts.bootstrapToken),
      tls: opts.tls ? mtlsClientOptions(opts.tls) : undefined,
    });
  }

  /** Records an authenticated call from the core. */
  contact(): void {
    this.#lastContact = Date.now();
  }

  start(): Promise<void> {
    return this.#register();
  }

  #register(): Promise<void> {
    if (!this.#registering) {
      this.#registering = this.#loop().finally(() => {
        this.#registering = undefined;
      });
    }
    return this.#registering;
  }

  async #loop(): Promise<void> {
    const { logger } = this.#opts;
    let delay = this.#opts.initialDelayMs ?? 200;
    const maxDelay = this.#opts.maxDelayMs ?? 5000;
    for (let attempt = 1; !this.#stopped; attempt++) {
      try {
        const res = await this.#client.unary(
          "register",
          {
            moduleId: this.#opts.moduleId,
            instanceId: this.#opts.instanceId,
            address: this.#opts.advertiseAddress,
            coreSecret: this.#opts.coreSecret,
            spiVersions: [...SUPPORTED_SPI_VERSIONS],
          },
          { deadline: Date.now() + 5000 },
        );
        this.#heartbeatMs = res.heartbeatIntervalMs || this.#heartbeatMs;
        this.#lastContact = Date.now();
        logger.info({ core: this.#opts.coreAddress, attempt }, "registered with the core");
        this.onRegistered();
        this.#watch();
        return;
      } catch (error) {
        const outrig = fromGrpcError(error, "core");
        const log =
          attempt === 1 || attempt % 10 === 0 ? logger.warn.bind(logger) : logger.debug.bind(logger);
        log(
          { attempt, code: outrig.code, retry_in_ms: delay },
          "registration with the core failed; retrying",
        );
        if (!outrig.retryable && outrig.category !== "UNAVAILABLE" && outrig.category !== "NOT_FOUND") {
          logger.error({ code: outrig.code }, `the core refused registration: ${outrig.message}`);
        }
      }
      await sleep(delay * (0.8 + Math.random() * 0.4));
      delay = Math.min(maxDelay, delay * 2);
    }
  }

  #watch(): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => {
      if (Date.now() - this.#lastContact > 3 * this.#heartbeatMs) {
        clearInterval(this.#timer);
        this.#opts.logger.warn("no call from the core for three heartbeat intervals; registering again");
        void this.#register();
      }
    }, this.#heartbeatMs);
    this.#timer.unref();
  }

  async deregister(reason: string): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#client
      .unary(
        "deregister",
        { moduleId: this.#opts.moduleId, instanceId: this.#opts.instanceId, reason },
        { deadline: Date.now() + 2000 },
      )
      .catch(() => {});
    this.#client.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
