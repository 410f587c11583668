// The node API for the browser: every Connect RPC of the daemon's router (NodeDaemonService and
// whatever else create-api.ts registers, with the same handlers and interceptors) under
// /ui-api/<package.Service>/<Method>, Connect protocol only (JSON or binary, unary and server
// streaming over HTTP/1.1). Each call passes the session gate first (POST: CSRF too); the
// handlers then see the host user through hostUiUserKey, so the agent RPCs accept them.

import type { Server } from "bun";
import { type ConnectRouter, createConnectRouter, createContextValues } from "@connectrpc/connect";
import { universalServerRequestFromFetch, universalServerResponseToFetch } from "@connectrpc/connect/protocol";
import { hostUiUserKey } from "../access.ts";
import { peerKey } from "../peer.ts";
import { jsonError, type RequestGuard } from "./request-guard.ts";

export const UI_API_PREFIX = "/ui-api";

type Handler = (req: Request, server: Server<unknown>) => Promise<Response>;

/** Connect's own content types; gRPC and gRPC-Web belong to the API listener, not the browser. */
const CONNECT_TYPES = /^application\/(json|proto|connect\+json|connect\+proto)(;|$)/i;

export function uiApiRoutes(routes: (router: ConnectRouter) => void, guard: RequestGuard, opts: { maxMessageBytes?: number } = {}): Record<string, Handler> {
  const router = createConnectRouter(opts.maxMessageBytes !== undefined ? { readMaxBytes: opts.maxMessageBytes } : {});
  routes(router);
  const out: Record<string, Handler> = {};
  for (const handler of router.handlers) {
    const streaming = handler.method.methodKind !== "unary";
    out[`${UI_API_PREFIX}${handler.requestPath}`] = async (req, server) => {
      if (req.method !== "POST") return jsonError(405, "method_not_allowed", "call the UI API with POST");
      const gate = guard.check(req);
      if (!gate.ok) return gate.response;
      if (!CONNECT_TYPES.test(req.headers.get("content-type") ?? ""))
        return jsonError(415, "unsupported_media_type", "the UI API speaks the Connect protocol: application/json or application/connect+json");
      // Streams (StreamEvents, StreamMetrics) can stay quiet longer than Bun's idle timeout.
      if (streaming) server.timeout(req, 0);
      const address = server.requestIP(req)?.address ?? "";
      const universal = universalServerRequestFromFetch(req, { httpVersion: "1.1" });
      universal.contextValues = createContextValues()
        .set(hostUiUserKey, gate.session.username)
        .set(peerKey, { address, tls: true, httpVersion: "1.1", cutOff: () => req.signal.throwIfAborted?.() });
      return universalServerResponseToFetch(await handler(universal));
    };
  }
  return out;
}
