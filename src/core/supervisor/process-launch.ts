import { type ChildProcess, spawn } from "node:child_process";
import { lstatSync } from "node:fs";
import { createInterface } from "node:readline";
import { ENV, MODULE_COOKIE_VALUE } from "../../spi/env.ts";
import {
  type HandshakeError,
  MAX_HANDSHAKE_LINE,
  parseHandshake,
  quoteLine,
  unixSocketPath,
} from "../../spi/handshake.ts";
import { SUPPORTED_SPI_VERSIONS } from "../../spi/versions.ts";

export interface LaunchSpec {
  moduleId: string;
  instanceId: string;
  command: string;
  args: string[];
  /** The module's environment before the launch contract variables are added. */
  env: Record<string, string>;
  workdir?: string;
  /** `unix:///…` address the module must listen on. */
  listenAddress: string;
  launchSecret: string;
  handshakeTimeoutMs: number;
  logLevel: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchedProcess {
  child: ChildProcess;
  pid: number;
  /** Address from the handshake line. */
  address: string;
  exited: Promise<ExitInfo>;
}

/** Why a launch failed; `message` names the module and says what to fix. */
export class LaunchError extends Error {
  override name = "LaunchError";
  constructor(
    readonly reason:
      | "spawn_failed"
      | "handshake_invalid"
      | "handshake_timeout"
      | "exited_early"
      | "socket_insecure",
    message: string,
  ) {
    super(message);
  }
  /** Settles when the (killed) process has exited, for callers that must see it gone. */
  exited: Promise<ExitInfo> | undefined;
}

export interface OutputSink {
  line(stream: "stdout" | "stderr", line: string): void;
}

const MAX_LINE = 16 * 1024;
const STDERR_TAIL = 10;

function describeExit(exit: ExitInfo): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

/**
 * Spawns a module in its own process group, with the launch contract in its
 * environment and a stdin pipe as its lifeline, and waits for the handshake line.
 */
export async function launchModule(
  spec: LaunchSpec,
  sink: OutputSink,
  onSpawn: (pid: number) => void,
): Promise<LaunchedProcess> {
  const who = `module ${JSON.stringify(spec.moduleId)} (instance ${spec.instanceId})`;
  const env: Record<string, string> = {
    ...spec.env,
    [ENV.cookie]: MODULE_COOKIE_VALUE,
    [ENV.moduleId]: spec.moduleId,
    [ENV.instanceId]: spec.instanceId,
    [ENV.spiVersions]: SUPPORTED_SPI_VERSIONS.join(","),
    [ENV.listen]: spec.listenAddress,
    [ENV.launchSecret]: spec.launchSecret,
    [ENV.logLevel]: spec.logLevel,
    [ENV.lifeline]: "stdin",
  };
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, {
      env,
      cwd: spec.workdir,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
  } catch (error) {
    throw new LaunchError("spawn_failed", `${who} could not be started: ${(error as Error).message}`);
  }
  child.stdin?.on("error", () => {});
  const exited = new Promise<ExitInfo>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  if (child.pid !== undefined) onSpawn(child.pid);

  const stderrTail: string[] = [];
  const stderr = createInterface({ input: child.stderr!, crlfDelay: Number.POSITIVE_INFINITY });
  stderr.on("line", (line) => {
    const bounded = line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line;
    stderrTail.push(bounded);
    if (stderrTail.length > STDERR_TAIL) stderrTail.shift();
    sink.line("stderr", bounded);
  });
  const tail = () =>
    stderrTail.length ? `; last stderr: ${stderrTail.slice(-3).map(quoteLine).join(" | ")}` : "";

  const stdout = createInterface({ input: child.stdout!, crlfDelay: Number.POSITIVE_INFINITY });
  let handshakeLine: ((line: string) => void) | undefined;
  stdout.on("line", (line) => {
    if (handshakeLine) {
      const take = handshakeLine;
      handshakeLine = undefined;
      take(line);
    } else sink.line("stdout", line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line);
  });
  // A handshake line that never ends must not grow without bound.
  let pending = 0;
  child.stdout?.on("data", (chunk: Buffer) => {
    if (!handshakeLine) return;
    pending += chunk.length;
    if (pending > MAX_HANDSHAKE_LINE) handshakeLine?.(chunk.toString("utf8", 0, 200));
  });

  let timer: NodeJS.Timeout | undefined;
  try {
    const line = await Promise.race([
      new Promise<string>((resolve) => {
        handshakeLine = resolve;
      }),
      exited.then((exit) => {
        throw new LaunchError("exited_early", `${who} ${describeExit(exit)} before its handshake${tail()}`);
      }),
      spawnError.then((error) => {
        throw new LaunchError("spawn_failed", `${who} could not be started: ${error.message}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new LaunchError(
                "handshake_timeout",
                `${who} printed no handshake line within ${spec.handshakeTimeoutMs} ms${tail()}`,
              ),
            ),
          spec.handshakeTimeoutMs,
        );
      }),
    ]);
    let address: string;
    try {
      address = parseHandshake(line).address;
    } catch (error) {
      throw new LaunchError("handshake_invalid", `${who}: ${(error as HandshakeError).message}`);
    }
    checkSocket(who, spec.listenAddress, address);
    return { child, pid: child.pid!, address, exited };
  } catch (error) {
    killGroup(child, "SIGKILL");
    if (error instanceof LaunchError && child.pid !== undefined) error.exited = exited;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** The module must listen where it was told, on a socket only we can open. */
function checkSocket(who: string, assigned: string, announced: string): void {
  if (announced !== assigned) {
    throw new LaunchError(
      "socket_insecure",
      `${who} announced ${quoteLine(announced)} but was told to listen on ${quoteLine(assigned)}`,
    );
  }
  const path = unixSocketPath(announced);
  if (!path) return;
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch {
    throw new LaunchError("socket_insecure", `${who} announced ${path} but no socket exists there`);
  }
  if (!stat.isSocket()) throw new LaunchError("socket_insecure", `${who}: ${path} is not a socket`);
  if ((stat.mode & 0o077) !== 0) {
    throw new LaunchError(
      "socket_insecure",
      `${who}: socket ${path} has mode ${(stat.mode & 0o777).toString(8)}; it must be 0600`,
    );
  }
  if (typeof process.getuid === "function" && stat.uid !== process.getuid()) {
    throw new LaunchError(
      "socket_insecure",
      `${who}: socket ${path} is owned by uid ${stat.uid}, not the core's`,
    );
  }
}

/** Signals the module's whole process group (the module and its children). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}
