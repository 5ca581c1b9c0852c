/**
 * Attached modules across hosts: TCP with mutual TLS both ways. The module registers
 * over mTLS, the core calls it over mTLS, and the module calls back into the core on the
 * advertised TCP address (not the core's private Unix socket).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { fromGrpcError } from "../../src/errors/index.ts";
import { RegistrationService } from "../../src/gen/outrig/core/v1/registration_pb.ts";
import { H2ServiceClient } from "../../src/spi/h2/client.ts";
import { makePki, type TestPki } from "../support/certs.ts";
import {
  FAST,
  freePort,
  invokeJson,
  NODE,
  SECRETS_PROBE_MODULE,
  startCore,
  type TestCore,
  waitForState,
} from "../support/harness.ts";

const BOOTSTRAP = "mtls-bootstrap-token-0123456789abcdef";
const SECRET = "attached-module-secret-5c1d0e9a";
let pki: TestPki;
let c: TestCore | undefined;
let module: ChildProcess | undefined;

beforeAll(() => {
  pki = makePki();
});
afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));
afterEach(async () => {
  module?.kill("SIGKILL");
  await c?.stop();
  c = undefined;
});

test("an attached module registers, serves and calls back into the core over mTLS", async () => {
  const core = pki.leaf("core");
  const probe = pki.leaf("probe");
  const port = await freePort();
  c = await startCore({
    spi: {
      tcp_listen: `127.0.0.1:${port}`,
      bootstrap_token: { value: BOOTSTRAP },
      heartbeat_interval_ms: 200,
      tls: { cert_file: core.cert, key_file: core.key, ca_file: pki.ca },
    },
    modules: [
      {
        id: "probe",
        launch: "attached",
        config: { greeting: "over mtls" },
        secrets: { api_key: { value: SECRET } },
        health: FAST.health,
        timeouts: FAST.timeouts,
      },
    ],
  });
  module = spawn(NODE, [SECRETS_PROBE_MODULE], {
    env: {
      PATH: process.env.PATH,
      OUTRIG_MODULE_ID: "probe",
      OUTRIG_CORE_ADDRESS: `localhost:${port}`,
      OUTRIG_BOOTSTRAP_TOKEN: BOOTSTRAP,
      OUTRIG_LISTEN: "127.0.0.1:0",
      OUTRIG_INSTANCE_ID: "probe-pod",
      OUTRIG_TLS_CERT: probe.cert,
      OUTRIG_TLS_KEY: probe.key,
      OUTRIG_TLS_CA: pki.ca,
      OUTRIG_LOG_LEVEL: "warn",
    },
    stdio: "ignore",
  });
  await c.core.waitReady(15_000);
  const res = await invokeJson(c.url, "probe", "probe", { secrets: ["api_key"] });
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ config: { greeting: "over mtls" }, secrets: { api_key: SECRET }, errors: {} });
  expect(c.logs()).not.toContain(SECRET);
});

test("a client without a certificate cannot even register", async () => {
  const core = pki.leaf("core2");
  const port = await freePort();
  c = await startCore({
    spi: {
      tcp_listen: `127.0.0.1:${port}`,
      bootstrap_token: { value: BOOTSTRAP },
      tls: { cert_file: core.cert, key_file: core.key, ca_file: pki.ca },
    },
    modules: [{ id: "probe", launch: "attached", timeouts: FAST.timeouts }],
  });
  const client = new H2ServiceClient(RegistrationService, `localhost:${port}`, {
    metadata: { authorization: `Bearer ${BOOTSTRAP}` },
    tls: { ca: readFileSync(pki.ca) },
  });
  try {
    const error = await client
      .unary("register", { moduleId: "probe" }, { deadline: Date.now() + 3000 })
      .catch((e) => e);
    expect(fromGrpcError(error, "core").category).toBe("UNAVAILABLE");
  } finally {
    client.close();
  }
  await waitForState(c!, "probe", "waiting");
});
