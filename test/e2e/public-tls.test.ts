/**
 * HTTPS on the public listener (HTTP/1.1 and HTTP/2 by ALPN on one port) with optional
 * client-certificate identities: a verified certificate listed in authority.mtls is a
 * principal; an unknown one authenticates nobody; a header credential still works.
 */
import { readFileSync, rmSync } from "node:fs";
import { connect as http2Connect } from "node:http2";
import { request as httpsRequest } from "node:https";
import { makePki, type TestPki } from "../support/certs.ts";
import { echoModule, startCore, type TestCore } from "../support/harness.ts";

let pki: TestPki;
let c: TestCore;
let server: { cert: string; key: string };
let alice: { cert: Buffer; key: Buffer };
let stranger: { cert: Buffer; key: Buffer };

const read = (leaf: { cert: string; key: string }) => ({
  cert: readFileSync(leaf.cert),
  key: readFileSync(leaf.key),
});

beforeAll(async () => {
  pki = makePki();
  server = pki.leaf("core");
  alice = read(pki.leaf("alice-svc"));
  stranger = read(pki.leaf("nobody"));
  c = await startCore({
    server: { port: 0, tls: { cert_file: server.cert, key_file: server.key, client_ca_file: pki.ca } },
    authority: {
      mtls: { identities: [{ match: { cn: "alice-svc" }, subject: "svc:alice", roles: ["reader"] }] },
      policies: { roles: { reader: ["module.invoke"] } },
    },
    modules: [echoModule()],
  });
  await c.core.waitReady(10_000);
});

afterAll(async () => {
  await c?.stop();
  rmSync(pki.dir, { recursive: true, force: true });
});

function h1(client: { cert?: Buffer; key?: Buffer }, headers: Record<string, string> = {}) {
  const url = new URL(`${c.url}/v1/modules/echo/invoke/echo`);
  return new Promise<{ status: number; body: string; alpn: string | false }>((resolve, reject) => {
    const req = httpsRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        ca: readFileSync(pki.ca),
        ...client,
        agent: false, // a fresh connection each time: the certificate is per connection
        ...({ ALPNProtocols: ["http/1.1"] } as object), // a TLS option https.request passes on
        headers: { "content-type": "application/json", ...headers },
      },
      (res) => {
        // Read before the end: the socket is detached from the response once it is done.
        const alpn = (res.socket as import("node:tls").TLSSocket).alpnProtocol ?? false;
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, alpn }));
      },
    );
    req.on("error", reject);
    req.end("{}");
  });
}

function h2(client: { cert?: Buffer; key?: Buffer }) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const session = http2Connect(c.url, { ca: readFileSync(pki.ca), ...client });
    session.on("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": "/v1/modules/echo/invoke/echo",
      "content-type": "application/json",
    });
    let status = 0;
    let body = "";
    stream.on("response", (h) => (status = Number(h[":status"])));
    stream.on("data", (chunk) => (body += chunk));
    stream.on("end", () => {
      session.close();
      resolve({ status, body });
    });
    stream.end("{}");
  });
}

test("the core listens on https", () => {
  expect(c.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
});

test("a listed client certificate is a principal, over HTTP/1.1 and HTTP/2", async () => {
  const one = await h1(alice);
  expect(one.status).toBe(200);
  expect(one.alpn).toBe("http/1.1");
  expect(JSON.parse(one.body)).toMatchObject({ echo: {} });
  const two = await h2(alice);
  expect(two.status).toBe(200);
});

test("an unknown certificate authenticates nobody; no credential at all is 401 too", async () => {
  const unknown = await h1(stranger);
  expect(unknown.status).toBe(401);
  expect(JSON.parse(unknown.body).error.code).toBe("auth.mtls.unknown_identity");
  const none = await h1({});
  expect(none.status).toBe(401);
  expect(JSON.parse(none.body).error.code).toBe("auth.credential.missing");
});

test("a header credential still works over TLS, and wins over a certificate", async () => {
  const withToken = await h1({}, { authorization: `Bearer ${c.core.devToken}` });
  expect(withToken.status).toBe(200);
  const both = await h1(stranger, { authorization: `Bearer ${c.core.devToken}` });
  expect(both.status).toBe(200);
});

test("require_client_cert refuses a connection without a certificate at the handshake", async () => {
  const strict = await startCore({
    server: {
      port: 0,
      tls: {
        cert_file: server.cert,
        key_file: server.key,
        client_ca_file: pki.ca,
        require_client_cert: true,
      },
    },
    modules: [],
  });
  try {
    const url = new URL(strict.url);
    const outcome = await new Promise<string>((resolve) => {
      const req = httpsRequest(
        { host: url.hostname, port: url.port, path: "/healthz", ca: readFileSync(pki.ca) },
        (res) => resolve(`answered ${res.statusCode}`),
      );
      req.on("error", (error: NodeJS.ErrnoException) => resolve(`refused: ${error.code ?? error.message}`));
      req.end();
    });
    expect(outcome).toMatch(/^refused/);
  } finally {
    await strict.stop();
  }
});
