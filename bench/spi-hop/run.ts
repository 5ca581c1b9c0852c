/**
 * bench/spi-hop: the cost of one SPI hop from the core's router to a TypeScript module
 * over a Unix socket, against two baselines measured in the same run: the same
 * handler called in-process, and a minimal gRPC-framed round trip over raw node:http2
 * (the floor for any gRPC hop in Node). Also: streaming throughput and the idle memory
 * of a TypeScript sidecar.
 *
 *   npm run build && node dist/bench/spi-hop/run.js [--quick]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:http2";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { echoModule } from "../../modules/examples/echo/module.ts";
import { validateConfig } from "../../src/core/config/load.ts";
import { Core } from "../../src/core/core.ts";
import { packageRoot } from "../../src/core/paths.ts";
import { latency, median, report, throughput } from "../lib/stats.ts";

const quick = process.argv.includes("--quick");
const ITER = quick ? 2000 : 10_000;
const DURATION_MS = quick ? 1500 : 4000;
const ROUNDS = quick ? 1 : 3;
const ROOT = packageRoot();
const here = dirname(fileURLToPath(import.meta.url));

const payload = new TextEncoder().encode(JSON.stringify({ message: "x".repeat(180) })); // 200 bytes
const noop = () => {};
const silentLogger = { info: noop, warn: noop, error: noop, debug: noop, child: () => silentLogger } as never;

async function inProcess() {
  const handler = echoModule.operations.echo.handler;
  const ctx = { instanceId: "bench", signal: new AbortController().signal, logger: silentLogger } as never;
  const call = async () => {
    const input = JSON.parse(new TextDecoder().decode(payload));
    const out = await handler({ payload, contentType: "application/json", input }, ctx);
    return new TextEncoder().encode(JSON.stringify(out));
  };
  return { p50: (await latency(call, ITER)).p50_us, thr: await throughput(call, 64, DURATION_MS) };
}

async function rawHttp2(dir: string) {
  const child = spawn(process.execPath, [join(here, "raw-server.js"), join(dir, "raw.sock")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const path = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout! }).once("line", resolve),
  );
  const session = connect("http://localhost", {
    createConnection: () => netConnect(path) as never,
  });
  const frame = Buffer.alloc(5 + payload.length);
  frame.writeUInt32BE(payload.length, 1);
  frame.set(payload, 5);
  const call = () =>
    new Promise<void>((resolve, reject) => {
      const req = session.request({
        ":method": "POST",
        ":path": "/outrig.module.v1.ModuleService/Invoke",
        "content-type": "application/grpc",
        te: "trailers",
      });
      req.on("data", noop);
      req.on("end", resolve);
      req.on("error", reject);
      req.end(frame);
    });
  try {
    const summary = await latency(call, ITER);
    return { p50: summary.p50_us, p99: summary.p99_us, thr: await throughput(call, 64, DURATION_MS) };
  } finally {
    session.close();
    child.kill();
  }
}

function rssOf(pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return {
    rss_mb: Math.round(kb("VmRSS") * 10) / 10,
    anon_mb: Math.round(kb("RssAnon") * 10) / 10,
    file_mb: Math.round(kb("RssFile") * 10) / 10,
  };
}

async function grpcHop(home: string) {
  const config = validateConfig(
    {
      server: { port: 0 },
      logging: { level: "warn", format: "json" },
      modules: [
        {
          id: "echo",
          command: "node",
          args: ["--max-semi-space-size=2", join(ROOT, "dist/modules/examples/echo/main.js")],
        },
      ],
    },
    "bench",
    ROOT,
  );
  const core = await Core.start({ config, home, logDestination: { write: () => true } });
  try {
    await core.waitReady(20_000);
    const pid = core.supervisor.get("echo")!.instances[0]!.pid!;
    await new Promise((r) => setTimeout(r, 3000));
    const idle = rssOf(pid);
    const call = () =>
      core.router.invoke({ moduleId: "echo", operation: "echo", payload, contentType: "application/json" });
    const summary = await latency(call, ITER);
    const thr = await throughput(call, 64, DURATION_MS);
    const streamPayload = new TextEncoder().encode(JSON.stringify({ count: 10_000 }));
    const streamRates: number[] = [];
    for (let round = 0; round < 3; round++) {
      const start = performance.now();
      let chunks = 0;
      for await (const event of core.router.invokeStream({
        moduleId: "echo",
        operation: "echo.stream",
        payload: streamPayload,
        contentType: "application/json",
      })) {
        if (event.type === "chunk") chunks++;
        if (event.type === "error") throw event.error;
      }
      streamRates.push(Math.round(chunks / ((performance.now() - start) / 1000)));
    }
    return {
      p50: summary.p50_us,
      p99: summary.p99_us,
      thr,
      streamChunksPerS: median(streamRates),
      idle,
      afterLoad: rssOf(pid),
    };
  } finally {
    await core.stop(2000);
  }
}

const dir = mkdtempSync(join(tmpdir(), "bench-"));
try {
  const rounds: Array<{
    inproc: Awaited<ReturnType<typeof inProcess>>;
    raw: Awaited<ReturnType<typeof rawHttp2>>;
    grpc: Awaited<ReturnType<typeof grpcHop>>;
  }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    rounds.push({
      inproc: await inProcess(),
      raw: await rawHttp2(dir),
      grpc: await grpcHop(join(dir, `home${r}`)),
    });
  }
  const m = (f: (x: (typeof rounds)[number]) => number) => median(rounds.map(f));
  const result = {
    payload_bytes: payload.length,
    rounds: ROUNDS,
    inprocess_p50_us: m((x) => x.inproc.p50),
    inprocess_calls_per_s: m((x) => x.inproc.thr),
    raw_http2_p50_us: m((x) => x.raw.p50),
    raw_http2_p99_us: m((x) => x.raw.p99),
    raw_http2_calls_per_s_64: m((x) => x.raw.thr),
    spi_p50_us: m((x) => x.grpc.p50),
    spi_p99_us: m((x) => x.grpc.p99),
    spi_calls_per_s_64: m((x) => x.grpc.thr),
    stream_chunks_per_s: m((x) => x.grpc.streamChunksPerS),
    sidecar_idle_rss_mb: m((x) => x.grpc.idle.rss_mb),
    sidecar_idle_anon_mb: m((x) => x.grpc.idle.anon_mb),
    sidecar_idle_file_mb: m((x) => x.grpc.idle.file_mb),
    sidecar_rss_after_load_mb: m((x) => x.grpc.afterLoad.rss_mb),
  };
  const ratios = {
    p50_vs_raw: Math.round((result.spi_p50_us / result.raw_http2_p50_us) * 100) / 100,
    throughput_vs_raw: Math.round((result.spi_calls_per_s_64 / result.raw_http2_calls_per_s_64) * 100) / 100,
  };
  report("spi-hop", {
    ...result,
    ...ratios,
    targets: {
      p50_vs_raw: "<= 1.5",
      throughput_vs_raw: ">= 0.7",
      stream_chunks_per_s: ">= 100000",
      sidecar_idle_rss_mb: "<= 60",
    },
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
