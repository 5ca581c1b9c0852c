import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "pino";
import type { OutrigError } from "../errors/outrig-error.ts";
import type { Decision, PermissionCheck } from "./cedar/policy-engine.ts";
import type { AuthMethod, Principal } from "./principal.ts";
import { redactValue } from "./redact.ts";

/** One audit record. It names who, what and why, never the credential. */
export interface AuditEvent {
  readonly time: string;
  readonly kind: "authz" | "authn";
  readonly decision: "allow" | "deny";
  readonly subject?: string;
  readonly authMethod?: AuthMethod;
  readonly action?: string;
  readonly resource?: { readonly type: string; readonly id: string };
  readonly policyIds: readonly string[];
  readonly epoch?: number;
  readonly module?: string;
  readonly category?: string;
  readonly code?: string;
  readonly correlationId?: string;
  readonly traceId?: string;
  readonly transport?: string;
  readonly clientIp?: string;
}

export interface RequestIds {
  readonly module?: string;
  readonly correlationId?: string;
  readonly traceId?: string;
  readonly transport?: string;
  readonly clientIp?: string;
}

export interface AuditLoggerOptions {
  /** JSON lines are appended here (file mode 0600). */
  filePath?: string;
  /** Records also go to this logger at `info` under `audit`. */
  logger?: Logger;
  /** Fraction of allows recorded, 0…1. Every deny is recorded. Default 0.01. */
  allowSampleRate?: number;
  random?: () => number;
  now?: () => number;
}

/**
 * Writes audit records: every deny, and a sample of allows. Every string field is
 * scrubbed by the redaction helper before it is written anywhere.
 */
export class AuditLogger {
  readonly #stream: WriteStream | undefined;
  readonly #logger: Logger | undefined;
  readonly #sampleRate: number;
  readonly #random: () => number;
  readonly #now: () => number;

  constructor(options: AuditLoggerOptions = {}) {
    if (options.filePath) {
      mkdirSync(dirname(options.filePath), { recursive: true, mode: 0o700 });
      this.#stream = createWriteStream(options.filePath, { flags: "a", mode: 0o600 });
      // A failed file write must not take the core down; the logger still gets the record.
      this.#stream.on("error", () => undefined);
    }
    // Records carry an `audit` field; no extra binding (nested bindings repeat keys in JSON).
    this.#logger = options.logger;
    this.#sampleRate = Math.min(1, Math.max(0, options.allowSampleRate ?? 0.01));
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /** Records a policy decision when it is a deny or falls in the allow sample; returns whether it did. */
  decision(principal: Principal, check: PermissionCheck, decision: Decision, ids: RequestIds = {}): boolean {
    if (decision.effect === "allow" && !(this.#sampleRate > 0 && this.#random() < this.#sampleRate))
      return false;
    this.write({
      time: new Date(this.#now()).toISOString(),
      kind: "authz",
      decision: decision.effect,
      subject: principal.subject,
      authMethod: principal.authMethod,
      action: check.action,
      resource: { type: check.resource.type, id: check.resource.id },
      policyIds: decision.policyIds,
      epoch: decision.epoch,
      ...(decision.error ? { category: decision.error.category, code: decision.error.code } : {}),
      ...ids,
    });
    return true;
  }

  /** Records a refused authentication (successful ones are not audited here). */
  authenticationFailure(error: OutrigError, ids: RequestIds = {}): void {
    this.write({
      time: new Date(this.#now()).toISOString(),
      kind: "authn",
      decision: "deny",
      policyIds: [],
      category: error.category,
      code: error.code,
      ...ids,
    });
  }

  write(event: AuditEvent): void {
    const clean = redactValue(event) as AuditEvent;
    this.#logger?.info({ audit: clean }, "audit");
    if (this.#stream && !this.#stream.destroyed) this.#stream.write(`${JSON.stringify(clean)}\n`);
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    const stream = this.#stream;
    if (!stream || stream.destroyed) return;
    await new Promise<void>((resolve) => stream.end(resolve));
  }
}
