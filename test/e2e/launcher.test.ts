/**
 * bin/outrig.js on a Node older than 22.18 re-runs itself on the bundled Node; when
 * that child dies of a signal, the launcher exits as a shell would (128 + the signal's
 * number). Runs only where such an older Node is on the PATH.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, waitFor } from "../support/harness.ts";

function olderNode(): string | undefined {
  const which = spawnSync("which", ["-a", "node"], { encoding: "utf8" });
  for (const path of which.stdout?.split("\n").filter(Boolean) ?? []) {
    const version = spawnSync(path, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout?.trim();
    const [major = 0, minor = 0] = (version ?? "").split(".").map(Number);
    if (major > 0 && (major < 22 || (major === 22 && minor < 18))) return path;
  }
  return undefined;
}

const OLD_NODE = olderNode();
const bundledTest = OLD_NODE ? test : test.skip;

bundledTest("a child killed by SIGKILL makes the launcher exit 137", async () => {
  const home = mkdtempSync(join(tmpdir(), "launcher-"));
  try {
    const config = join(home, "outrig.yaml");
    writeFileSync(config, "server:\n  port: 0\nmodules: []\n");
    const launcher = spawn(OLD_NODE!, [join(ROOT, "bin/outrig.js"), "up", "--config", config], {
      env: { ...process.env, OUTRIG_HOME: home },
      stdio: "ignore",
    });
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
