import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { lstat, mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { isIPv4, isIPv6 } from "node:net";
import { join } from "node:path";
import { type AuthResult, authFailure, DEFAULT_REALM } from "./auth-result.ts";
import { authorityError } from "./codes.ts";
import { createPrincipal, type Principal, UNRESTRICTED } from "./principal.ts";

/**
 * The development admin credential of `outrig up`: a random bearer token, printed at
 * start and kept in `$OUTRIG_HOME/dev-token` (mode 0600). It is refused on any
 * address other than loopback, so it can never open a reachable listener.
 */
export const DEV_TOKEN_PREFIX = "ordev_";
export const DEV_TOKEN_FILE = "dev-token";
const DEV_TOKEN_PATTERN = /^ordev_[A-Za-z0-9_-]{43}$/;

export function generateDevToken(): string {
  return `${DEV_TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
}

export function isDevToken(value: string): boolean {
  return value.startsWith(DEV_TOKEN_PREFIX);
}

/** Whether `host` is a loopback bind address: 127.0.0.0/8, ::1 or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (h.toLowerCase() === "localhost") return true;
  if (isIPv4(h)) return h.split(".")[0] === "127";
  if (isIPv6(h)) {
    // Expand to compare ::1 in any spelling (0:0:0:0:0:0:0:1, ::0001).
    const [head = "", tail = ""] = h.split("::");
    const left = head === "" ? [] : head.split(":");
    const right = tail === "" ? [] : tail.split(":");
    if (!h.includes("::") && left.length !== 8) return false;
    const groups = [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
    return groups.length === 8 && groups.every((g, i) => Number.parseInt(g, 16) === (i === 7 ? 1 : 0));
  }
  return false;
}

/** Throws `auth.dev_token.non_loopback` unless `host` is a loopback address. */
export function assertLoopbackForDevToken(host: string): void {
  if (!isLoopbackHost(host)) throw authorityError("auth.dev_token.non_loopback");
}

export function devTokenPath(outrigHome: string): string {
  return join(outrigHome, DEV_TOKEN_FILE);
}

/**
 * Writes the token with mode 0600, atomically (temporary file, then rename), in a
 * home directory created with mode 0700 when missing.
 */
export async function writeDevToken(outrigHome: string, token: string): Promise<string> {
  if (!DEV_TOKEN_PATTERN.test(token)) throw authorityError("auth.dev_token.invalid");
  await mkdir(outrigHome, { recursive: true, mode: 0o700 });
  const path = devTokenPath(outrigHome);
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(temp, "wx", 0o600);
  try {
    await handle.writeFile(`${token}\n`, "utf8");
    await handle.chmod(0o600); // the umask cannot widen it, but make it explicit
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  return path;
}

/**
 * Reads the token back. Refuses a file that is not a regular file, is readable by
 * group or others, or is owned by another user: such a token may have leaked.
 */
export async function readDevToken(outrigHome: string): Promise<string | undefined> {
  const path = devTokenPath(outrigHome);
  let info: Awaited<ReturnType<typeof lstat>>;
  try {
    info = await lstat(path);
  } catch {
    return undefined;
  }
  const uid = process.getuid?.();
  if (!info.isFile() || (info.mode & 0o077) !== 0 || (uid !== undefined && info.uid !== uid)) {
    throw authorityError("auth.dev_token.invalid");
  }
  const token = (await readFile(path, "utf8")).trim();
  if (!DEV_TOKEN_PATTERN.test(token)) throw authorityError("auth.dev_token.invalid");
  return token;
}

/** The principal of the dev token: an unrestricted administrator. */
export const DEV_PRINCIPAL: Principal = createPrincipal({
  subject: "dev:admin",
  authMethod: "dev",
  roles: ["admin"],
  teamScope: UNRESTRICTED,
});

/** Accepts exactly one dev token; constructing it on a non-loopback host throws. */
export class DevTokenAuthenticator {
  readonly #digest: Buffer;
  readonly #realm: string;
  readonly #principal: Principal;

  constructor(options: { token: string; bindHost: string; realm?: string; principal?: Principal }) {
    assertLoopbackForDevToken(options.bindHost);
    if (!DEV_TOKEN_PATTERN.test(options.token)) throw authorityError("auth.dev_token.invalid");
    this.#digest = createHash("sha256").update(options.token).digest();
    this.#realm = options.realm ?? DEFAULT_REALM;
    this.#principal = options.principal ?? DEV_PRINCIPAL;
  }

  verify(presented: string): AuthResult {
    const digest = createHash("sha256").update(presented).digest();
    if (!timingSafeEqual(digest, this.#digest)) return authFailure("auth.dev_token.invalid", this.#realm);
    return { ok: true, principal: this.#principal, credential: { method: "dev" } };
  }
}
