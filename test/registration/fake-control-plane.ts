// An in-test control plane: the NodeService from our .proto served by connect-node on node:http
// (HTTP/1.1 only over cleartext, like connect-go behind a plain Go http.Server), or, given a key
// and certificate, node:http2's secure server with HTTP/1.1 allowed (Go's TLS server offers both
// through ALPN). It records every call and can be switched into the faults a
// real control plane shows: down, answering 500s, slow, dropping the connection.
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  NodeSchema,
  NodeService,
  NodeStatus_Phase,
  UpdateHeartbeatResponseSchema,
  type RegisterNodeRequest,
  type UpdateHeartbeatRequest,
} from "../../src/gen/limiquantix/compute/v1/node_service_pb.ts";

export type Fault = "none" | "http500" | "slow" | "drop";

export type RecordedCall =
  | { method: "RegisterNode"; at: number; contentType: string; request: RegisterNodeRequest }
  | { method: "UpdateHeartbeat"; at: number; contentType: string; request: UpdateHeartbeatRequest };

export interface Attempt {
  path: string;
  at: number;
  fault: Fault;
  /** "1.1" or "2.0", as node reports it. */
  httpVersion: string;
}

export interface FakeNode {
  id: string;
  hostname: string;
  lastHeartbeatAt?: number;
}

export interface FakeControlPlaneOptions {
  tls?: { key: string; cert: string };
  /** The interval the fake tells nodes to use; 0 leaves the field unset. */
  heartbeatIntervalSecs?: number;
  slowMs?: number;
}

export interface FakeControlPlane {
  readonly url: string;
  readonly port: number;
  readonly calls: RecordedCall[];
  readonly nodes: Map<string, FakeNode>;
  /** Requests that reached the server at all, including those a fault answered. */
  readonly attempts: Attempt[];
  setFault(fault: Fault): void;
  setHeartbeatIntervalSecs(secs: number): void;
  /** Forgets every node, as a control plane with a fresh database would. */
  forgetNodes(): void;
  /** READY while heartbeats arrive within `staleMs`, NOT_READY after, as the real one marks them. */
  phaseOf(hostname: string, staleMs: number): NodeStatus_Phase;
  /** Closes the listener and every open connection: the control plane is down. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeControlPlane(
  options: FakeControlPlaneOptions = {},
): Promise<FakeControlPlane> {
  const calls: RecordedCall[] = [];
  const attempts: Attempt[] = [];
  const nodes = new Map<string, FakeNode>();
  let fault: Fault = "none";
  let intervalSecs = options.heartbeatIntervalSecs ?? 0;
  const slowMs = options.slowMs ?? 2000;
  let contentType = "";

  const adapter = connectNodeAdapter({
    routes(router) {
      router.service(NodeService, {
        registerNode(request) {
          calls.push({ method: "RegisterNode", at: performance.now(), contentType, request });
          // The real control plane finds an existing node by hostname.
          let node = nodes.get(request.hostname);
          if (node === undefined) {
            node = { id: randomUUID(), hostname: request.hostname };
            nodes.set(request.hostname, node);
          }
          return create(NodeSchema, {
            id: node.id,
            hostname: request.hostname,
            managementIp: request.managementIp,
            labels: request.labels,
            status: { phase: NodeStatus_Phase.PENDING },
          });
        },
        updateHeartbeat(request) {
          calls.push({ method: "UpdateHeartbeat", at: performance.now(), contentType, request });
          const node = [...nodes.values()].find((n) => n.id === request.nodeId);
          // connect-go's control plane answers NotFound for an id it does not know.
          if (node === undefined) throw new ConnectError("node not found", Code.NotFound);
          node.lastHeartbeatAt = performance.now();
          return create(UpdateHeartbeatResponseSchema, {
            acknowledged: true,
            serverTimeUnix: BigInt(Math.floor(Date.now() / 1000)),
            heartbeatIntervalSecs: intervalSecs,
          });
        },
      });
    },
  });

  const sockets = new Set<import("node:net").Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  type Req = http.IncomingMessage | http2.Http2ServerRequest;
  type Res = http.ServerResponse | http2.Http2ServerResponse;
  const handler = (req: Req, res: Res) => {
    attempts.push({ path: req.url ?? "", at: performance.now(), fault, httpVersion: req.httpVersion });
    contentType = req.headers["content-type"] ?? "";
    if (fault === "http500") {
      (res as http.ServerResponse).writeHead(500, { "content-type": "text/plain" });
      res.end("internal server error");
      return;
    }
    if (fault === "drop") {
      req.socket.destroy();
      return;
    }
    if (fault === "slow") {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) adapter(req as http.IncomingMessage, res as http.ServerResponse);
      }, slowMs);
      timers.add(t);
      return;
    }
    adapter(req as http.IncomingMessage, res as http.ServerResponse);
  };

  const server: http.Server | http2.Http2SecureServer = options.tls
    ? http2.createSecureServer(
        { key: options.tls.key, cert: options.tls.cert, allowHTTP1: true },
        handler,
      )
    : http.createServer(handler);
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("secureConnection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  let listening = true;

  const down = async () => {
    if (!listening) return;
    listening = false;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if ("closeAllConnections" in server) server.closeAllConnections();
    for (const s of sockets) s.destroy();
    await closed;
  };

  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    calls,
    nodes,
    attempts,
    setFault(f) {
      fault = f;
    },
    setHeartbeatIntervalSecs(secs) {
      intervalSecs = secs;
    },
    forgetNodes() {
      nodes.clear();
    },
    phaseOf(hostname, staleMs) {
      const node = nodes.get(hostname);
      if (node === undefined) return NodeStatus_Phase.UNKNOWN;
      if (node.lastHeartbeatAt === undefined) return NodeStatus_Phase.PENDING;
      return performance.now() - node.lastHeartbeatAt <= staleMs
        ? NodeStatus_Phase.READY
        : NodeStatus_Phase.NOT_READY;
    },
    down,
    async up() {
      if (listening) return;
      await listen(port);
      listening = true;
    },
    close: down,
  };
}
