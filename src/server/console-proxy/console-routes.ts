// The host UI's console routes. The request guard (host-ui/request-guard.ts) has already
// checked the session, and the CSRF token or the WebSocket's Origin, before these run:
//   POST /console/ticket {vmId}  -> {ticket, wsPath, expiresAt, password?}
//   GET  /console/ws?ticket=...  -> WebSocket, proxied to the VM's VNC server (vnc-bridge.ts)
// The ticket is checked before anything else (once, this session's, unexpired), then the
// VM's console is looked up again: it may have stopped since the ticket was issued.

import { HypervisorError } from "../../hypervisor/errors.ts";
import type { ConsoleInfo, Hypervisor } from "../../hypervisor/types.ts";
import type { Logger } from "../deps.ts";
import { jsonError } from "../host-ui/request-guard.ts";
import type { UiSocketData } from "../host-ui/router.ts";
import type { Session } from "../host-ui/sessions.ts";
import type { TicketStore } from "./ticket-store.ts";
import type { VncBridge } from "./vnc-bridge.ts";

export const TICKET_PATH = "/console/ticket";
export const SOCKET_PATH = "/console/ws";

/** What the routes need of the listener: Bun's server.upgrade. */
export interface Upgrader {
  upgrade(req: Request, options: { data: UiSocketData; headers?: HeadersInit }): boolean;
}

export interface ConsoleRoutesDeps {
  hypervisor: Pick<Hypervisor, "getConsole">;
  tickets: TicketStore;
  bridge: VncBridge;
  log: Logger;
}

export interface ConsoleRoutes {
  issueTicket(req: Request, session: Session): Promise<Response>;
  /** Upgrades to the console WebSocket (undefined: upgraded) or answers why not. */
  openSocket(req: Request, server: Upgrader, session: Session): Promise<Response | undefined>;
}

/** Where the proxy dials a console: one listening on every address is reached on loopback. */
export function dialAddress(host: string): string {
  const h = host.replace(/^\[|\]$/g, "");
  if (h === "" || h === "0.0.0.0" || h === "::" || h === "0:0:0:0:0:0:0:0") return "127.0.0.1";
  return h;
}

const REFUSED: Record<"unknown" | "expired" | "other_session", string> = {
  unknown: "this console ticket is unknown or was used already; open the console again",
  expired: "this console ticket has expired; open the console again",
  other_session: "this console ticket belongs to another session; open the console again",
};

/** The console as a JSON error, or undefined when it is a VNC console the proxy can reach. */
async function vncConsole(hv: ConsoleRoutesDeps["hypervisor"], vmId: string): Promise<{ info: ConsoleInfo } | { response: Response }> {
  let info: ConsoleInfo;
  try {
    info = await hv.getConsole(vmId);
  } catch (err) {
    if (err instanceof HypervisorError) {
      if (err.kind === "not_found") return { response: jsonError(404, "vm_not_found", err.message) };
      if (err.kind === "invalid_state") return { response: jsonError(409, "no_console", err.message) };
      if (err.kind === "unavailable" || err.kind === "timeout") return { response: jsonError(503, "unavailable", err.message) };
    }
    throw err;
  }
  if (info.type !== "vnc") return { response: jsonError(409, "not_vnc", `the VM's console is ${info.type}; the browser console speaks VNC only`) };
  if (!info.port || info.port < 0) return { response: jsonError(409, "no_console", "the VM's VNC console has no port yet; try again in a moment") };
  return { info };
}

export function createConsoleRoutes(deps: ConsoleRoutesDeps): ConsoleRoutes {
  const { tickets, bridge, log } = deps;
  return {
    async issueTicket(req, session) {
      let vmId: unknown;
      try {
        vmId = ((await req.json()) as { vmId?: unknown } | null)?.vmId;
      } catch {
        return jsonError(400, "invalid_json", 'the body must be JSON: {"vmId": "..."}');
      }
      if (typeof vmId !== "string" || vmId === "") return jsonError(400, "invalid_request", "vmId is required");
      const found = await vncConsole(deps.hypervisor, vmId);
      if ("response" in found) return found.response;
      const t = tickets.issue(session.id, vmId);
      return Response.json({
        ticket: t.ticket,
        wsPath: `${SOCKET_PATH}?ticket=${encodeURIComponent(t.ticket)}`,
        expiresAt: new Date(t.expiresAtMs).toISOString(),
        // noVNC answers the VM's VNC authentication with it (the session already proved who asks).
        ...(found.info.password ? { password: found.info.password } : {}),
      });
    },

    async openSocket(req, server, session) {
      const ticket = new URL(req.url).searchParams.get("ticket");
      if (!ticket) return jsonError(400, "invalid_request", "the ticket query parameter is required (POST /console/ticket gives one)");
      const redeemed = tickets.redeem(ticket, session.id);
      if (!redeemed.ok) {
        log.warn(`console ticket refused for ${session.username}: ${redeemed.why}`);
        return jsonError(403, "ticket_refused", REFUSED[redeemed.why]);
      }
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return jsonError(400, "not_websocket", "this is a WebSocket endpoint");
      const found = await vncConsole(deps.hypervisor, redeemed.vmId);
      if ("response" in found) return found.response;
      const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
      const target = { vmId: redeemed.vmId, host: dialAddress(found.info.host), port: found.info.port, sessionId: session.id, username: session.username };
      const data: UiSocketData = { session, ...bridge.connection(target) };
      // noVNC may offer "binary" (older versions also "base64"); only binary frames are spoken here.
      const headers = offered.includes("binary") ? { "Sec-WebSocket-Protocol": "binary" } : undefined;
      if (server.upgrade(req, { data, ...(headers ? { headers } : {}) })) return undefined;
      return jsonError(400, "upgrade_failed", "the WebSocket upgrade failed");
    },
  };
}
