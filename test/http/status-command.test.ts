import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jest } from "@jest/globals";
import { generateDevToken } from "../../src/authority/dev-token.ts";
import { UsageError } from "../../src/cli/command.ts";
import { formatTable, resolveCoreUrl, runStatus, type StatusIo } from "../../src/cli/commands/status.ts";
import { main } from "../../src/cli/main.ts";
import { freePort } from "../support/ports.ts";
import { FakeAdmin, moduleStatus, startServer, type TestServer } from "./helpers.ts";

let t: TestServer;
let home: string;
beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), "outrig-status-"));
  const admin = new FakeAdmin(
    moduleStatus("echo"),
    moduleStatus("llm", {
      state: "degraded",
      replicas: { desired: 2, ready: 1 },
      restarts: { total: 5, inWindow: 2, max: 3, windowMs: 600_000 },
      spiVersion: "1.0",
      lastError: { message: "exited with code 1\u001b[2J", at: "2025-01-01T00:00:00.000Z" },
      instances: [
        {
          id: "llm-1",
          state: "ready",
          deployment: "supervised",
          pid: 101,
          generation: 1,
          startedAt: "",
          inFlight: 0,
        },
        {
          id: "llm-2",
          state: "starting",
          deployment: "supervised",
          pid: 102,
          generation: 1,
          startedAt: "",
          inFlight: 0,
        },
      ],
    }),
    moduleStatus("mcp", {
      state: "waiting",
      spiVersion: undefined,
      replicas: { desired: 1, ready: 0 },
      instances: [],
    }),
  );
  t = await startServer({ admin });
});
afterEach(async () => {
  await t.close();
  rmSync(home, { recursive: true, force: true });
});

function io(overrides: Partial<StatusIo> = {}): StatusIo & { stdout: string; stderr: string } {
  const captured = {
    stdout: "",
    stderr: "",
    env: { OUTRIG_HOME: home },
    isTTY: false,
    out(text: string) {
      captured.stdout += text;
    },
    err(text: string) {
      captured.stderr += text;
    },
    ...overrides,
  };
  return captured;
}

describe("outrig status", () => {
  it("prints a table of the modules", async () => {
    const out = io();
    expect(await runStatus(["--url", t.base], out)).toBe(0);
    const lines = out.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^MODULE\s+STATE\s+READY\s+RESTARTS\s+PID\(S\)\s+SPI\s+LAST ERROR$/);
    expect(lines[1]).toMatch(/^echo\s+ready\s+1\/1\s+0\/3\s+4242\s+1\.0\s+-$/);
    expect(lines[2]).toMatch(/^llm\s+degraded\s+1\/2\s+2\/3\s+101,102\s+1\.0\s+exited with code 1 \[2J$/);
    expect(lines[3]).toMatch(/^mcp\s+waiting\s+0\/1\s+0\/3\s+-\s+-\s+-$/);
    expect(out.stdout).not.toContain("\u001b");
  });

  it("--json prints the admin API's JSON", async () => {
    const out = io();
    expect(await runStatus(["--json", "--url", `${t.base}/`], out)).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ modules: t.admin.list() });
  });

  it("finds the core through $OUTRIG_HOME/core.json", async () => {
    writeFileSync(join(home, "core.json"), JSON.stringify({ url: t.base, pid: process.pid }));
    const out = io();
    expect(await runStatus([], out)).toBe(0);
    expect(out.stdout).toContain("echo");
  });

  it("falls back to the default URL without a usable core.json", () => {
    expect(resolveCoreUrl(undefined, { OUTRIG_HOME: home })).toEqual({
      url: "http://127.0.0.1:8080",
      source: "the default",
    });
    writeFileSync(join(home, "core.json"), "{torn");
    expect(resolveCoreUrl(undefined, { OUTRIG_HOME: home }).url).toBe("http://127.0.0.1:8080");
    expect(resolveCoreUrl("http://h:1/", { OUTRIG_HOME: home })).toEqual({
      url: "http://h:1",
      source: "--url",
    });
  });

  it("exits 1 with a clear error naming the URL when no core answers", async () => {
    const port = await freePort();
    const out = io();
    expect(await runStatus(["--url", `http://127.0.0.1:${port}`], out)).toBe(1);
    expect(out.stderr).toContain(`no Outrig core answered at http://127.0.0.1:${port}`);
    expect(out.stderr).toContain("ECONNREFUSED");
    expect(out.stdout).toBe("");

    writeFileSync(join(home, "core.json"), JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: 1 }));
    const stale = io();
    expect(await runStatus([], stale)).toBe(1);
    expect(stale.stderr).toContain(join(home, "core.json"));
  });

  it("reports an error answer from the core with its envelope", async () => {
    const out = io();
    expect(await runStatus(["--url", `${t.base}/nope`], out)).toBe(1);
    expect(out.stderr).toContain("answered 404: No such route. (core.route.not_found)");
  });

  it("--watch repeats until stopped (plain output when not a TTY)", async () => {
    const stop = new AbortController();
    let frames = 0;
    const out = io({ signal: stop.signal, intervalMs: 20 });
    const write = out.out;
    out.out = (text) => {
      write.call(out, text);
      if (++frames === 3) stop.abort();
    };
    expect(await runStatus(["--watch", "--url", t.base], out)).toBe(0);
    expect(out.stdout.match(/^Outrig core at /gm)).toHaveLength(3);
    expect(out.stdout).not.toContain("\u001b[2J");
  });

  it("--watch clears the screen in a TTY and keeps going when the core is away", async () => {
    const port = await freePort();
    const stop = new AbortController();
    const out = io({ signal: stop.signal, intervalMs: 10, isTTY: true });
    setTimeout(() => stop.abort(), 60);
    expect(await runStatus(["--watch", "--url", `http://127.0.0.1:${port}`], out)).toBe(0);
    expect(out.stdout.startsWith("\u001b[2J\u001b[H")).toBe(true);
    expect(out.stdout).toContain("no Outrig core answered");
  });

  it("refuses bad options as usage errors", async () => {
    await expect(runStatus(["--bogus"], io())).rejects.toBeInstanceOf(UsageError);
    await expect(runStatus(["--url", "ftp://x"], io())).rejects.toBeInstanceOf(UsageError);
    await expect(runStatus(["extra"], io())).rejects.toBeInstanceOf(UsageError);
  });

  it("is registered with the CLI", async () => {
    const port = await freePort();
    const stderr = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await main(["status", "--url", `http://127.0.0.1:${port}`])).toBe(1);
      expect(String(stderr.mock.calls[0]?.[0])).toContain(`http://127.0.0.1:${port}`);
    } finally {
      stderr.mockRestore();
    }
  });

  describe("the dev token in $OUTRIG_HOME", () => {
    /** A core stand-in that records the headers of each request. */
    async function recordingCore(): Promise<{
      url: string;
      seen: IncomingHttpHeaders[];
      close(): Promise<void>;
    }> {
      const seen: IncomingHttpHeaders[] = [];
      const server = createServer((req, res) => {
        seen.push(req.headers);
        res.setHeader("content-type", "application/json");
        res.end('{"modules":[]}');
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as AddressInfo;
      return {
        url: `http://127.0.0.1:${port}`,
        seen,
        close: () => new Promise((resolve) => server.close(() => resolve())),
      };
    }

    it("is sent when it is a file of ours with mode 0600", async () => {
      const token = generateDevToken();
      writeFileSync(join(home, "dev-token"), `${token}\n`, { mode: 0o600 });
      const core = await recordingCore();
      try {
        const out = io();
        expect(await runStatus(["--url", core.url], out)).toBe(0);
        expect(core.seen[0]?.authorization).toBe(`Bearer ${token}`);
        expect(out.stderr).toBe("");
      } finally {
        await core.close();
      }
    });

    it.each([
      [
        "readable by others",
        (path: string) => {
          writeFileSync(path, generateDevToken(), { mode: 0o600 });
          chmodSync(path, 0o644);
        },
      ],
      [
        "a symbolic link",
        (path: string) => {
          writeFileSync(`${path}.real`, generateDevToken(), { mode: 0o600 });
          symlinkSync(`${path}.real`, path);
        },
      ],
      [
        "not a dev token",
        (path: string) => writeFileSync(path, "secret-of-something-else\n", { mode: 0o600 }),
      ],
    ])("is not sent when it is %s", async (_name, write) => {
      write(join(home, "dev-token"));
      const core = await recordingCore();
      try {
        const out = io();
        expect(await runStatus(["--url", core.url], out)).toBe(0);
        expect(core.seen).toHaveLength(1);
        expect(core.seen[0]?.authorization).toBeUndefined();
        expect(out.stderr).toContain(`not using ${join(home, "dev-token")}`);
      } finally {
        await core.close();
      }
    });

    it("OUTRIG_TOKEN wins over the file", async () => {
      writeFileSync(join(home, "dev-token"), generateDevToken(), { mode: 0o600 });
      const core = await recordingCore();
      try {
        expect(
          await runStatus(["--url", core.url], io({ env: { OUTRIG_HOME: home, OUTRIG_TOKEN: "t0" } })),
        ).toBe(0);
        expect(core.seen[0]?.authorization).toBe("Bearer t0");
      } finally {
        await core.close();
      }
    });
  });

  it("formats an empty module list", () => {
    expect(formatTable([])).toBe("No modules configured.\n");
  });
});
