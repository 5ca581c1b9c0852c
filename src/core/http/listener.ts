import type { Server as Http1Server } from "node:http";
import type { Http2Server, ServerHttp2Session } from "node:http2";
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from "node:net";
import {
  createServer as createTlsServer,
  type TLSSocket,
  type TlsOptions,
  type Server as TlsServer,
} from "node:tls";

/**
 * TLS on the public port: certificate, key, and optionally the CA client certificates are
 * verified against (`requestCert`), refusing connections without one (`rejectUnauthorized`).
 */
export type ListenerTls = Pick<TlsOptions, "cert" | "key" | "ca" | "requestCert" | "rejectUnauthorized">;

/** The client connection preface of HTTP/2 (RFC 9113 §3.4). */
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** A connection that has not said which protocol it speaks within this time is dropped. */
const SNIFF_TIMEOUT_MS = 10_000;
const CLOSE_POLL_MS = 25;

/**
 * One TCP port for HTTP/1.1 and HTTP/2. In cleartext, the first bytes of each connection
 * are compared with the HTTP/2 preface (prior knowledge); with TLS, the handshake's ALPN
 * decides. Then the socket goes to the matching Node server; neither server listens itself.
 */
export class DualProtocolListener {
  readonly #tcp: TcpServer;
  readonly #h1: Http1Server;
  readonly #h2: Http2Server;
  readonly #sockets = new Set<Socket>();
  readonly #sniffing = new Set<Socket>();
  readonly #sessions = new Set<ServerHttp2Session>();
  #closing = false;

  readonly #tls: TlsServer | undefined;

  constructor(h1: Http1Server, h2: Http2Server, tls?: ListenerTls) {
    this.#h1 = h1;
    if (tls) {
      // tls.Server runs the handshake (and sets `authorized` from the client certificate);
      // it never listens itself either: accepted TCP sockets are handed to it.
      this.#tls = createTlsServer({
        ...tls,
        ALPNProtocols: ["h2", "http/1.1"],
        handshakeTimeout: SNIFF_TIMEOUT_MS,
      });
      this.#tls.on("secureConnection", (secure: TLSSocket) => {
        (secure.alpnProtocol === "h2" ? this.#h2 : this.#h1).emit("connection", secure);
      });
      this.#tls.on("tlsClientError", (_error, socket) => socket.destroy());
    }
    this.#h2 = h2;
    this.#tcp = createTcpServer({ noDelay: true }, (socket) => this.#accept(socket));
    h2.on("session", (session: ServerHttp2Session) => {
      this.#sessions.add(session);
      session.once("close", () => this.#sessions.delete(session));
      if (this.#closing) session.close();
    });
  }

  get closing(): boolean {
    return this.#closing;
  }

  listen(host: string, port: number): Promise<{ port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#tcp.once("error", onError);
      this.#tcp.listen({ host, port }, () => {
        this.#tcp.off("error", onError);
        // The HTTP/1 server starts its header/request timeout tracking on `listening`;
        // it never listens itself, so it is told here.
        this.#h1.emit("listening");
        const address = this.#tcp.address();
        resolve({ port: typeof address === "object" && address ? address.port : port });
      });
    });
  }

  /**
   * Stops accepting, lets in-flight requests finish, and destroys whatever is left after
   * `deadlineMs`. HTTP/2 sessions get GOAWAY; idle HTTP/1 keep-alive connections are closed
   * as soon as they are idle (new requests on them are answered with `Connection: close`).
   */
  async close(deadlineMs: number): Promise<void> {
    if (this.#closing) return this.#waitClosed(deadlineMs);
    this.#closing = true;
    const tcpClosed = new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
    // Clears the HTTP/1 timeout tracker and closes idle keep-alive connections.
    this.#h1.close();
    for (const socket of this.#sniffing) socket.destroy();
    for (const session of this.#sessions) session.close();
    await this.#waitClosed(deadlineMs);
    await tcpClosed;
  }

  async #waitClosed(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + Math.max(0, deadlineMs);
    while (this.#sockets.size > 0 && Date.now() < deadline) {
      this.#h1.closeIdleConnections();
      await new Promise((resolve) => setTimeout(resolve, CLOSE_POLL_MS));
    }
    if (this.#sockets.size === 0) return;
    const gone = [...this.#sockets].map((s) => new Promise((resolve) => s.once("close", resolve)));
    for (const session of this.#sessions) session.destroy();
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all(gone);
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once("close", () => {
      this.#sockets.delete(socket);
      this.#sniffing.delete(socket);
    });
    // A reset before or after hand-off must not crash the process; the servers log their own.
    socket.on("error", () => {});
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#sniffing.add(socket);
    socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy());
    if (this.#tls) {
      socket.setTimeout(0);
      this.#sniffing.delete(socket);
      this.#tls.emit("connection", socket);
      return;
    }
    let seen: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const h2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (h2 && seen.length < PREFACE.length) return; // could still be the preface
      socket.off("data", onData);
      socket.setTimeout(0);
      this.#sniffing.delete(socket);
      socket.pause();
      socket.unshift(seen);
      (h2 ? this.#h2 : this.#h1).emit("connection", socket);
      // The HTTP/1 server reads the pushed-back bytes once the socket flows again;
      // the HTTP/2 session takes them from the readable buffer itself.
      process.nextTick(() => socket.resume());
    };
    socket.on("data", onData);
  }
}
