/**
 * How a config entry and its module's manifest combine. The config loader and
 * `outrig module smoke` both use this, so smoke launches a module exactly as the core
 * would. Reading is synchronous because config loading is.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { checkManifestFileSync } from "../../manifest/index.ts";
import type { LoadedManifest } from "./schema.ts";

/**
 * A manifest the core can use (its issues kept: warnings and advisories do not block
 * a launch), or the problems that stop it, one line each.
 */
export function loadManifestForConfig(
  path: string,
): { ok: true; loaded: LoadedManifest } | { ok: false; problems: string[] } {
  const checked = checkManifestFileSync(path);
  // The message carries the position of a parse failure; it never names the file.
  if (!checked.ok) return { ok: false, problems: [`${path}: ${checked.message} [${checked.code}]`] };
  const { report } = checked;
  if (!report.ok || !report.manifest) {
    const errors = report.issues.filter((i) => i.severity === "error");
    return {
      ok: false,
      problems: [
        `${path} is invalid (${errors.length} error${errors.length === 1 ? "" : "s"}; see \`outrig module validate ${path}\`)`,
        ...errors.map((i) => `${path}: ${i.code} at ${i.path}: ${i.message}`),
      ],
    };
  }
  return {
    ok: true,
    loaded: { path, manifest: report.manifest, document: checked.document, issues: report.issues },
  };
}

/** A path-like command (`./bin/x`, `bin/x`) resolves against `base`; a bare name is looked up on PATH. */
export function resolveCommandPath(command: string, base: string): string {
  if (command === "node" || isAbsolute(command)) return command;
  return command.startsWith(".") || command.includes("/") ? resolve(base, command) : command;
}

/** `./x` and `../x` arguments resolve against `base`; anything else is passed as written. */
export function resolveArgPath(arg: string, base: string): string {
  return arg.startsWith("./") || arg.startsWith("../") ? resolve(base, arg) : arg;
}

/**
 * The manifest's entrypoint with its relative paths resolved against the manifest's
 * directory; the working directory defaults to that directory, so `args: [main.ts]`
 * runs the file beside the manifest.
 */
export function manifestEntrypoint(loaded: LoadedManifest): {
  command: string;
  args: string[];
  env: Record<string, string>;
  workdir: string;
} {
  const base = dirname(loaded.path);
  const { entrypoint } = loaded.manifest;
  return {
    command: resolveCommandPath(entrypoint.command, base),
    args: entrypoint.args.map((a) => resolveArgPath(a, base)),
    env: { ...entrypoint.env },
    workdir: resolve(base, entrypoint.workdir ?? "."),
  };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The config entry with the manifest's values filled in where the entry is silent:
 * entrypoint keys one by one (env merged, the entry's variables win), health and
 * restart key by key. Values the entry sets that are not objects are left for the
 * schema to report.
 */
export function mergeManifestIntoEntry(
  entry: Record<string, unknown>,
  loaded: LoadedManifest,
): Record<string, unknown> {
  const { manifest } = loaded;
  const merged: Record<string, unknown> = { ...entry };
  merged.id ??= manifest.id;
  if (entry.health === undefined || isObject(entry.health))
    merged.health = { ...manifest.health, ...(entry.health ?? {}) };
  if (entry.launch === "attached") return merged;

  const entrypoint = manifestEntrypoint(loaded);
  merged.command ??= entrypoint.command;
  merged.args ??= entrypoint.args;
  merged.workdir ??= entrypoint.workdir;
  if (entry.env === undefined || isObject(entry.env))
    merged.env = { ...entrypoint.env, ...(entry.env ?? {}) };
  if (entry.restart === undefined || isObject(entry.restart)) {
    const restart = (entry.restart ?? {}) as Record<string, unknown>;
    const backoff = restart.backoff;
    merged.restart = {
      ...manifest.restart,
      ...restart,
      backoff:
        backoff === undefined || isObject(backoff)
          ? { ...manifest.restart.backoff, ...(backoff ?? {}) }
          : backoff,
    };
  }
  return merged;
}
