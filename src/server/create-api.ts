// Builds the daemon's RPC handler without listening, so tests can mount it on port 0 or
// in memory (createRouterTransport) and main.ts can hand it to the listener.

import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { file_grpc_health_v1_health, Health } from "../gen/grpc/health/v1/health_pb.ts";
import { file_limiquantix_node_v1_node_daemon, NodeDaemonService } from "../gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { ServiceDeps } from "./deps.ts";
import { registerHealth } from "./health.ts";
import { callLogInterceptor, createCallTracker, errorInterceptor, requestSignalInterceptor } from "./interceptors.ts";
import { peerContextValues } from "./peer.ts";
import { registerReflection } from "./reflection.ts";
import { nodeHandlers } from "./services/node.ts";
import { storageHandlers } from "./services/storage.ts";
import { disabledAgentManager } from "../agent/agent-manager.ts";
import { agentAccessInterceptor, loopbackOnlyPolicy } from "./access.ts";
import { AGENT_RPC_NAMES, agentHandlers } from "./services/agent.ts";
import { streamHandlers } from "./services/streams.ts";
import { vmHandlers } from "./services/vms.ts";

export type NodeHandlerFn = ReturnType<typeof connectNodeAdapter>;

export interface ApiOptions {
  /** Largest request message accepted, in bytes. */
  maxMessageBytes: number;
  /** Log one line per call naming the caller (debug level): costs a little on every call. */
  logCalls?: boolean;
}

export interface NodeApi {
  routes: (router: ConnectRouter) => void;
  handler: NodeHandlerFn;
  /** Ends every stream (StreamEvents, StreamMetrics, health Watch) so shutdown can finish. */
  endStreams(): void;
  /** NodeDaemonService calls whose handler has not finished (leak checks, diagnostics). */
  activeCalls(): number;
}

export function createNodeApi(deps: ServiceDeps, opts: ApiOptions): NodeApi {
  const shutdown = new AbortController();
  const calls = createCallTracker();
  const interceptors = [
    calls.interceptor,
    ...(opts.logCalls ? [callLogInterceptor(deps.log)] : []),
    errorInterceptor(deps.log, deps.storageRoots),
    // Inside the error interceptor: a refusal is a ConnectError and passes through it unchanged.
    agentAccessInterceptor(deps.agentAccess ?? loopbackOnlyPolicy(), AGENT_RPC_NAMES, deps.log),
    requestSignalInterceptor(),
  ];
  const routes = (router: ConnectRouter) => {
    router.service(
      NodeDaemonService,
      {
        ...nodeHandlers(deps),
        ...vmHandlers(deps),
        ...storageHandlers(deps),
        ...agentHandlers({ ...deps, agents: deps.agents ?? disabledAgentManager(), maxMessageBytes: opts.maxMessageBytes }),
        ...streamHandlers({ ...deps, shutdown: shutdown.signal }),
      },
      { interceptors },
    );
    registerHealth(router, { healthy: () => deps.hypervisor.healthy().ok, shutdown: shutdown.signal });
    registerReflection(router, [file_limiquantix_node_v1_node_daemon, file_grpc_health_v1_health], [NodeDaemonService.typeName, Health.typeName]);
  };
  const handler = connectNodeAdapter({
    routes,
    readMaxBytes: opts.maxMessageBytes,
    // Handlers see who called (client certificate under mutual TLS) through ctx.values.
    contextValues: peerContextValues,
    // Connect's GET requests for idempotent methods are not used by our API.
    grpc: true,
    grpcWeb: true,
    connect: true,
  });
  return { routes, handler, endStreams: () => shutdown.abort(), activeCalls: calls.active };
}
