import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { connect } from "node:net";
import { freePort } from "../../support/ports.ts";

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  while (Date.now() < deadlineMs) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.end();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("redis-server did not start in time");
}

/**
 * Starts a throwaway redis-server on a random loopback port, without persistence.
 * A missing binary is a test failure with instructions, never a silent skip.
 */
export async function startRedis(options: { searchPath?: string } = {}): Promise<RedisServer> {
  const which = spawnSync("/bin/sh", ["-c", "command -v redis-server"], {
    encoding: "utf8",
    env: { PATH: options.searchPath ?? process.env.PATH ?? "" },
  });
  const binary = which.stdout.trim();
  if (which.status !== 0 || binary === "") {
    throw new Error(
      "redis-server is not installed; the Redis tests need it (Debian: apt-get install -y redis-server)",
    );
  }
  const port = await freePort();
  const child = spawn(
    binary,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  // Never outlive the test process, even when a test fails before stopping the server.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.unref();
  await waitForPort(port, child, Date.now() + 10_000);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      process.removeListener("exit", killOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
