/**
 * W3C trace context crosses the SPI: the module's span is a child of the core's span,
 * both exported over OTLP/HTTP to a real receiver on loopback.
 */
import { createServer, type Server } from "node:http";
import { coreFetch, echoModule, startCore, type TestCore, waitFor } from "../support/harness.ts";

interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
}

let receiver: Server;
let endpoint = "";
const spans: ExportedSpan[] = [];
let c: TestCore | undefined;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        resourceSpans: Array<{
          resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
          scopeSpans: Array<{ spans: Array<Omit<ExportedSpan, "service">> }>;
        }>;
      };
      for (const rs of body.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "";
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/v1/traces`;
  c = await startCore({
    telemetry: { otlp_endpoint: endpoint, service_name: "outrig-core-test" },
    modules: [echoModule()],
  });
  await c.core.waitReady(10_000);
});

afterAll(async () => {
  await c?.stop();
  receiver.close();
});

test("the module's span is a child of the core's span, in the caller's trace", async () => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const res = await coreFetch(`${c!.url}/v1/modules/echo/invoke/echo`, {
    method: "POST",
    headers: { "content-type": "application/json", traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    body: "{}",
  });
  expect(res.status).toBe(200);
  const [coreSpan, moduleSpan] = await waitFor(
    () => {
      const core = spans.find((s) => s.traceId === traceId && s.service === "outrig-core-test");
      const module = spans.find((s) => s.traceId === traceId && s.service === "outrig-module-echo");
      return core && module ? [core, module] : undefined;
    },
    "spans from the core and the module",
    15_000,
  );
  expect(coreSpan.name).toBe("outrig.invoke echo/echo");
  expect(coreSpan.parentSpanId).toBe("00f067aa0ba902b7");
  expect(moduleSpan.name).toBe("module.invoke echo");
  expect(moduleSpan.parentSpanId).toBe(coreSpan.spanId);
});

test("errors carry the trace id of the request", async () => {
  const traceId = "0af7651916cd43dd8448eb211c80319c";
  const res = await coreFetch(`${c!.url}/v1/modules/echo/invoke/fail`, {
    method: "POST",
    headers: { "content-type": "application/json", traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    body: JSON.stringify({ category: "CONFLICT" }),
  });
  expect(res.status).toBe(409);
  const body = (await res.json()) as { error: { traceId: string; category: string; origin: string } };
  expect(body.error).toMatchObject({ traceId, category: "CONFLICT", origin: "module" });
});
