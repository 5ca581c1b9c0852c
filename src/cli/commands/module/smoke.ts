import { formatSmokeStep, formatSmokeSummary, smokeModule } from "../../../smoke/index.ts";
import { parseCommandArgs } from "../../args.ts";
import { type Command, UsageError } from "../../command.ts";
import { printJson } from "./report.ts";

function parseTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1)
    throw new UsageError(`--timeout must be milliseconds > 0, got ${value}`);
  return Number(value);
}

function parseInput(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new UsageError(`--input must be JSON: ${(error as Error).message}`);
  }
}

export const smokeSubcommand: Command = {
  name: "smoke",
  summary: "Launch a module from its manifest as the core would and make one round trip",
  usage: [
    "Usage: outrig module smoke <manifest> [--operation OP] [--input JSON] [--timeout MS] [--json] [--verbose]",
    "  Steps: manifest, spawn, handshake, descriptor (and agreement with the manifest), spi-negotiation,",
    "  initialize, health (SERVING), proof-of-wiring, round-trip, drain, shutdown, exit; each is timed.",
    "  --operation  operation of the round trip (default: the descriptor's first unary operation)",
    "  --input      JSON input of the round trip (default: {})",
    "  --timeout    limit for the whole run in milliseconds (default 60000); the module is killed after it",
    "  --json       print the report as JSON",
    "  --verbose    print the module's own output as it comes",
    "  Exit 0 passed, 1 a step failed (named in the output), 2 usage mistake.",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        operation: { type: "string" },
        input: { type: "string" },
        timeout: { type: "string" },
        json: { type: "boolean" },
        verbose: { type: "boolean" },
      },
      { min: 1, max: 1, names: "the manifest path" },
    );
    const input = parseInput(values.input);
    const timeoutMs = parseTimeout(values.timeout);
    const json = values.json === true;
    // Ctrl-C stops the run; the module's process group is killed, never left behind.
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    if (!json) console.log(`smoke ${positionals[0]}`);
    try {
      const report = await smokeModule({
        manifest: positionals[0]!,
        operation: values.operation,
        input,
        timeoutMs,
        signal: controller.signal,
        onStep: json ? undefined : (step) => console.log(formatSmokeStep(step)),
        onOutput: values.verbose ? (stream, line) => console.error(`  ${stream} | ${line}`) : undefined,
      });
      if (json) printJson(report, true);
      else if (report.ok) console.log(formatSmokeSummary(report));
      else console.error(formatSmokeSummary(report));
      if (controller.signal.aborted) return 130;
      return report.ok ? 0 : 1;
    } finally {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
    }
  },
};
