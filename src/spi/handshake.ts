/**
 * The handshake line: the first line a supervised module prints on stdout once it
 * listens, `outrig|1|<address>|grpc`, for example `outrig|1|unix:///run/x/echo-1.sock|grpc`.
 * Everything the module prints after it is captured as log output.
 */
export const HANDSHAKE_PREFIX = "outrig";
export const HANDSHAKE_VERSION = "1";
export const HANDSHAKE_PROTOCOL = "grpc";
/** Longest line the core reads while waiting for the handshake. */
export const MAX_HANDSHAKE_LINE = 4096;

export interface Handshake {
  address: string;
}

export function formatHandshake(address: string): string {
  return `${HANDSHAKE_PREFIX}|${HANDSHAKE_VERSION}|${address}|${HANDSHAKE_PROTOCOL}`;
}

export class HandshakeError extends Error {
  constructor(
    message: string,
    readonly line: string,
  ) {
    super(message);
    this.name = "HandshakeError";
  }
}

/** Shows an untrusted line in an error message: bounded and without control characters. */
export function quoteLine(line: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: making control characters visible is the point
  const visible = line.replace(/[\u0000-\u001f\u007f]/g, "?");
  return JSON.stringify(visible.length > 120 ? `${visible.slice(0, 120)}…` : visible);
}

export function parseHandshake(line: string): Handshake {
  const expected = `expected ${formatHandshake("<address>")}`;
  const fields = line.trim().split("|");
  if (fields[0] !== HANDSHAKE_PREFIX || fields.length !== 4) {
    throw new HandshakeError(`unrecognized handshake line ${quoteLine(line)}; ${expected}`, line);
  }
  const [, version, address = "", protocol] = fields;
  if (version !== HANDSHAKE_VERSION) {
    throw new HandshakeError(
      `handshake version ${quoteLine(version ?? "")} is not supported (the core speaks ${HANDSHAKE_VERSION})`,
      line,
    );
  }
  if (protocol !== HANDSHAKE_PROTOCOL) {
    throw new HandshakeError(
      `handshake protocol ${quoteLine(protocol ?? "")} is not supported; ${expected}`,
      line,
    );
  }
  if (!isModuleAddress(address)) {
    throw new HandshakeError(
      `handshake address ${quoteLine(address)} is not unix:///path or host:port`,
      line,
    );
  }
  return { address };
}

/** `unix:///absolute/path` or `host:port`. */
export function isModuleAddress(address: string): boolean {
  if (address.startsWith("unix://")) return address.startsWith("unix:///") && address.length > 8;
  return /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(address);
}

/** The filesystem path of a `unix:///path` address, or undefined for TCP. */
export function unixSocketPath(address: string): string | undefined {
  return address.startsWith("unix://") ? address.slice("unix://".length) : undefined;
}
