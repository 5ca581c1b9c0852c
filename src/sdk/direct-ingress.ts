/**
 * Direct ingress: a module that owns a public port asks the core about every caller.
 * `guard.run(request, check, handler)` sends what the caller presented to the core
 * (ResolveCaller), asks for the decision (CheckPermissions), and runs the handler only
 * after an allow, handing it a `Caller` that nothing but this module can construct. A
 * handler therefore cannot run without an allow decision.
 */
import { envelopeFromPb, OutrigError, toHttpError } from "../errors/index.ts";
import { Effect } from "../gen/outrig/core/v1/auth_policy_pb.ts";
import type { CoreConnection } from "./core-connection.ts";

const issued = new WeakSet<object>();

/** An authenticated, authorized caller. Only the SDK creates one, and only after an allow. */
export interface Caller {
  readonly subject: string;
  readonly authMethod: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  /** The core-signed reference to pass on any later SPI call made for this caller. */
  readonly contextRef: string;
  /** Ids of the policies that allowed the request. */
  readonly policyIds: readonly string[];
}

/** Whether a value is a Caller the SDK issued (a handler may assert it). */
export function isIssuedCaller(value: unknown): value is Caller {
  return typeof value === "object" && value !== null && issued.has(value);
}

export interface DirectRequest {
  /** The request headers as received (lowercase names); only credentials are forwarded. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  transport?: string;
  clientIp?: string;
  sessionId?: string;
}

export interface DirectCheck {
  action: string;
  resource: { type: string; id: string; attributes?: Record<string, string> };
  context?: Record<string, string>;
}

/** The outcome, ready to write as an HTTP answer. */
export type DirectOutcome<T> =
  | { ok: true; value: T; caller: Caller }
  | { ok: false; error: OutrigError; status: number; headers: Record<string, string>; body: unknown };

/** Headers a caller may authenticate with; nothing else leaves the module. */
const CREDENTIAL_HEADERS = ["authorization", "x-api-key"];

function denied(error: OutrigError, wwwAuthenticate?: string): DirectOutcome<never> {
  const answer = toHttpError(error);
  const headers = { ...answer.headers, ...(wwwAuthenticate ? { "www-authenticate": wwwAuthenticate } : {}) };
  return { ok: false, error, status: answer.status, headers, body: answer.body };
}

export class DirectIngress {
  constructor(private readonly core: () => CoreConnection | undefined) {}

  async run<T>(
    request: DirectRequest,
    check: DirectCheck,
    handler: (caller: Caller) => Promise<T> | T,
  ): Promise<DirectOutcome<T>> {
    const core = this.core();
    if (!core) return denied(OutrigError.fromCode("spi.lifecycle.not_initialized", { origin: "module" }));
    const headers: Record<string, string> = {};
    for (const name of CREDENTIAL_HEADERS) {
      const value = request.headers[name];
      if (typeof value === "string") headers[name] = value;
    }
    let caller: Caller;
    try {
      const resolved = await core.resolveCaller({
        headers,
        transport: request.transport ?? "http",
        ...(request.clientIp ? { clientIp: request.clientIp } : {}),
        ...(request.sessionId ? { sessionId: request.sessionId } : {}),
      });
      if (resolved.result.case !== "context") {
        const deny = resolved.result.case === "deny" ? resolved.result.value : undefined;
        const error = deny?.error
          ? OutrigError.fromEnvelope(envelopeFromPb(deny.error, "core"))
          : OutrigError.fromCode("spi.auth.missing_credential");
        return denied(error, deny?.wwwAuthenticate || undefined);
      }
      const contextRef = resolved.result.value.contextRef;
      const decided = await core.checkPermissions(contextRef, [
        {
          ...check,
          context: { ingress: "direct", transport: request.transport ?? "http", ...check.context },
        },
      ]);
      const decision = decided.decisions[0];
      if (decision?.effect !== Effect.ALLOW) {
        const error = decision?.error
          ? OutrigError.fromEnvelope(envelopeFromPb(decision.error, "core"))
          : new OutrigError("PERMISSION_DENIED", "policy.decision.denied", "Access denied.");
        return denied(error);
      }
      const principal = resolved.result.value.principal;
      caller = Object.freeze({
        subject: principal?.subject ?? "",
        authMethod: principal?.authMethod ?? "",
        roles: Object.freeze([...(principal?.roles ?? [])]),
        scopes: Object.freeze([...(principal?.scopes ?? [])]),
        contextRef,
        policyIds: Object.freeze([...decision.policyIds]),
      });
      issued.add(caller);
    } catch (error) {
      // The core unreachable or a failed SPI call: fail closed, the handler never runs.
      return denied(
        error instanceof OutrigError
          ? error
          : OutrigError.fromCode("core.invoke.module_unavailable", { origin: "core" }),
      );
    }
    return { ok: true, value: await handler(caller), caller };
  }
}
