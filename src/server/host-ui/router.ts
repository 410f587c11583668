// The route table of the one HTTPS listener (agent.rest_listen_address, default :8443), in one
// place. What is on it, and who may call it:
//
//   /, /ui/console             the host UI (src/ui/index.html, console.html, bundled by Bun,
//                              embedded in the binary; UI_PAGES, served through ui-pages.ts);
//                              public, like its assets: the bundle is not secret, data is
//   /auth/login                POST {username, password}; public (rate-limited, same-origin only)
//   /auth/session              GET; the session or 401
//   /auth/logout, /auth/registration-token        session (+ CSRF for POST)
//   /ui-api/<pkg.Service>/<Method>                session + CSRF: the Connect API (ui-api.ts)
//   /api/v1/registration/{ping,token,discovery}   the control plane: none / Bearer registration token
//   /api/v1/*                  the control plane's REST calls, behind their own gate (rest/agent-rest.ts)
//   SESSION_ROUTES below       session (+ CSRF for state-changing methods, Origin for WebSockets)
//
// HOW TO ADD A ROUTE THAT NEEDS A SESSION (e.g. /console/*, /ui/history):
//   1. In your own folder write a factory `(ctx: HostUiContext) => SessionRoutes`: paths (Bun
//      route syntax: "/console/:vmId", "/ui/history") to methods to handlers
//      `(req, server, session) => Response | undefined | Promise<...>`. The handler runs only
//      after the gate passed: a live session; for POST/PUT/PATCH/DELETE a matching
//      X-CSRF-Token and no foreign Origin/Sec-Fetch-Site; for a WebSocket upgrade a same-origin
//      Origin header. Otherwise the client gets 401 {error:"no_session"} or 403 JSON.
//   2. Add the factory to SESSION_ROUTES. Need something from the daemon? Add it to
//      HostUiServices (daemon.ts fills it). A subscription or timer the factory starts is
//      released through ctx.onClose(fn), which runs when the listener closes; what belongs to a
//      session (an open console) through ctx.onSessionEnd(fn), called at logout and expiry.
//   3. WebSockets: `server.upgrade(req, { data: { session, open, message, close, drain } })`
//      (UiSocketData) and return undefined; the listener's websocket handlers call yours.
//   A route that must work without a session needs its own line here and a reason.
// Every answer of every route carries the headers of security-headers.ts (CSP frame-ancestors,
// X-Frame-Options, nosniff, no-referrer, no-store): hostRoutes wraps each handler.

import type { Server, ServerWebSocket } from "bun";
import type { ConnectRouter } from "@connectrpc/connect";
import page from "../../ui/index.html";
// The VM console is its own document, so noVNC loads only there (16C).
import consolePage from "../../ui/console.html";
import type { NodeConfig } from "../../config/types.ts";
import type { Hypervisor } from "../../hypervisor/types.ts";
import type { MetricsHub } from "../../metrics/metrics-hub.ts";
import type { EventBus } from "../../events/event-bus.ts";
import type { Logger } from "../deps.ts";
import { type AuthDeps, authRoutes } from "./auth-routes.ts";
import { registrationRoutes } from "./registration-routes.ts";
import { jsonError, type RequestGuard } from "./request-guard.ts";
import type { Session } from "./sessions.ts";
import { type Framing, type SecurityOptions, securedHandler } from "./security-headers.ts";
import { uiApiRoutes } from "./ui-api.ts";
import type { UiPages } from "./ui-pages.ts";
import { consoleSessionRoutes } from "../console-proxy/index.ts";
import { historySessionRoutes } from "../dashboard/history-route.ts";

/** What the daemon hands to session routes. */
export interface HostUiServices {
  config: NodeConfig;
  hypervisor: Hypervisor;
  events: EventBus;
  metrics: MetricsHub;
  log: Logger;
}

export interface HostUiContext {
  services: HostUiServices;
  /** Registers a clean-up (a subscription, a timer) run when the listener closes. */
  onClose(fn: () => void): void;
  /** Called with the session id when a session ends (logout, expiry): close its consoles. */
  onSessionEnd(fn: (sessionId: string) => void): void;
}

type Awaitable<T> = T | Promise<T>;
export type SessionHandler = (req: Request, server: Server<UiSocketData>, session: Session) => Awaitable<Response | undefined>;
export type SessionRoutes = Record<string, Partial<Record<"GET" | "POST" | "PUT" | "PATCH" | "DELETE", SessionHandler>>>;

/** A WebSocket's data: the session it was opened with, and the route's own handlers. */
export interface UiSocketData {
  session: Session;
  open?(ws: ServerWebSocket<UiSocketData>): void;
  message?(ws: ServerWebSocket<UiSocketData>, message: string | Buffer): void;
  close?(ws: ServerWebSocket<UiSocketData>, code: number, reason: string): void;
  drain?(ws: ServerWebSocket<UiSocketData>): void;
}

/** The UI's documents: path -> imported HTML (ui-pages.ts serves them and their assets). */
export const UI_PAGES = { "/": page, "/ui/console": consolePage };
/** Who may frame each document: the console page is shown in an iframe of the UI, nothing else is. */
const PAGE_FRAMING: Record<keyof typeof UI_PAGES, Framing> = { "/": "deny", "/ui/console": "same-origin" };

/** Session routes of the other host UI concerns (console, dashboard history): add yours here. */
const SESSION_ROUTES: ((ctx: HostUiContext) => SessionRoutes)[] = [consoleSessionRoutes, historySessionRoutes];

export interface RouterDeps extends AuthDeps {
  apiRoutes: (router: ConnectRouter) => void;
  maxMessageBytes?: number;
  /** The control plane's REST calls (rest/agent-rest.ts), with their own gate. */
  agentRest: (req: Request, server: Server<UiSocketData>) => Promise<Response>;
  services: HostUiServices;
  /** Serves UI_PAGES and their assets with the security headers. */
  pages: UiPages;
  /** Replaces SESSION_ROUTES (tests of the gate itself). */
  sessionRoutes?: ((ctx: HostUiContext) => SessionRoutes)[];
  /** Collects what session routes must release when the listener closes (ctx.onClose). */
  onClose?: (fn: () => void) => void;
}

type RouteValue = unknown;
type AnyHandler = (...args: never[]) => unknown;

/** Every handler of a route table (bare or per method) with secured answers. */
function securedRoutes(routes: Record<string, RouteValue>, opts: SecurityOptions = {}): Record<string, RouteValue> {
  const out: Record<string, RouteValue> = {};
  for (const [path, value] of Object.entries(routes)) {
    if (typeof value === "function") out[path] = securedHandler(value as AnyHandler, opts);
    else if (value && typeof value === "object" && !(value instanceof Response))
      out[path] = Object.fromEntries(Object.entries(value).map(([m, h]) => [m, securedHandler(h as AnyHandler, opts)]));
    else throw new Error(`host UI route ${path}: only handlers may be routes (a static value would miss the security headers)`);
  }
  return out;
}

function gated(guard: RequestGuard, routes: SessionRoutes): Record<string, RouteValue> {
  const out: Record<string, RouteValue> = {};
  for (const [path, methods] of Object.entries(routes)) {
    const wrapped: Record<string, RouteValue> = {};
    for (const [method, handler] of Object.entries(methods)) {
      wrapped[method] = (req: Request, server: Server<UiSocketData>) => {
        const c = guard.check(req);
        return c.ok ? handler(req, server, c.session) : c.response;
      };
    }
    out[path] = wrapped;
  }
  return out;
}

const notFound = (req: Request) => jsonError(404, "not_found", `no such call: ${req.method} ${new URL(req.url).pathname}`);

/** Bun.serve's `routes`: exact paths first, then the listed prefixes, then the UI for the rest. */
export function hostRoutes(deps: RouterDeps): Record<string, RouteValue> {
  const ctx: HostUiContext = { services: deps.services, onClose: deps.onClose ?? (() => {}), onSessionEnd: (fn) => deps.sessions.onEnd(fn) };
  const sessionRoutes = (deps.sessionRoutes ?? SESSION_ROUTES).map((f) => gated(deps.guard, f(ctx)));
  const page = async (req: Request) => (await deps.pages.serve(req)) ?? notFound(req);
  const pages = Object.entries(PAGE_FRAMING).map(([path, framing]) =>
    // The bundle's answers keep Bun's caching (pages revalidate, hashed assets are immutable).
    securedRoutes({ [path]: { GET: page, HEAD: page } }, { cache: "keep", framing }),
  );
  return {
    ...Object.assign({}, ...pages),
    ...securedRoutes(callRoutes(deps, sessionRoutes)),
  };
}

/** Everything but the pages: auth, API, registration, session routes, the control plane's REST. */
function callRoutes(deps: RouterDeps, sessionRoutes: Record<string, RouteValue>[]): Record<string, RouteValue> {
  return {
    ...registrationRoutes(deps.facts, deps.tokens),
    ...authRoutes(deps),
    ...uiApiRoutes(deps.apiRoutes, deps.guard, deps.maxMessageBytes === undefined ? {} : { maxMessageBytes: deps.maxMessageBytes }),
    ...Object.assign({}, ...sessionRoutes),
    "/api/v1/*": deps.agentRest,
    // Unknown calls under the API prefixes answer JSON 404, after the session gate (no probing).
    "/auth/*": notFound,
    "/ui-api/*": (req: Request) => {
      const c = deps.guard.check(req);
      return c.ok ? notFound(req) : c.response;
    },
  };
}

/** Bun.serve's `websocket`: every upgrade made by a session route carries its handlers. */
export const uiWebSocketHandlers = {
  open: (ws: ServerWebSocket<UiSocketData>) => ws.data.open?.(ws),
  message: (ws: ServerWebSocket<UiSocketData>, m: string | Buffer) => ws.data.message?.(ws, m),
  close: (ws: ServerWebSocket<UiSocketData>, code: number, reason: string) => ws.data.close?.(ws, code, reason),
  drain: (ws: ServerWebSocket<UiSocketData>) => ws.data.drain?.(ws),
};
