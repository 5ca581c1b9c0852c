import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root (where package.json is), from source or from dist/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the Outrig package root");
    dir = parent;
  }
  return dir;
}

/** `$OUTRIG_HOME`, default `~/.outrig`: sockets, keys and logs live here. */
export function outrigHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.OUTRIG_HOME ?? join(homedir(), ".outrig"));
}

/** Where a running core records its URL, pid and SPI address for `outrig status`. */
export function coreStateFile(home: string): string {
  return join(home, "core.json");
}
