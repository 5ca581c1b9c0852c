import { readFileSync } from "node:fs";
import { devTokenPath, readDevToken } from "../../authority/dev-token.ts";
import { coreStateFile, outrigHome } from "../../core/paths.ts";
import type { ModuleStatus } from "../../core/types.ts";
import { parseCommandArgs } from "../args.ts";
import { type Command, UsageError } from "../command.ts";

const USAGE = `Usage: outrig status [--json] [--watch] [--url URL]

Shows the modules of a running Outrig core: state, ready/desired instances, restarts
within the budget window, process ids, SPI version and last error.

Options:
  --json       Print the admin API's JSON instead of a table
  --watch      Refresh every second until Ctrl-C
  --url URL    The core to ask (default: the url in $OUTRIG_HOME/core.json, written by
               \`outrig up\`, else http://127.0.0.1:8080)`;

export const DEFAULT_CORE_URL = "http://127.0.0.1:8080";
const REQUEST_TIMEOUT_MS = 3000;

/** Where the command writes, and what ends `--watch`; the CLI passes the process's own. */
export interface StatusIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
  /** Ends `--watch`. */
  signal?: AbortSignal;
  intervalMs?: number;
}

export const statusCommand: Command = {
  name: "status",
  summary: "Show the modules of a running core",
  usage: USAGE,
  async run(argv) {
    const stop = new AbortController();
    const onInterrupt = () => stop.abort();
    process.once("SIGINT", onInterrupt);
    try {
      return await runStatus(argv, {
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
        env: process.env,
        isTTY: process.stdout.isTTY === true,
        signal: stop.signal,
      });
    } finally {
      process.off("SIGINT", onInterrupt);
    }
  },
};

export async function runStatus(argv: string[], io: StatusIo): Promise<number> {
  const options = parseOptions(argv);
  const core = resolveCoreUrl(options.url, io.env);
  const token = await adminCredential(io.env, (text) => io.err(text));
  if (token) core.token = token;
  if (!options.watch) {
    try {
      io.out(render(await fetchModules(core), options.json));
      return 0;
    } catch (error) {
      io.err(`outrig status: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }
  }
  // Watch: a core that stops answering is shown, not fatal; Ctrl-C ends it.
  while (!io.signal?.aborted) {
    let body: string;
    try {
      body = render(await fetchModules(core), options.json);
    } catch (error) {
      body = `${error instanceof Error ? error.message : String(error)}\n`;
    }
    const header = `Outrig core at ${core.url} · ${new Date().toISOString()} (Ctrl-C to stop)\n\n`;
    io.out(io.isTTY ? `\x1b[2J\x1b[H${header}${body}` : `${header}${body}\n`);
    await sleep(io.intervalMs ?? 1000, io.signal);
  }
  return 0;
}

function parseOptions(argv: string[]): { json: boolean; watch: boolean; url?: string } {
  const { values } = parseCommandArgs(argv, {
    json: { type: "boolean" },
    watch: { type: "boolean" },
    url: { type: "string" },
  });
  if (values.url !== undefined && !isHttpUrl(values.url)) {
    throw new UsageError(`--url must be an http:// or https:// URL, not ${JSON.stringify(values.url)}`);
  }
  return { json: values.json === true, watch: values.watch === true, url: values.url };
}

export interface CoreLocation {
  url: string;
  /** Where the url came from, named in errors. */
  source: string;
  /** Bearer credential for the admin API: OUTRIG_TOKEN, else the local core's dev token. */
  token?: string;
}

/**
 * OUTRIG_TOKEN, else the development token a local core wrote to $OUTRIG_HOME, with
 * `outrig dev-token`'s checks: a file that may have leaked (a link, readable by others,
 * owned by someone else) or holds no dev token is not sent anywhere.
 */
export async function adminCredential(
  env: NodeJS.ProcessEnv,
  warn: (text: string) => void = () => {},
): Promise<string | undefined> {
  if (env.OUTRIG_TOKEN) return env.OUTRIG_TOKEN;
  const home = outrigHome(env);
  try {
    return await readDevToken(home);
  } catch {
    warn(
      `outrig status: not using ${devTokenPath(home)}: it must be a regular file of yours with mode 0600 holding a development token\n`,
    );
    return undefined;
  }
}

/** `--url`, else `$OUTRIG_HOME/core.json` (written by `outrig up`), else the default listener. */
export function resolveCoreUrl(flag: string | undefined, env: NodeJS.ProcessEnv): CoreLocation {
  if (flag !== undefined) return { url: trimSlash(flag), source: "--url" };
  const file = coreStateFile(outrigHome(env));
  let text: string | undefined;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return { url: DEFAULT_CORE_URL, source: "the default" };
  }
  try {
    const url = (JSON.parse(text) as { url?: unknown }).url;
    if (typeof url === "string" && isHttpUrl(url)) return { url: trimSlash(url), source: file };
  } catch {
    // a torn or foreign file: fall back like a missing one, but say so
  }
  return { url: DEFAULT_CORE_URL, source: `the default (${file} has no valid url)` };
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

interface Fetched {
  raw: unknown;
  modules: ModuleStatus[];
}

/** GET /admin/modules, every failure turned into one sentence naming the URL. */
export async function fetchModules(core: CoreLocation): Promise<Fetched> {
  const target = `${core.url}/admin/modules`;
  let response: Response;
  try {
    response = await fetch(target, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      ...(core.token ? { headers: { authorization: `Bearer ${core.token}` } } : {}),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new Error(
      `no Outrig core answered at ${core.url} (${cause}; url from ${core.source}). ` +
        "Start one with `outrig up`, or pass --url.",
    );
  }
  let raw: unknown;
  try {
    raw = await response.json();
  } catch {
    throw new Error(
      `the server at ${core.url} answered ${response.status} without JSON: is it an Outrig core?`,
    );
  }
  if (!response.ok) {
    const error = (raw as { error?: { message?: unknown; code?: unknown } } | null)?.error;
    const detail =
      typeof error?.message === "string" ? `: ${clean(error.message)} (${clean(String(error.code))})` : "";
    throw new Error(`the core at ${core.url} answered ${response.status}${detail}`);
  }
  const modules = (raw as { modules?: unknown } | null)?.modules;
  if (!Array.isArray(modules))
    throw new Error(`the server at ${core.url} sent no module list: is it an Outrig core?`);
  return { raw, modules: modules as ModuleStatus[] };
}

function render(fetched: Fetched, json: boolean): string {
  return json ? `${JSON.stringify(fetched.raw, null, 2)}\n` : formatTable(fetched.modules);
}

const COLUMNS = ["MODULE", "STATE", "READY", "RESTARTS", "PID(S)", "SPI", "LAST ERROR"];
const MAX_ERROR_WIDTH = 72;

/** The status table; every value from the core is cleaned of control characters first. */
export function formatTable(modules: ModuleStatus[]): string {
  if (modules.length === 0) return "No modules configured.\n";
  const rows = modules.map((m) => {
    const pids = (m.instances ?? []).flatMap((i) => (i.pid === undefined ? [] : [String(i.pid)]));
    const lastError = m.lastError?.message ? truncate(clean(m.lastError.message), MAX_ERROR_WIDTH) : "-";
    return [
      clean(m.id),
      clean(m.state),
      `${m.replicas?.ready ?? 0}/${m.replicas?.desired ?? 0}`,
      `${m.restarts?.inWindow ?? 0}/${m.restarts?.max ?? 0}`,
      pids.length > 0 ? pids.join(",") : "-",
      m.spiVersion ? clean(m.spiVersion) : "-",
      lastError,
    ];
  });
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return `${[COLUMNS, ...rows].map(line).join("\n")}\n`;
}

/** A hostile module must not drive the terminal through its error text. */
function clean(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
