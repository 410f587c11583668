// An in-test control plane: the NodeService from our .proto served by connect-node on node:http
// (HTTP/1.1 only over cleartext, like connect-go behind a plain Go http.Server), or, given a key
// and certificate, node:http2's secure server with HTTP/1.1 allowed (Go's TLS server offers both
// through ALPN). It records every call (with the JSON body as it arrived, for the JSON
// encoding) and can be switched into the faults a real control plane shows: down, answering
// 500s, slow, dropping the connection, and "unimplemented" for the calls the one at HEAD lacks.
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { create, type JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError, createConnectRouter, createContextKey, createContextValues, type HandlerContext } from "@connectrpc/connect";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import {
  NodeSchema,
  NodeService,
  NodeStatus_Phase,
  SyncFullStateResponseSchema,
  SyncNodeVMsResponseSchema,
  UpdateHeartbeatResponseSchema,
  VMChangeAckSchema,
  VMChangeEventType,
  type RegisterNodeRequest,
  type SyncFullStateRequest,
  type SyncNodeVMsRequest,
  type UpdateHeartbeatRequest,
  type VMChangeNotification,
} from "../../src/gen/limiquantix/compute/v1/node_service_pb.ts";
import {
  ImageService,
  ScanLocalImagesResponseSchema,
  StoragePoolSchema,
  StoragePoolService,
  type GetPoolRequest,
  type ScanLocalImagesRequest,
  type StoragePool,
} from "../../src/gen/limiquantix/storage/v1/storage_service_pb.ts";
import type { MessageInitShape } from "@bufbuild/protobuf";

export type Fault = "none" | "http500" | "slow" | "drop";

interface Requests {
  RegisterNode: RegisterNodeRequest;
  UpdateHeartbeat: UpdateHeartbeatRequest;
  SyncNodeVMs: SyncNodeVMsRequest;
  SyncFullState: SyncFullStateRequest;
  NotifyVMChange: VMChangeNotification;
  ScanLocalImages: ScanLocalImagesRequest;
  GetPool: GetPoolRequest;
}
export type Method = keyof Requests;

export type RecordedCall = {
  [M in Method]: {
    method: M;
    at: number;
    contentType: string;
    /** The body as the client sent it, for application/json requests. */
    json?: JsonValue;
    request: Requests[M];
  };
}[Method];
export type CallOf<M extends Method> = Extract<RecordedCall, { method: M }>;

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
  /** The calls of one method, in arrival order (answered or not). */
  callsTo<M extends Method>(method: M): CallOf<M>[];
  readonly nodes: Map<string, FakeNode>;
  /** VM ids imported through SyncNodeVMs. */
  readonly vmIds: Set<string>;
  /** Requests that reached the server at all, including those a fault answered. */
  readonly attempts: Attempt[];
  setFault(fault: Fault): void;
  setHeartbeatIntervalSecs(secs: number): void;
  /** These methods answer Connect "unimplemented" (after being recorded), as the real one does. */
  setUnimplemented(...methods: Method[]): void;
  /** These methods answer Connect "unavailable" (after being recorded), as an overloaded one might. */
  setUnavailable(...methods: Method[]): void;
  /** Calls of this method (recorded first) get no answer until the returned function is called. */
  holdCalls(method: Method): () => void;
  /** Heartbeat answers ask for a full sync (request_full_sync) while set. */
  setRequestFullSync(on: boolean): void;
  /** Heartbeat answers name these pools as assigned to the node (assigned_pool_ids). */
  setAssignedPoolIds(ids: string[]): void;
  /** What GetPool answers for the pool's id; unknown ids are NOT_FOUND. */
  setPool(pool: MessageInitShape<typeof StoragePoolSchema>): void;
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

export async function startFakeControlPlane(options: FakeControlPlaneOptions = {}): Promise<FakeControlPlane> {
  const calls: RecordedCall[] = [];
  const attempts: Attempt[] = [];
  const nodes = new Map<string, FakeNode>();
  const vmIds = new Set<string>();
  const failing = new Map<Method, Code>();
  const held = new Map<Method, Promise<void>>();
  let fault: Fault = "none";
  let intervalSecs = options.heartbeatIntervalSecs ?? 0;
  let requestFullSync = false;
  let assignedPoolIds: string[] = [];
  const poolsById = new Map<string, StoragePool>();
  const imagePaths = new Set<string>();
  const slowMs = options.slowMs ?? 2000;
  // Per request, not per server: notifications arrive while a heartbeat is in flight.
  const wire = createContextKey<{ contentType: string; json?: JsonValue }>({ contentType: "" });

  async function record<M extends Method>(method: M, request: Requests[M], ctx: HandlerContext) {
    const { contentType, json } = ctx.values.get(wire);
    calls.push({ method, at: performance.now(), contentType, ...(json !== undefined && { json }), request } as RecordedCall);
    const hold = held.get(method);
    if (hold !== undefined) {
      const aborted = new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      await Promise.race([hold, aborted]);
    }
    const code = failing.get(method);
    if (code === Code.Unimplemented) {
      // What connect-go's generated Unimplemented handler answers.
      throw new ConnectError(`${NodeService.typeName}.${method} is not implemented`, code);
    }
    if (code !== undefined) throw new ConnectError(`${method} failed`, code);
  }

  const router = createConnectRouter();
  router.service(NodeService, {
    async registerNode(request, ctx) {
      await record("RegisterNode", request, ctx);
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
    async updateHeartbeat(request, ctx) {
      await record("UpdateHeartbeat", request, ctx);
      const node = [...nodes.values()].find((n) => n.id === request.nodeId);
      // connect-go's control plane answers NotFound for an id it does not know.
      if (node === undefined) throw new ConnectError("node not found", Code.NotFound);
      node.lastHeartbeatAt = performance.now();
      return create(UpdateHeartbeatResponseSchema, {
        acknowledged: true,
        serverTimeUnix: BigInt(Math.floor(Date.now() / 1000)),
        heartbeatIntervalSecs: intervalSecs,
        requestFullSync,
        assignedPoolIds,
      });
    },
    async syncNodeVMs(request, ctx) {
      await record("SyncNodeVMs", request, ctx);
      const known = request.vms.filter((vm) => vmIds.has(vm.id)).length;
      for (const vm of request.vms) vmIds.add(vm.id);
      return create(SyncNodeVMsResponseSchema, { importedCount: request.vms.length - known, existingCount: known });
    },
    async syncFullState(request, ctx) {
      await record("SyncFullState", request, ctx);
      return create(SyncFullStateResponseSchema, { acknowledged: true, vmsReconciled: request.vms.length });
    },
    async notifyVMChange(request, ctx) {
      await record("NotifyVMChange", request, ctx);
      const action =
        request.eventType === VMChangeEventType.VM_CHANGE_CREATED
          ? "created"
          : request.eventType === VMChangeEventType.VM_CHANGE_DELETED
            ? "marked_lost"
            : "status_updated";
      return create(VMChangeAckSchema, { acknowledged: true, action });
    },
  });
  router.service(ImageService, {
    async scanLocalImages(request, ctx) {
      await record("ScanLocalImages", request, ctx);
      const known = request.images.filter((i) => imagePaths.has(i.path)).length;
      for (const i of request.images) imagePaths.add(i.path);
      return create(ScanLocalImagesResponseSchema, { registeredCount: request.images.length - known, existingCount: known });
    },
  });
  router.service(StoragePoolService, {
    async getPool(request, ctx) {
      await record("GetPool", request, ctx);
      const pool = poolsById.get(request.id);
      if (pool === undefined) throw new ConnectError(`pool ${request.id} not found`, Code.NotFound);
      return pool;
    },
  });
  const routes = new Map(router.handlers.map((h) => [h.requestPath, h]));

  const sockets = new Set<import("node:net").Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  type Req = http.IncomingMessage | http2.Http2ServerRequest;
  type Res = http.ServerResponse | http2.Http2ServerResponse;
  // connectNodeAdapter, but reading a JSON body first so the test sees it as it was sent.
  async function serve(req: Req, res: Res) {
    const route = routes.get((req.url ?? "").split("?")[0] ?? "");
    if (route === undefined) {
      (res as http.ServerResponse).writeHead(404);
      res.end();
      return;
    }
    const contentType = req.headers["content-type"] ?? "";
    let json: JsonValue | undefined;
    if (contentType.startsWith("application/json")) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      json = JSON.parse(Buffer.concat(chunks).toString("utf8")) as JsonValue;
    }
    const values = createContextValues().set(wire, { contentType, ...(json !== undefined && { json }) });
    const request = universalRequestFromNodeRequest(req as http.IncomingMessage, res as http.ServerResponse, json, values);
    await universalResponseToNodeResponse(await route(request), res as http.ServerResponse);
  }
  const adapter = (req: Req, res: Res) => {
    serve(req, res).catch(() => res.destroy());
  };

  const handler = (req: Req, res: Res) => {
    attempts.push({ path: req.url ?? "", at: performance.now(), fault, httpVersion: req.httpVersion });
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
        if (!res.destroyed) adapter(req, res);
      }, slowMs);
      timers.add(t);
      return;
    }
    adapter(req, res);
  };

  const server: http.Server | http2.Http2SecureServer = options.tls
    ? http2.createSecureServer({ key: options.tls.key, cert: options.tls.cert, allowHTTP1: true }, handler)
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
    callsTo: <M extends Method>(method: M) => calls.filter((c): c is CallOf<M> => c.method === method),
    nodes,
    vmIds,
    attempts,
    setFault(f) {
      fault = f;
    },
    setHeartbeatIntervalSecs(secs) {
      intervalSecs = secs;
    },
    setUnimplemented(...methods) {
      for (const [m, code] of failing) if (code === Code.Unimplemented) failing.delete(m);
      for (const m of methods) failing.set(m, Code.Unimplemented);
    },
    setUnavailable(...methods) {
      for (const [m, code] of failing) if (code === Code.Unavailable) failing.delete(m);
      for (const m of methods) failing.set(m, Code.Unavailable);
    },
    holdCalls(method) {
      let release!: () => void;
      held.set(method, new Promise<void>((resolve) => (release = resolve)));
      return () => {
        held.delete(method);
        release();
      };
    },
    setRequestFullSync(on) {
      requestFullSync = on;
    },
    setAssignedPoolIds(ids) {
      assignedPoolIds = [...ids];
    },
    setPool(pool) {
      const p = create(StoragePoolSchema, pool);
      poolsById.set(p.id, p);
    },
    forgetNodes() {
      nodes.clear();
    },
    phaseOf(hostname, staleMs) {
      const node = nodes.get(hostname);
      if (node === undefined) return NodeStatus_Phase.UNKNOWN;
      if (node.lastHeartbeatAt === undefined) return NodeStatus_Phase.PENDING;
      return performance.now() - node.lastHeartbeatAt <= staleMs ? NodeStatus_Phase.READY : NodeStatus_Phase.NOT_READY;
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
