/**
 * SIGKILL of the core: no module process survives. The core runs as a separate
 * process (`outrig up`), so the test can kill it for real.
 */
import { rmSync } from "node:fs";
import { coreFetch, ECHO_MAIN, isAlive, RAW_MODULE, spawnCoreProcess, waitFor } from "../support/harness.ts";

test("SIGKILL of the core leaves no module process behind", async () => {
  const {
    child: core,
    home,
    url,
    pid,
  } = await spawnCoreProcess({
    args: ["up"],
    config: {
      server: { port: 0 },
      logging: { format: "json" },
      modules: [
        { id: "echo", command: "node", args: [ECHO_MAIN], replicas: 2 },
        { id: "raw", command: "node", args: [RAW_MODULE], env: { FIXTURE_MODE: "healthy" } },
      ],
    },
  });
  try {
    expect(pid).toBe(core.pid);
    const pids = await waitFor(async () => {
      const res = await coreFetch(`${url}/admin/modules`).catch(() => undefined);
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
