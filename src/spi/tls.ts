import { readFileSync } from "node:fs";

/** PEM material for mutual TLS: our certificate and key, and the CA peers must chain to. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

/** Reads one PEM file; the error says what it is and names the file (`what` e.g. "the TLS key"). */
export function readPem(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read ${what} ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

/** Reads the three PEM files; the error names the file that could not be read. */
export function readTlsMaterial(files: { cert: string; key: string; ca: string }): TlsMaterial {
  const read = (what: string, path: string) => readPem(`the TLS ${what}`, path);
  return {
    cert: read("certificate", files.cert),
    key: read("key", files.key),
    ca: read("CA bundle", files.ca),
  };
}

/** Server options that require and verify a client certificate. */
export function mtlsServerOptions(tls: TlsMaterial) {
  return { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true };
}

/** Client options that present our certificate and verify the server's. */
export function mtlsClientOptions(tls: TlsMaterial) {
  return { cert: tls.cert, key: tls.key, ca: tls.ca };
}
