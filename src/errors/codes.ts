import { registerCodes } from "./registry.ts";

/**
 * Error codes of the core and the SPI. Module and profile codes are registered by
 * their own packages. The message here is what a client sees.
 */
export const SPI_CODES = registerAndReturn([
  // Calls to a module or to the core over the SPI.
  { code: "spi.auth.missing_credential", category: "UNAUTHENTICATED", message: "SPI credential required." },
  {
    code: "spi.auth.invalid_credential",
    category: "UNAUTHENTICATED",
    message: "SPI credential not accepted.",
  },
  {
    code: "spi.method.unimplemented",
    category: "UNSUPPORTED",
    message: "This SPI method is not implemented by this core yet.",
  },
  { code: "spi.health.unknown_service", category: "NOT_FOUND", message: "Unknown service." },
  { code: "spi.version.unsupported", category: "FAILED_PRECONDITION", message: "No SPI version in common." },
  {
    code: "spi.lifecycle.not_initialized",
    category: "FAILED_PRECONDITION",
    message: "The module is not initialized.",
    retryable: true,
  },
  {
    code: "spi.lifecycle.already_initialized",
    category: "FAILED_PRECONDITION",
    message: "The module is already initialized.",
  },
  {
    code: "spi.lifecycle.initialize_failed",
    category: "FAILED_PRECONDITION",
    message: "Module initialization failed.",
  },
  { code: "spi.invoke.unknown_operation", category: "NOT_FOUND", message: "Unknown operation." },
  {
    code: "spi.invoke.wrong_rpc",
    category: "INVALID_ARGUMENT",
    message: "This operation must be called through the other invoke RPC.",
  },
  {
    code: "spi.invoke.draining",
    category: "UNAVAILABLE",
    message: "The module is draining and takes no new work.",
    retryable: true,
  },
  {
    code: "spi.invoke.overloaded",
    category: "UNAVAILABLE",
    message: "The module is at its concurrency limit.",
    retryable: true,
  },
  {
    code: "spi.invoke.deadline_exceeded",
    category: "UNAVAILABLE",
    message: "The deadline expired before the operation finished.",
    retryable: true,
    httpStatus: 504,
  },
  {
    code: "spi.invoke.cancelled",
    category: "UNAVAILABLE",
    message: "The call was cancelled.",
    retryable: false,
    httpStatus: 499,
  },
  {
    code: "spi.invoke.stopped_by_drain",
    category: "UNAVAILABLE",
    message: "The module stopped this call while draining.",
    retryable: false,
  },
  {
    code: "spi.invoke.payload_too_large",
    category: "INVALID_ARGUMENT",
    message: "The request payload is too large.",
    httpStatus: 413,
  },
  {
    code: "spi.invoke.invalid_payload",
    category: "INVALID_ARGUMENT",
    message: "The request payload is invalid.",
  },
  {
    code: "spi.stream.protocol_violation",
    category: "INTERNAL",
    message: "The module broke the streaming contract.",
  },
  { code: "spi.handler.failed", category: "INTERNAL", message: "Internal error." },
] as const);

export const CORE_CODES = registerAndReturn([
  { code: "core.internal.unexpected", category: "INTERNAL", message: "Internal error." },
  {
    code: "core.request.invalid_json",
    category: "INVALID_ARGUMENT",
    message: "The request body is not valid JSON.",
  },
  {
    code: "core.request.body_too_large",
    category: "INVALID_ARGUMENT",
    message: "The request body is too large.",
    httpStatus: 413,
  },
  {
    code: "core.request.unsupported_media_type",
    category: "INVALID_ARGUMENT",
    message: "Unsupported content type.",
    httpStatus: 415,
  },
  {
    code: "core.request.invalid_header",
    category: "INVALID_ARGUMENT",
    message: "A request header is invalid.",
  },
  { code: "core.route.not_found", category: "NOT_FOUND", message: "No such route." },
  {
    code: "core.route.method_not_allowed",
    category: "UNSUPPORTED",
    message: "Method not allowed on this route.",
    httpStatus: 405,
  },
  { code: "core.invoke.module_not_found", category: "NOT_FOUND", message: "No such module." },
  { code: "core.invoke.operation_not_found", category: "NOT_FOUND", message: "No such operation." },
  {
    code: "core.invoke.module_unavailable",
    category: "UNAVAILABLE",
    message: "The module is not available right now.",
    retryable: true,
  },
  {
    code: "core.invoke.module_failed",
    category: "UNAVAILABLE",
    message: "The module has failed and is not being restarted.",
    retryable: false,
  },
  {
    code: "core.invoke.deadline_exceeded",
    category: "UNAVAILABLE",
    message: "The module did not answer in time.",
    retryable: true,
    httpStatus: 504,
  },
  {
    code: "core.invoke.cancelled",
    category: "UNAVAILABLE",
    message: "The request was cancelled.",
    retryable: false,
    httpStatus: 499,
  },
  {
    code: "core.lifecycle.shutting_down",
    category: "UNAVAILABLE",
    message: "The core is shutting down.",
    retryable: true,
  },
  { code: "core.config.secret_not_found", category: "NOT_FOUND", message: "No such secret." },
  {
    code: "core.config.too_many_secrets",
    category: "INVALID_ARGUMENT",
    message: "At most 100 secrets per call.",
  },
  {
    code: "core.session.store_full",
    category: "UNAVAILABLE",
    message: "No room for another session.",
    retryable: true,
  },
  {
    code: "core.registration.unknown_module",
    category: "NOT_FOUND",
    message: "No attached module with this id is configured.",
  },
  {
    code: "core.registration.invalid",
    category: "INVALID_ARGUMENT",
    message: "The registration is invalid.",
  },
  { code: "core.observability.invalid", category: "INVALID_ARGUMENT", message: "The report is invalid." },
  {
    code: "core.admin.conflict",
    category: "CONFLICT",
    message: "Another operation on this module is in progress.",
  },
  {
    code: "core.admin.upgrade_failed",
    category: "FAILED_PRECONDITION",
    message: "The upgrade failed; the previous version keeps serving.",
  },
  { code: "core.admin.instance_not_found", category: "NOT_FOUND", message: "No such module instance." },
  {
    code: "core.admin.not_supervised",
    category: "FAILED_PRECONDITION",
    message: "Attached modules are managed by their platform.",
  },
  { code: "core.admin.invalid", category: "INVALID_ARGUMENT", message: "The admin request is invalid." },
  { code: "core.request.malformed", category: "INVALID_ARGUMENT", message: "The request is malformed." },
  {
    code: "core.request.invalid_path",
    category: "INVALID_ARGUMENT",
    message: "The request path is invalid.",
  },
  {
    code: "core.request.headers_too_large",
    category: "INVALID_ARGUMENT",
    message: "The request headers are too large.",
    httpStatus: 431,
  },
  {
    code: "core.request.timeout",
    category: "INVALID_ARGUMENT",
    message: "The request was not received in time.",
    httpStatus: 408,
  },
] as const);

function registerAndReturn<const T extends readonly Parameters<typeof registerCodes>[0][number][]>(
  defs: T,
): T {
  registerCodes(defs);
  return defs;
}
