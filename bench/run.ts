/**
 * Runs every benchmark, each in its own process (so one's memory and JIT state do not
 * colour another's), and prints their JSON result lines. `--quick` shortens each run.
 *
 *   npm run bench [-- --quick] [-- --only spi-hop]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
const passThrough = args.filter((a) => a === "--quick");
const benches = ["spi-hop", "manifest", "authz"].filter((b) => !only || b === only);

const results: unknown[] = [];
let failed = false;
for (const name of benches) {
  const script = join(here, name, "run.js");
  if (!existsSync(script)) continue;
  console.error(`== bench ${name}`);
  const run = spawnSync(process.execPath, [script, ...passThrough], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  process.stdout.write(run.stdout);
  for (const line of run.stdout.split("\n")) {
    if (line.startsWith("{")) results.push(JSON.parse(line));
  }
  if (run.status !== 0) failed = true;
}
const out = join(here, "..", "..", "reports");
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "bench.json"), `${JSON.stringify(results, null, 2)}\n`);
console.error(`results: reports/bench.json`);
process.exitCode = failed ? 1 : 0;
