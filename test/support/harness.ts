/** Shared helpers for tests that run a real core with real module processes. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { validateConfig } from "../../src/core/config/load.ts";
import { Core } from "../../src/core/core.ts";
import { packageRoot } from "../../src/core/paths.ts";
import type { ModuleState, ModuleStatus } from "../../src/core/types.ts";
import { H2ServiceClient } from "../../src/spi/h2/client.ts";
import { waitFor } from "./wait.ts";

export { freePort } from "./ports.ts";
export { isAlive, waitFor } from "./wait.ts";

export const ROOT = packageRoot();
export const NODE = process.execPath;
export const ECHO_MAIN = join(ROOT, "dist/modules/examples/echo/main.js");
export const RAW_MODULE = join(ROOT, "dist/test/fixtures/modules/raw-module.js");
export const CRASH_MODULE = join(ROOT, "dist/test/fixtures/modules/crash-after-ready.js");
export const SECRETS_PROBE_MODULE = join(ROOT, "dist/test/fixtures/modules/secrets-probe.js");
export const DIRECT_INGRESS_MODULE = join(ROOT, "dist/test/fixtures/modules/direct-ingress.js");
export const SDK_BEHAVIOURS_MODULE = join(ROOT, "dist/test/fixtures/modules/sdk-behaviours.js");

/** Directories of the fixture logs this test file made, removed after it. */
const fixtureDirs: string[] = [];
afterAll(() => {
  for (const dir of fixtureDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh path for the raw module's RPC log (its FIXTURE_LOG). */
export function fixtureLog(): string {
  const dir = mkdtempSync(join(tmpdir(), "fxl-"));
  fixtureDirs.push(dir);
  return join(dir, "calls.log");
}

/** The RPCs the raw module logged to `file`, one per line; none when it never wrote. */
export function fixtureCalls(file: string): string[] {
  try {
    return readFileSync(file, "utf8").trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** Fast timings for tests; production defaults are slower on purpose. */
export const FAST = {
  health: { poll_interval_ms: 200, failure_threshold: 3, grace_period_ms: 0, startup_timeout_ms: 8000 },
  restart: {
    max_restarts: 3,
    window_ms: 600_000,
    backoff: { initial_ms: 50, max_ms: 400, multiplier: 2, jitter: 0.1 },
  },
  timeouts: { invoke_ms: 5000, drain_ms: 3000, shutdown_ms: 2000, registration_ms: 5000 },
};

export function echoModule(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: "echo", command: "node", args: [ECHO_MAIN], ...FAST, ...overrides };
}

export function rawModule(
  id: string,
  mode: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const { env, ...rest } = extra as { env?: Record<string, string> };
  return { id, command: "node", args: [RAW_MODULE], env: { FIXTURE_MODE: mode, ...env }, ...FAST, ...rest };
}

/** Dev tokens of the cores this test file started, by base URL. */
const tokens = new Map<string, string>();

/** Registers the credential to use for a core's URL (a core started as a separate process). */
export function useToken(url: string, token: string): void {
  tokens.set(url, token);
}

/** `fetch` against a test core, with that core's development admin token. */
export function coreFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const base = [...tokens.keys()].find((b) => url.startsWith(b));
  const headers = new Headers(init.headers);
  if (base && !headers.has("authorization")) headers.set("authorization", `Bearer ${tokens.get(base)}`);
  return fetch(url, { ...init, headers });
}

export interface TestCore {
  core: Core;
  url: string;
  home: string;
  /** Every log line the core wrote so far, as text. */
  logs(): string;
  /** Every log line the core wrote so far, parsed. */
  entries(): Array<Record<string, unknown> & { msg: string; level: string }>;
  stop(): Promise<void>;
}

/** Starts an in-process core (real sockets, real module processes) with a private $OUTRIG_HOME. */
export async function startCore(document: Record<string, unknown>): Promise<TestCore> {
  const home = mkdtempSync(join(tmpdir(), "orh-"));
  const config = validateConfig(
    { server: { port: 0 }, logging: { level: "debug", format: "json" }, ...document },
    "test-config",
    ROOT,
  );
  const lines: string[] = [];
  const core = await Core.start({
    config,
    home,
    logDestination: { write: (chunk) => lines.push(chunk) > 0 },
  });
  if (core.devToken) useToken(core.url, core.devToken);
  return {
    core,
    url: core.url,
    home,
    logs: () => lines.join(""),
    entries: () =>
      lines
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown> & { msg: string; level: string }),
    stop: async () => {
      await core.stop(2000);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A core per test: returns a starter whose cores stop after each test of the file. */
export function useCores(): (document: Record<string, unknown>) => Promise<TestCore> {
  const cores: TestCore[] = [];
  afterEach(async () => {
    await Promise.all(cores.splice(0).map((c) => c.stop()));
  });
  return async (document) => {
    const c = await startCore(document);
    cores.push(c);
    return c;
  };
}

/** Waits until module `id` is in `state`; returns its status then. */
export function waitForState(
  c: TestCore,
  id: string,
  state: ModuleState,
  timeoutMs?: number,
): Promise<ModuleStatus> {
  return waitFor(
    () => {
      const status = c.core.supervisor.get(id);
      return status?.state === state ? status : undefined;
    },
    `module "${id}" to be ${state}`,
    timeoutMs,
  );
}

/** A client of one of the core's SPI services that speaks as module `moduleId`, with its real credential. */
export function spiClient<S extends DescService>(
  core: Core,
  moduleId: string,
  service: S,
): H2ServiceClient<S> {
  const instance = [...core.supervisor.group(moduleId)!.instances][0]!;
  return new H2ServiceClient(service, core.spiAddress.unix, {
    metadata: { authorization: `Bearer ${instance.moduleCredential}` },
  });
}

export interface CoreProcess {
  child: ChildProcess;
  home: string;
  url: string;
  pid: number;
  /** Its development admin token, also registered for `coreFetch`. */
  token: string;
}

/**
 * Runs `bin/outrig.js <args>` as a separate process with a private $OUTRIG_HOME (and
 * `--config` when `config` is given) and waits until it is ready. Its stderr is
 * inherited unless `output` takes both streams. The caller kills it and removes `home`.
 */
export async function spawnCoreProcess(options: {
  args: string[];
  config?: Record<string, unknown>;
  output?: (text: string) => void;
}): Promise<CoreProcess> {
  const home = mkdtempSync(join(tmpdir(), "core-"));
  const args = [...options.args];
  if (options.config) {
    const file = join(home, "outrig.json");
    writeFileSync(file, JSON.stringify(options.config));
    args.push("--config", file);
  }
  const { output } = options;
  const child = spawn(NODE, [join(ROOT, "bin/outrig.js"), ...args], {
    env: { ...process.env, OUTRIG_HOME: home },
    stdio: ["ignore", output ? "pipe" : "ignore", output ? "pipe" : "inherit"],
  });
  if (output) {
    child.stdout!.on("data", (chunk: Buffer) => output(chunk.toString("utf8")));
    child.stderr!.on("data", (chunk: Buffer) => output(chunk.toString("utf8")));
  }
  try {
    const state = await waitFor(() => {
      if (child.exitCode !== null)
        throw new Error(`outrig exited with code ${child.exitCode} before it was up`);
      try {
        return JSON.parse(readFileSync(join(home, "core.json"), "utf8")) as { url: string; pid: number };
      } catch {
        return undefined;
      }
    }, "core.json");
    const token = readFileSync(join(home, "dev-token"), "utf8").trim();
    useToken(state.url, token);
    await waitFor(
      async () => (await coreFetch(`${state.url}/readyz`).catch(() => undefined))?.status === 200,
      "readiness",
      20_000,
    );
    return { child, home, url: state.url, pid: state.pid, token };
  } catch (error) {
    child.kill("SIGKILL");
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
}

export async function invokeJson(
  url: string,
  moduleId: string,
  operation: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await coreFetch(`${url}/v1/modules/${moduleId}/invoke/${operation}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: res.headers,
  };
}
