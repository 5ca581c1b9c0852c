import { request as h1request } from "node:http";
import { connect as h2connect, constants as h2constants } from "node:http2";
import pino from "pino";
import type {
  AccessDecision,
  AccessDenied,
  AccessGate,
  AdminDecision,
} from "../../src/core/auth/access-gate.ts";
import { createHttpServer, type HttpServer } from "../../src/core/http/server.ts";
import type { AuthorityAdmin } from "../../src/core/http/types.ts";
import { CoreMetrics } from "../../src/core/metrics.ts";
import type {
  Invoker,
  ModuleAdmin,
  ModuleStatus,
  Readiness,
  RouteRequest,
  RouteResult,
  StreamEvent,
  UpgradeSpec,
} from "../../src/core/types.ts";
import { type Category, OutrigError } from "../../src/errors/index.ts";

/** An Invoker whose behaviour each test sets; it records every request it saw. */
export class FakeInvoker implements Invoker {
  readonly calls: RouteRequest[] = [];
  unary: (request: RouteRequest) => Promise<RouteResult> = async (request) => ({
    payload: request.payload,
    contentType: request.contentType,
    instanceId: "echo-1",
  });
  stream: (request: RouteRequest) => AsyncIterable<StreamEvent> = (request) => fakeStream(request, 3);

  invoke(request: RouteRequest): Promise<RouteResult> {
    this.calls.push(request);
    return this.unary(request);
  }

  invokeStream(request: RouteRequest): AsyncIterable<StreamEvent> {
    this.calls.push(request);
    return this.stream(request);
  }
}

/** started, `count` JSON chunks `{"n":i}`, end. */
export async function* fakeStream(request: RouteRequest, count: number): AsyncGenerator<StreamEvent> {
  yield {
    type: "started",
    contentType: "application/json",
    instanceId: "echo-1",
    correlationId: request.correlationId ?? "",
    traceId: undefined,
  };
  for (let i = 1; i <= count; i++) {
    yield { type: "chunk", sequence: i, payload: Buffer.from(JSON.stringify({ n: i })) };
  }
  yield { type: "end", cancelled: false, usage: { inputTokens: 1, outputTokens: count, counters: {} } };
}

export function moduleStatus(id: string, overrides: Partial<ModuleStatus> = {}): ModuleStatus {
  return {
    id,
    required: true,
    state: "ready",
    replicas: { desired: 1, ready: 1 },
    restarts: { total: 0, inWindow: 0, max: 3, windowMs: 600_000 },
    spiVersion: "1.0",
    instances: [
      {
        id: `${id}-1`,
        state: "ready",
        deployment: "supervised",
        pid: 4242,
        generation: 1,
        startedAt: "2025-01-01T00:00:00.000Z",
        inFlight: 0,
      },
    ],
    ...overrides,
  };
}

/** A ModuleAdmin over a fixed map of statuses; mutating calls are recorded. */
export class FakeAdmin implements ModuleAdmin {
  readonly modules = new Map<string, ModuleStatus>();
  readonly restarts: string[] = [];
  readonly upgrades: Array<{ id: string; spec: UpgradeSpec }> = [];
  readonly drains: Array<{ id: string; instance: string }> = [];
  /** Lets a test hold or fail the next mutating call. */
  gate: () => Promise<void> = async () => {};

  constructor(...statuses: ModuleStatus[]) {
    for (const s of statuses) this.modules.set(s.id, s);
  }

  list(): ModuleStatus[] {
    return [...this.modules.values()];
  }

  get(id: string): ModuleStatus | undefined {
    return this.modules.get(id);
  }

  async restart(id: string): Promise<void> {
    this.restarts.push(id);
    await this.gate();
  }

  async upgrade(id: string, spec: UpgradeSpec): Promise<void> {
    this.upgrades.push({ id, spec });
    await this.gate();
  }

  async drainInstance(id: string, instance: string): Promise<void> {
    this.drains.push({ id, instance });
    await this.gate();
  }
}

/**
 * A fake access gate: allows everything (an invoke with a context reference named after the
 * module) unless a test sets `deny`; records every request it is asked about.
 */
export class FakeGate implements AccessGate {
  readonly requests: Array<{ kind: "invoke" | "admin"; moduleId?: string; operation?: string }> = [];
  deny: { category: Category; wwwAuthenticate?: string } | undefined;

  #denial(): AccessDenied | undefined {
    if (!this.deny) return undefined;
    const error = new OutrigError(this.deny.category, "test.gate.denied", "Denied by the test gate.");
    return {
      ok: false,
      error,
      ...(this.deny.wwwAuthenticate ? { wwwAuthenticate: this.deny.wwwAuthenticate } : {}),
    };
  }

  async invoke(request: { moduleId: string; operation: string }): Promise<AccessDecision> {
    this.requests.push({ kind: "invoke", moduleId: request.moduleId, operation: request.operation });
    return this.#denial() ?? { ok: true, contextRef: `ctxref-for-${request.moduleId}` };
  }

  async admin(request: { moduleId?: string }): Promise<AdminDecision> {
    this.requests.push({ kind: "admin", ...(request.moduleId ? { moduleId: request.moduleId } : {}) });
    return this.#denial() ?? { ok: true };
  }
}

/** A fake authority admin: records revocations; a test sets what the next policy reload answers. */
export class FakeAuthorityAdmin implements AuthorityAdmin {
  readonly revoked: Array<{ jti?: string; apiKeyId?: string; subject?: string }> = [];
  reload: Awaited<ReturnType<AuthorityAdmin["reloadPolicies"]>> = { ok: true, epoch: 2, policies: 3 };

  async reloadPolicies() {
    return this.reload;
  }

  revoke(what: { jti?: string; apiKeyId?: string; subject?: string }): void {
    this.revoked.push(what);
  }
}

export interface TestServer {
  gate: FakeGate;
  authorityAdmin: FakeAuthorityAdmin;
  server: HttpServer;
  port: number;
  base: string;
  invoker: FakeInvoker;
  admin: FakeAdmin;
  metrics: CoreMetrics;
  logs: string[];
  readiness: { value: Readiness };
  close(): Promise<void>;
}

/** A real server on 127.0.0.1, port 0, with fakes behind it and its log lines captured. */
export async function startServer(
  options: { maxBodyBytes?: number; admin?: FakeAdmin } = {},
): Promise<TestServer> {
  const invoker = new FakeInvoker();
  const gate = new FakeGate();
  const authorityAdmin = new FakeAuthorityAdmin();
  const admin = options.admin ?? new FakeAdmin(moduleStatus("echo"));
  const metrics = new CoreMetrics({ processMetrics: false });
  const logs: string[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => logs.push(line) });
  const readiness = {
    value: { ready: true, modules: [{ id: "echo", required: true, state: "ready" as const }] },
  };
  const server = createHttpServer({
    invoker,
    admin,
    readiness: () => readiness.value,
    metrics,
    logger,
    maxBodyBytes: options.maxBodyBytes ?? 1024,
    gate,
    authorityAdmin,
  });
  const { port } = await server.listen("127.0.0.1", 0);
  let closed = false;
  return {
    gate,
    authorityAdmin,
    server,
    port,
    base: `http://127.0.0.1:${port}`,
    invoker,
    admin,
    metrics,
    logs,
    readiness,
    close: async () => {
      if (closed) return;
      closed = true;
      await server.close(1000);
    },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  json(): any;
  text(): string;
}

export interface Req {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export type Client = (port: number, req: Req) => Promise<Reply>;

function reply(status: number, headers: Reply["headers"], body: Buffer): Reply {
  return {
    status,
    headers,
    body,
    json: () => JSON.parse(body.toString("utf8")),
    text: () => body.toString("utf8"),
  };
}

/** One HTTP/1.1 request with node:http (nothing added to the headers given). */
export const http1: Client = (port, req) =>
  new Promise((resolve, reject) => {
    const r = h1request(
      {
        host: "127.0.0.1",
        port,
        method: req.method ?? "GET",
        path: req.path,
        headers: req.headers ?? {},
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve(reply(res.statusCode ?? 0, res.headers, Buffer.concat(chunks))));
        res.on("error", reject);
      },
    );
    r.on("error", reject);
    r.end(req.body);
  });

/** One request over a fresh h2c (prior knowledge) connection with node:http2. */
export const http2: Client = (port, req) =>
  new Promise((resolve, reject) => {
    const session = h2connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const stream = session.request({
      [h2constants.HTTP2_HEADER_METHOD]: req.method ?? "GET",
      [h2constants.HTTP2_HEADER_PATH]: req.path,
      ...(req.headers ?? {}),
    });
    let status = 0;
    let headers: Reply["headers"] = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      headers = h as Reply["headers"];
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      session.close();
      resolve(reply(status, headers, Buffer.concat(chunks)));
    });
    stream.on("error", (e) => {
      session.destroy();
      reject(e);
    });
    stream.end(req.body);
  });

export const CLIENTS: Array<[string, Client]> = [
  ["HTTP/1.1", http1],
  ["h2c", http2],
];

/** Parses an SSE body into events. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON event data
export function parseSse(text: string): Array<{ event: string; data: any }> {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "" && !block.startsWith(":"))
    .map((block) => {
      const lines = block.split("\n");
      const event = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? "message";
      const data = lines
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("\n");
      return { event, data: JSON.parse(data) };
    });
}
