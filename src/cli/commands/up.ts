import { join } from "node:path";
import { loadConfigFile } from "../../core/config/load.ts";
import { Core } from "../../core/core.ts";
import { outrigHome, packageRoot } from "../../core/paths.ts";
import { parseCommandArgs } from "../args.ts";
import { type Command, UsageError } from "../command.ts";

const OPTIONS = {
  config: { type: "string", short: "c" },
  host: { type: "string" },
  port: { type: "string", short: "p" },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
} as const;

export function defaultConfigPath(): string {
  return join(packageRoot(), "config", "outrig.default.yaml");
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535)
    throw new UsageError(`--port must be 0-65535, got ${value}`);
  return Number(value);
}

/** Runs a core until SIGINT/SIGTERM; a second signal stops at once. */
async function runCore(argv: string[], mode: "up" | "core"): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS);
  const configPath =
    values.config ?? process.env.OUTRIG_CONFIG ?? (mode === "up" ? defaultConfigPath() : undefined);
  if (!configPath) throw new UsageError("outrig core needs --config FILE (or OUTRIG_CONFIG)");
  const config = loadConfigFile(configPath, {
    host: values.host,
    port: parsePort(values.port),
    logLevel: values["log-level"],
    logFormat: values["log-format"],
  });
  const home = outrigHome();
  const core = await Core.start({ config, home, writeStateFile: true });
  if (core.devToken && process.stderr.isTTY) {
    // Shown on the terminal only, never in a log line; `outrig dev-token` prints it again.
    process.stderr.write(`\n  Development admin token (valid while this core runs): ${core.devToken}\n\n`);
  }

  let signals = 0;
  const stopped = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        core.logger.warn({ signal }, "second signal: exiting now");
        process.exit(130);
      }
      core.logger.info({ signal }, "stopping (press Ctrl-C again to force)");
      core.stop().then(
        () => resolve(0),
        (error) => {
          core.logger.error({ err: error }, "stop failed");
          resolve(1);
        },
      );
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });

  core
    .waitReady(Math.max(...config.modules.map((m) => m.health.startup_timeout_ms), 1000) + 5000)
    .then(() => {
      const first = config.modules[0];
      core.logger.info(
        { url: core.url, status: "outrig status", home },
        first
          ? `ready: try  curl -s -H "Authorization: Bearer $(npx outrig dev-token)" ${core.url}/v1/modules/${first.id}/invoke/${first.id === "echo" ? "echo" : "<operation>"} -d '{"hello":"outrig"}'`
          : "ready",
      );
    })
    .catch((error: Error) => core.logger.error(`not ready: ${error.message}`));

  return stopped;
}

export const upCommand: Command = {
  name: "up",
  summary: "Run the core and its modules on this machine (the embedded default without --config)",
  usage: `Usage: outrig up [--config FILE] [--host HOST] [--port PORT] [--log-level LEVEL] [--log-format json|pretty]

Starts the core on 127.0.0.1:8080 with the modules of the config file (default:
the echo module). State lives in $OUTRIG_HOME (default ~/.outrig). Ctrl-C stops
everything cleanly.`,
  run: (argv) => runCore(argv, "up"),
};

export const coreCommand: Command = {
  name: "core",
  summary: "Run only the core, for docker compose or Kubernetes (modules attach to it)",
  usage: `Usage: outrig core --config FILE [--host HOST] [--port PORT] [--log-level LEVEL] [--log-format json|pretty]

Like \`outrig up\`, but the config file is required (or OUTRIG_CONFIG).`,
  run: (argv) => runCore(argv, "core"),
};
