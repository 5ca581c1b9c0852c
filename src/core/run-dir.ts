import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Longest socket path we create; Linux allows 107 bytes in sun_path. */
const MAX_SOCKET_PATH = 100;
/** Sockets are named `core.sock` and `<n>.sock` (n: launch counter). */
const LONGEST_SOCKET_NAME = 16;

function privateDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
  const stat = lstatSync(path);
  if (!stat.isDirectory() || stat.isSymbolicLink()) throw new Error(`${path} is not a directory`);
  if (typeof process.getuid === "function" && stat.uid !== process.getuid()) {
    throw new Error(`${path} belongs to uid ${stat.uid}, not to the user running the core`);
  }
  return path;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Creates the core's private runtime directory (mode 0700) for its sockets:
 * `$OUTRIG_HOME/run/<pid>`, or a private temporary directory when that path is too
 * long for Unix socket names. Directories left by dead cores are removed.
 */
export function createRunDir(home: string): string {
  privateDir(home);
  const runRoot = privateDir(join(home, "run"));
  for (const entry of readdirSync(runRoot)) {
    if (/^\d+$/.test(entry) && !alive(Number(entry)))
      rmSync(join(runRoot, entry), { recursive: true, force: true });
  }
  const preferred = join(runRoot, String(process.pid));
  if (preferred.length + 1 + LONGEST_SOCKET_NAME <= MAX_SOCKET_PATH) {
    if (existsSync(preferred)) rmSync(preferred, { recursive: true, force: true });
    return privateDir(preferred);
  }
  return privateDir(mkdtempSync(join(tmpdir(), "outrig-")));
}
