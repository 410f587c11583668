// The browser console on the host UI listener: one-time tickets, the two routes, and the
// WebSocket-to-VNC bridge, as a session route factory for host-ui/router.ts.

import type { Hypervisor } from "../../hypervisor/types.ts";
import type { Logger } from "../deps.ts";
import type { HostUiContext, SessionRoutes } from "../host-ui/router.ts";
import { type ConsoleRoutes, createConsoleRoutes, SOCKET_PATH, TICKET_PATH } from "./console-routes.ts";
import { createTicketStore, type TicketStoreOptions } from "./ticket-store.ts";
import { createVncBridge } from "./vnc-bridge.ts";

export interface ConsoleProxy extends ConsoleRoutes {
  /** Logout: the session's tickets are void and its open consoles close. */
  endSession(sessionId: string): void;
  /** Closes every open console (the listener is closing). */
  close(): void;
  stats(): { openConsoles: number; unredeemedTickets: number };
  routes(): SessionRoutes;
}

export function createConsoleProxy(deps: { hypervisor: Pick<Hypervisor, "getConsole">; log: Logger; tickets?: TicketStoreOptions }): ConsoleProxy {
  const tickets = createTicketStore(deps.tickets);
  const bridge = createVncBridge(deps.log);
  const handlers = createConsoleRoutes({ hypervisor: deps.hypervisor, tickets, bridge, log: deps.log });
  return {
    ...handlers,
    endSession(sessionId) {
      tickets.dropSession(sessionId);
      bridge.closeSession(sessionId);
    },
    close: () => bridge.closeAll(),
    stats: () => ({ openConsoles: bridge.open(), unredeemedTickets: tickets.size() }),
    routes: () => ({
      [TICKET_PATH]: { POST: (req, _server, session) => handlers.issueTicket(req, session) },
      [SOCKET_PATH]: { GET: (req, server, session) => handlers.openSocket(req, server, session) },
    }),
  };
}

/** The session routes factory for host-ui/router.ts's SESSION_ROUTES. */
export function consoleSessionRoutes(ctx: HostUiContext): SessionRoutes {
  const proxy = createConsoleProxy({ hypervisor: ctx.services.hypervisor, log: ctx.services.log });
  ctx.onClose(proxy.close);
  // Logout or expiry: the session's tickets are void and its open consoles close.
  ctx.onSessionEnd(proxy.endSession);
  return proxy.routes();
}
