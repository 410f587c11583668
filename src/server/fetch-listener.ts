// An optional second serving path: the same routes on Bun.serve, for clients that speak the
// Connect protocol or gRPC-Web over HTTP/1.1 (curl, browsers, scripts). Bun.serve's native HTTP
// server parses and answers such requests with less work than node:http in Bun (bench/: the
// "beyond" section has the figures). It cannot send HTTP trailers, so gRPC proper stays on the
// node:http2 listener (listener.ts); gRPC requests that reach this port are refused with 415.

import { type ConnectRouter, createConnectRouter } from "@connectrpc/connect";
import { createFetchHandler } from "@connectrpc/connect/protocol";

export interface FetchListenOptions {
  host: string;
  port: number;
  /** Largest request message accepted, in bytes. */
  maxMessageBytes?: number;
  /** Seconds an idle keep-alive connection is kept (Bun's default is 10). */
  idleTimeoutSeconds?: number;
}

export interface FetchListener {
  host: string;
  port: number;
  /** Stops accepting; waits for requests in flight up to graceMs, then cuts what remains. */
  close(graceMs: number): Promise<void>;
}

type RouteHandler = (req: Request, server: Bun.Server<undefined>) => Promise<Response>;

/** gRPC proper (not gRPC-Web): its status travels in HTTP trailers, which Bun.serve cannot send. */
function isGrpc(contentType: string | null): boolean {
  return contentType !== null && /^application\/grpc(?:$|[+;])/i.test(contentType);
}

function grpcRefused(): Response {
  return new Response("gRPC needs HTTP/2 trailers: call the API listener (server.listen_address) instead\n", {
    status: 415,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/** One Bun.serve route per RPC path: Bun matches static paths natively, before any JS runs. */
export function fetchRoutes(routes: (router: ConnectRouter) => void, opts: { maxMessageBytes?: number } = {}): Record<string, RouteHandler> {
  // Per-service options passed to router.service() switch every protocol back on, so gRPC is
  // refused below rather than here.
  const router = createConnectRouter(opts.maxMessageBytes !== undefined ? { readMaxBytes: opts.maxMessageBytes } : {});
  routes(router);
  const out: Record<string, RouteHandler> = {};
  for (const uHandler of router.handlers) {
    const handle = createFetchHandler(uHandler, { httpVersion: "1.1" });
    // Streams (StreamEvents, StreamMetrics, MigrateVM) may stay quiet far longer than Bun's idle
    // timeout; they end when the client leaves or the daemon shuts them down.
    const streaming = uHandler.method.methodKind !== "unary";
    out[uHandler.requestPath] = async (req, server) => {
      if (isGrpc(req.headers.get("content-type"))) return grpcRefused();
      if (streaming) server.timeout(req, 0);
      return handle(req);
    };
  }
  return out;
}

export function listenFetch(routes: (router: ConnectRouter) => void, opts: FetchListenOptions): FetchListener {
  const server = Bun.serve({
    hostname: opts.host,
    port: opts.port,
    idleTimeout: opts.idleTimeoutSeconds ?? 60,
    routes: fetchRoutes(routes, opts),
    fetch: () => new Response(null, { status: 404 }),
  });
  return {
    host: server.hostname ?? opts.host,
    port: server.port ?? opts.port,
    async close(graceMs) {
      const graceful = server.stop(false);
      const cut = setTimeout(() => void server.stop(true), graceMs);
      await graceful;
      clearTimeout(cut);
    },
  };
}
