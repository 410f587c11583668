// One port for every client: grpc-go speaks cleartext HTTP/2 (h2c) with prior knowledge, curl
// and browsers speak HTTP/1.1. Cleartext connections are told apart by the HTTP/2 connection
// preface and handed to the matching server; with TLS, ALPN decides. Shutdown stops accepting,
// lets calls in flight finish, and destroys what is left after the grace period.

import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import * as tls from "node:tls";
import type { NodeHandlerFn } from "./create-api.ts";
import { trackResponse } from "./peer.ts";

export interface TlsMaterial {
  cert: string | Buffer;
  key: string | Buffer;
  /** With a client CA, only clients holding a certificate it signed get in. */
  clientCa?: string | Buffer;
}

export interface ListenOptions {
  host: string;
  port: number;
  tls?: TlsMaterial;
}

export interface Listener {
  host: string;
  port: number;
  /** Stops accepting; waits for calls in flight up to graceMs, then cuts what remains. */
  close(graceMs: number): Promise<void>;
  /**
   * Swaps certificates for new connections (SIGHUP); the listening socket and open connections
   * stay. Throws, keeping the old material, when the new one does not load (a key that does not
   * match its certificate, a half-written file) or would switch client certificates on or off.
   */
  setTls(tls: TlsMaterial): void;
  /** What is open right now, for leak checks and diagnostics. */
  stats(): ListenerStats;
}

export interface ListenerStats {
  /** TCP connections open. */
  connections: number;
  /** HTTP/2 sessions open. */
  sessions: number;
  /** TLS handshakes refused so far (no client certificate, unknown CA, bad protocol). */
  handshakeFailures: number;
}

const H2_PREFACE_START = Buffer.from("PRI * HTTP/2.0");

function tlsOptions(material: TlsMaterial) {
  return {
    cert: material.cert,
    key: material.key,
    minVersion: "TLSv1.2" as const,
    // Set explicitly: a client without a certificate the CA signed fails the handshake.
    ...(material.clientCa ? { ca: material.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
  };
}

export async function listen(inner: NodeHandlerFn, opts: ListenOptions): Promise<Listener> {
  const handler: NodeHandlerFn = (req, res) => {
    trackResponse(req, res);
    inner(req, res);
  };
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();
  let outer: net.Server;
  let h1: http.Server | undefined;
  let secure: http2.Http2SecureServer | undefined;
  let handshakeFailures = 0;
  const mutualTls = Boolean(opts.tls?.clientCa);

  if (opts.tls) {
    secure = http2.createSecureServer({ ...tlsOptions(opts.tls), allowHTTP1: true }, handler);
    secure.on("session", (s) => trackSession(s));
    secure.on("tlsClientError", (_err, socket) => {
      handshakeFailures++;
      socket.destroy();
    });
    // Belt and braces: whatever the runtime does, an unverified client never reaches a handler.
    secure.prependListener("secureConnection", (socket: tls.TLSSocket) => {
      if (mutualTls && !socket.authorized) {
        handshakeFailures++;
        socket.destroy();
      }
    });
    outer = secure;
  } else {
    const h2 = http2.createServer({}, handler);
    h2.on("session", (s) => trackSession(s));
    h1 = http.createServer(handler);
    h1.keepAliveTimeout = 60_000;
    outer = net.createServer((socket) => {
      socket.once("data", (first: Buffer) => {
        socket.pause();
        socket.unshift(first);
        const isH2 = first.subarray(0, H2_PREFACE_START.length).equals(H2_PREFACE_START);
        (isH2 ? h2 : h1!).emit("connection", socket);
        socket.resume();
      });
    });
  }
  outer.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  function trackSession(session: http2.Http2Session) {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  }

  await new Promise<void>((resolve, reject) => {
    outer.once("error", reject);
    outer.listen(opts.port, opts.host, () => {
      outer.off("error", reject);
      resolve();
    });
  });
  const address = outer.address() as net.AddressInfo;

  return {
    host: address.address,
    port: address.port,
    setTls(material) {
      if (!secure) throw new Error("TLS is not enabled on this listener");
      if (Boolean(material.clientCa) !== mutualTls) {
        throw new Error("client certificates cannot be switched on or off by a reload; restart the daemon");
      }
      const options = tlsOptions(material);
      // Load first: a bad key or certificate throws here and the old context stays in use.
      tls.createSecureContext(options);
      secure.setSecureContext(options);
    },
    stats: () => ({ connections: sockets.size, sessions: sessions.size, handshakeFailures }),
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => outer.close(() => resolve()));
      // GOAWAY to HTTP/2 peers (calls in flight finish); idle HTTP/1.1 keep-alives go now.
      for (const s of sessions) s.close();
      h1?.closeIdleConnections();
      const deadline = setTimeout(() => {
        for (const s of sessions) s.destroy();
        for (const s of sockets) s.destroy();
      }, graceMs);
      // An HTTP/1.1 socket that finishes its last response while we wait is closed then.
      const sweep = setInterval(() => h1?.closeIdleConnections(), 50);
      await closed;
      clearTimeout(deadline);
      clearInterval(sweep);
    },
  };
}
