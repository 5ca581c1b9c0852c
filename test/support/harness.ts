/** Shared helpers for tests that run a real core with real module processes. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateConfig } from "../../src/core/config/load.ts";
import { Core } from "../../src/core/core.ts";
import { packageRoot } from "../../src/core/paths.ts";

export const ROOT = packageRoot();
export const NODE = process.execPath;
export const ECHO_MAIN = join(ROOT, "dist/modules/examples/echo/main.js");
export const RAW_MODULE = join(ROOT, "dist/test/fixtures/modules/raw-module.js");
export const CRASH_MODULE = join(ROOT, "dist/test/fixtures/modules/crash-after-ready.js");

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

/** Polls until `check` returns a truthy value; fails with `what` after the timeout. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** True while `pid` runs; a zombie (dead, not yet reaped by its new parent) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
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
