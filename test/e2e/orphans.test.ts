/**
 * SIGKILL of the core: no module process survives. The core runs as a separate
 * process (`outrig up`), so the test can kill it for real.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  coreFetch,
  ECHO_MAIN,
  isAlive,
  NODE,
  RAW_MODULE,
  ROOT,
  useToken,
  waitFor,
} from "../support/harness.ts";

test("SIGKILL of the core leaves no module process behind", async () => {
  const home = mkdtempSync(join(tmpdir(), "orphan-"));
  const config = join(home, "outrig.json");
  writeFileSync(
    config,
    JSON.stringify({
      server: { port: 0 },
      logging: { format: "json" },
      modules: [
        { id: "echo", command: "node", args: [ECHO_MAIN], replicas: 2 },
        { id: "raw", command: "node", args: [RAW_MODULE], env: { FIXTURE_MODE: "healthy" } },
      ],
    }),
  );
  const core = spawn(NODE, [join(ROOT, "bin/outrig.js"), "up", "--config", config], {
    env: { ...process.env, OUTRIG_HOME: home },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    const state = await waitFor(() => {
      try {
        return JSON.parse(readFileSync(join(home, "core.json"), "utf8")) as { url: string; pid: number };
      } catch {
        return undefined;
      }
    }, "core.json");
    useToken(state.url, readFileSync(join(home, "dev-token"), "utf8").trim());
    expect(state.pid).toBe(core.pid);
    const pids = await waitFor(async () => {
      const res = await coreFetch(`${state.url}/admin/modules`).catch(() => undefined);
      if (!res?.ok) return undefined;
      const { modules } = (await res.json()) as {
        modules: Array<{ state: string; instances: Array<{ pid?: number }> }>;
      };
      if (!modules.every((m) => m.state === "ready")) return undefined;
      return modules.flatMap((m) => m.instances.map((i) => i.pid!));
    }, "every module to be ready");
    expect(pids).toHaveLength(3);
    for (const pid of pids) expect(isAlive(pid)).toBe(true);

    core.kill("SIGKILL");
    await waitFor(
      () => pids.every((pid) => !isAlive(pid)),
      `module processes ${pids.join(", ")} to be gone`,
      5000,
    );
  } finally {
    core.kill("SIGKILL");
    rmSync(home, { recursive: true, force: true });
  }
});
