import { readFileSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import type { z } from "zod";
import { isLoopbackHost } from "../../authority/dev-token.ts";
import { formatFromPath, parseManifest } from "../../manifest/index.ts";
import { hasCredentials, readAuthoritySection } from "./authority-section.ts";
import {
  loadManifestForConfig,
  mergeManifestIntoEntry,
  resolveArgPath,
  resolveCommandPath,
} from "./manifest-entry.ts";
import {
  configSchema,
  ENTRYPOINT_KEYS,
  type LoadedManifest,
  type ModuleConfig,
  type OutrigConfig,
  type SupervisedModuleConfig,
} from "./schema.ts";

/** A config file that cannot be used; the message names the file, the key and the problem. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const part of path)
    out += typeof part === "number" ? `[${part}]` : out === "" ? String(part) : `.${String(part)}`;
  return out || "(top level)";
}

/** One line per problem: `<file>: <key>: <problem>`. */
function formatZodError(file: string, error: z.ZodError): string {
  const lines = error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === "unrecognized_keys")
      message = `unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    return `${file}: ${formatPath(issue.path)}: ${message}`;
  });
  return lines.join("\n");
}

/**
 * The manifest parser, so a config gets the same guarantees: duplicate keys are errors
 * in every format (JSON.parse would keep the last one silently), and failures name a
 * line and column.
 */
function parseDocument(file: string, bytes: Uint8Array): unknown {
  const format = formatFromPath(file);
  if (!format) {
    throw new ConfigError(
      `${file}: unknown config format ${JSON.stringify(extname(file).toLowerCase())} (use .yaml, .yml, .toml or .json)`,
    );
  }
  const parsed = parseManifest(bytes, { format });
  if (!parsed.ok) throw new ConfigError(`${file}: cannot parse: ${parsed.message} [${parsed.code}]`);
  return parsed.data;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Module entries that name a manifest, loaded and merged; keys each entry set itself. */
interface ManifestPass {
  document: unknown;
  loaded: Map<number, LoadedManifest>;
  explicit: Map<number, Set<string>>;
}

/**
 * Loads every `modules[i].manifest` and fills the entry's gaps from it, before the
 * schema runs, so defaults apply only where neither the config nor the manifest speaks.
 */
function applyManifests(document: unknown, file: string, baseDir: string): ManifestPass {
  const pass: ManifestPass = { document, loaded: new Map(), explicit: new Map() };
  if (!isObject(document) || !Array.isArray(document.modules)) return pass;
  const modules = document.modules.map((entry: unknown, i: number) => {
    if (!isObject(entry) || typeof entry.manifest !== "string" || entry.manifest === "") return entry;
    const key = `modules[${i}].manifest`;
    const path = resolve(baseDir, entry.manifest);
    const result = loadManifestForConfig(path);
    if (!result.ok) throw new ConfigError(result.problems.map((p) => `${file}: ${key}: ${p}`).join("\n"));
    const { manifest } = result.loaded;
    if (entry.id !== undefined && entry.id !== manifest.id) {
      throw new ConfigError(
        `${file}: modules[${i}].id: ${JSON.stringify(entry.id)} differs from the id ${JSON.stringify(manifest.id)} of its manifest ${path}`,
      );
    }
    pass.loaded.set(i, result.loaded);
    pass.explicit.set(i, new Set(Object.keys(entry)));
    return mergeManifestIntoEntry({ ...entry, manifest: path }, result.loaded);
  });
  pass.document = { ...document, modules };
  return pass;
}

/** Validates a parsed document; relative paths in it resolve against `baseDir`. */
export function validateConfig(document: unknown, file: string, baseDir: string): OutrigConfig {
  const pass = applyManifests(document ?? {}, file, baseDir);
  const result = configSchema.safeParse(pass.document ?? {});
  if (!result.success) throw new ConfigError(formatZodError(file, result.error));
  const parsed = result.data;
  const { security } = parsed;
  if (security.trusted_signers !== undefined)
    security.trusted_signers = resolve(baseDir, security.trusted_signers);
  if (security.require_signed && security.trusted_signers === undefined) {
    throw new ConfigError(
      `${file}: security.trusted_signers: required when security.require_signed is true (the signer registry manifests are verified against)`,
    );
  }
  const ids = new Set<string>();
  const modules: ModuleConfig[] = parsed.modules.map((m, i) => {
    if (ids.has(m.id))
      throw new ConfigError(`${file}: modules[${i}].id: duplicate module id ${JSON.stringify(m.id)}`);
    ids.add(m.id);
    const loadedManifest = pass.loaded.get(i);
    for (const [name, ref] of Object.entries(m.secrets)) {
      if ("file" in ref) m.secrets[name] = { file: resolve(baseDir, ref.file) };
    }
    if (m.launch === "attached") return loadedManifest ? { ...m, loadedManifest } : m;
    if (m.command === undefined) {
      throw new ConfigError(
        `${file}: modules[${i}].command: required: give the executable (and args), or \`manifest:\` the path of the module's manifest`,
      );
    }
    if (security.require_signed && loadedManifest) {
      const overridden = ENTRYPOINT_KEYS.filter((k) => pass.explicit.get(i)?.has(k));
      if (overridden.length > 0) {
        throw new ConfigError(
          `${file}: modules[${i}].${overridden[0]}: overrides the entrypoint of the signed manifest ${loadedManifest.path}, which security.require_signed does not allow; move it into the manifest and sign it again`,
        );
      }
    }
    const supervised: SupervisedModuleConfig = {
      ...m,
      command: resolveCommandPath(m.command, baseDir),
      args: m.args.map((a) => resolveArgPath(a, baseDir)),
    };
    if (m.workdir !== undefined) supervised.workdir = resolve(baseDir, m.workdir);
    if (loadedManifest) supervised.loadedManifest = loadedManifest;
    return supervised;
  });
  const config: OutrigConfig = { ...parsed, modules };
  if (config.spi.tls) {
    const tls = config.spi.tls;
    config.spi.tls = {
      cert_file: resolve(baseDir, tls.cert_file),
      key_file: resolve(baseDir, tls.key_file),
      ca_file: resolve(baseDir, tls.ca_file),
    };
  }
  if (config.spi.bootstrap_token && "file" in config.spi.bootstrap_token) {
    config.spi.bootstrap_token = { file: resolve(baseDir, config.spi.bootstrap_token.file) };
  }
  if (config.modules.some((m) => m.launch === "attached") && !config.spi.bootstrap_token) {
    throw new ConfigError(`${file}: spi.bootstrap_token: required when a module is attached`);
  }
  if (config.server.tls) {
    const tls = config.server.tls;
    config.server.tls = {
      ...tls,
      cert_file: resolve(baseDir, tls.cert_file),
      key_file: resolve(baseDir, tls.key_file),
      ...(tls.client_ca_file ? { client_ca_file: resolve(baseDir, tls.client_ca_file) } : {}),
    };
    if (tls.require_client_cert && !tls.client_ca_file) {
      throw new ConfigError(`${file}: server.tls.require_client_cert: needs server.tls.client_ca_file`);
    }
  }
  if (config.authority !== undefined) {
    const section = readAuthoritySection(config.authority, baseDir);
    if (!section.ok)
      throw new ConfigError(section.problems.map((p) => `${file}: ${p.path}: ${p.message}`).join("\n"));
    config.authorityConfig = section.config;
  }
  if ((config.authorityConfig?.mtls?.identities?.length ?? 0) > 0 && !config.server.tls?.client_ca_file) {
    throw new ConfigError(
      `${file}: authority.mtls: client-certificate identities need server.tls.client_ca_file (the CA they are verified against)`,
    );
  }
  if (!isLoopbackHost(config.server.host) && !hasCredentials(config.authorityConfig)) {
    throw new ConfigError(
      `${file}: server.host: ${JSON.stringify(config.server.host)} is not a loopback address; public endpoints there need authentication: configure authority.jwt or authority.api_keys (the development token works on loopback only)`,
    );
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
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`${file}: cannot read (${code ?? "error"})`);
  }
  return validateConfig(applyOverrides(parseDocument(file, bytes) ?? {}, overrides), file, dirname(file));
}
