import { readFileSync } from "node:fs";
import { dirname, extname, isAbsolute, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { configSchema, type OutrigConfig } from "./schema.ts";

/** A config file that cannot be used; the message names the file, the key and the problem. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out === "" ? String(part) : `.${String(part)}`;
  return out || "(top level)";
}

/** One line per problem: `<file>: <key>: <problem>`. */
export function formatZodError(file: string, error: z.ZodError): string {
  const lines = error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === "unrecognized_keys") message = `unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    return `${file}: ${formatPath(issue.path)}: ${message}`;
  });
  return lines.join("\n");
}

function parseDocument(file: string, text: string): unknown {
  const ext = extname(file).toLowerCase();
  try {
    if (ext === ".toml") return parseToml(text);
    if (ext === ".json") return JSON.parse(text);
    if (ext === ".yaml" || ext === ".yml") return parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError(`${file}: cannot parse: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
  }
  throw new ConfigError(`${file}: unknown config format ${JSON.stringify(ext)} (use .yaml, .yml, .toml or .json)`);
}

/** Validates a parsed document; relative paths in it resolve against `baseDir`. */
export function validateConfig(document: unknown, file: string, baseDir: string): OutrigConfig {
  const result = configSchema.safeParse(document ?? {});
  if (!result.success) throw new ConfigError(formatZodError(file, result.error));
  const config = result.data;
  const ids = new Set<string>();
  config.modules.forEach((m, i) => {
    if (ids.has(m.id)) throw new ConfigError(`${file}: modules[${i}].id: duplicate module id ${JSON.stringify(m.id)}`);
    ids.add(m.id);
    if (m.launch === "supervised") {
      if (m.command !== "node" && (m.command.startsWith(".") || m.command.includes("/")) && !isAbsolute(m.command)) {
        m.command = resolve(baseDir, m.command);
      }
      m.args = m.args.map((a) => (a.startsWith("./") || a.startsWith("../") ? resolve(baseDir, a) : a));
      if (m.workdir !== undefined) m.workdir = resolve(baseDir, m.workdir);
    }
    for (const [name, ref] of Object.entries(m.secrets)) {
      if ("file" in ref) m.secrets[name] = { file: resolve(baseDir, ref.file) };
    }
  });
  if (config.spi.bootstrap_token && "file" in config.spi.bootstrap_token) {
    config.spi.bootstrap_token = { file: resolve(baseDir, config.spi.bootstrap_token.file) };
  }
  if (config.modules.some((m) => m.launch === "attached") && !config.spi.bootstrap_token) {
    throw new ConfigError(`${file}: spi.bootstrap_token: required when a module is attached`);
  }
  return config;
}

/** Command-line overrides applied before validation, so they are validated too. */
export interface ConfigOverrides {
  host?: string;
  port?: number;
  logLevel?: string;
  logFormat?: string;
}

function applyOverrides(document: unknown, overrides: ConfigOverrides): unknown {
  if (typeof document !== "object" || document === null || Array.isArray(document)) return document;
  const doc = { ...(document as Record<string, unknown>) };
  const section = (key: string) => {
    const value = doc[key];
    doc[key] = typeof value === "object" && value !== null && !Array.isArray(value) ? { ...value } : {};
    return doc[key] as Record<string, unknown>;
  };
  if (overrides.host !== undefined) section("server").host = overrides.host;
  if (overrides.port !== undefined) section("server").port = overrides.port;
  if (overrides.logLevel !== undefined) section("logging").level = overrides.logLevel;
  if (overrides.logFormat !== undefined) section("logging").format = overrides.logFormat;
  return doc;
}

/** Reads and validates a YAML, TOML or JSON config file. */
export function loadConfigFile(path: string, overrides: ConfigOverrides = {}): OutrigConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`${file}: cannot read (${code ?? "error"})`);
  }
  return validateConfig(applyOverrides(parseDocument(file, text) ?? {}, overrides), file, dirname(file));
}
