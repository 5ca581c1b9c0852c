import { type FSWatcher, watch } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { PolicyEngine, PolicyLoadResult, PolicySource } from "./policy-engine.ts";

/**
 * Policies from files: each path is a `.cedar` file or a directory whose `.cedar`
 * files are read in name order and joined. Policy ids, not file names, identify policies.
 */
export function policyFileSource(paths: readonly string[]): PolicySource {
  const absolute = paths.map((p) => resolve(p));
  return {
    description: absolute.join(", "),
    async read() {
      const texts: string[] = [];
      for (const path of absolute) {
        if ((await stat(path)).isDirectory()) {
          const names = (await readdir(path)).filter((n) => n.endsWith(".cedar")).sort();
          for (const name of names) texts.push(await readFile(join(path, name), "utf8"));
        } else {
          texts.push(await readFile(path, "utf8"));
        }
      }
      return texts.join("\n");
    },
  };
}

export interface PolicyWatcher {
  close(): void;
}

/**
 * Reloads the engine when a watched policy file changes. Watches the parent
 * directories (editors replace files by rename), debounces bursts of events, and
 * never runs two reloads at once. An invalid edit is refused by the engine and the
 * set in force stays; `onResult` sees every outcome.
 */
export function watchPolicyFiles(
  engine: PolicyEngine,
  paths: readonly string[],
  options: { debounceMs?: number; onResult?: (result: PolicyLoadResult) => void } = {},
): PolicyWatcher {
  const debounceMs = options.debounceMs ?? 200;
  const targets = paths.map((p) => resolve(p));
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  let closed = false;

  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const result = await engine.reload();
        if (!closed) options.onResult?.(result);
      } while (again && !closed);
    } finally {
      running = false;
    }
  };
  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void run(), debounceMs);
  };

  const dirs = new Map<string, Set<string> | "all">();
  for (const target of targets) {
    // A directory target reacts to anything inside it; a file target to its own name.
    const isDir = !target.endsWith(".cedar");
    const dir = isDir ? target : dirname(target);
    const current = dirs.get(dir);
    if (isDir || current === "all") dirs.set(dir, "all");
    else dirs.set(dir, new Set([...(current ?? []), basename(target)]));
  }
  for (const [dir, names] of dirs) {
    const watcher = watch(dir, (_event, filename) => {
      if (names === "all" || (filename !== null && names.has(filename.toString()))) schedule();
    });
    watcher.on("error", () => undefined);
    watchers.push(watcher);
  }
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
