/**
 * bin/outrig.js on a Node older than 22.18 re-runs itself on the bundled Node; when
 * that child dies of a signal, the launcher exits as a shell would (128 + the signal's
 * number). The launcher runs here on this Node made to report version 20, so the
 * re-exec path runs on every machine, whether or not an older Node is installed.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, waitFor } from "../support/harness.ts";

/** A preload that makes the launcher's Node look like Node 20. */
const AS_NODE_20 = `data:text/javascript,Object.defineProperty(process,"versions",{value:{...process.versions,node:"20.0.0"}})`;

test("a child killed by SIGKILL makes the launcher exit 137", async () => {
  const home = mkdtempSync(join(tmpdir(), "launcher-"));
  try {
    const config = join(home, "outrig.yaml");
    writeFileSync(config, "server:\n  port: 0\nmodules: []\n");
    const launcher = spawn(
      process.execPath,
      ["--import", AS_NODE_20, join(ROOT, "bin/outrig.js"), "up", "--config", config],
      {
        env: { ...process.env, OUTRIG_HOME: home },
        stdio: "ignore",
      },
    );
    const exited = new Promise<number | null>((resolve) => launcher.on("exit", (code) => resolve(code)));
    const state = await waitFor(() => {
      try {
        return JSON.parse(readFileSync(join(home, "core.json"), "utf8")) as { pid: number };
      } catch {
        return undefined;
      }
    }, "core.json");
    expect(state.pid).not.toBe(launcher.pid);
    process.kill(state.pid, "SIGKILL");
    expect(await exited).toBe(137);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
