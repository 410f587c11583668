// The console document: gets a one-time ticket for the VM's console, then connects noVNC to the
// daemon's WebSocket-to-VNC proxy with it. The session cookie goes along with the WebSocket.

import RFB from "@novnc/novnc";
import { rest, restoreSession } from "./api.ts";

const status = document.getElementById("status") as HTMLElement;
const cad = document.getElementById("cad") as HTMLButtonElement;
const say = (text: string, state: string) => {
  status.textContent = text;
  document.body.dataset.console = state;
};

async function connect(): Promise<void> {
  const vmId = new URLSearchParams(location.search).get("vm") ?? "";
  if (!(await restoreSession())) return say("Not logged in: log in to the host UI first.", "error");
  // Repeatable: a ticket asked for twice leaves one unused, which expires in 30 s.
  const { ticket, wsPath, password } = await rest<{ ticket: string; wsPath: string; password?: string }>("POST", "/console/ticket", { vmId }, true);
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  // The ticket is in wsPath already when the daemon says so; otherwise it goes as a query parameter.
  const path = wsPath.includes(ticket) ? wsPath : `${wsPath}${wsPath.includes("?") ? "&" : "?"}ticket=${encodeURIComponent(ticket)}`;
  // The VM's own VNC password, if it has one, comes with the ticket: the session already proved who asks.
  const rfb = new RFB(document.getElementById("screen") as HTMLElement, `${scheme}//${location.host}${path}`, password ? { credentials: { password } } : {});
  rfb.scaleViewport = true;
  rfb.addEventListener("connect", () => {
    say("Connected", "connected");
    cad.disabled = false;
  });
  rfb.addEventListener("disconnect", (e: CustomEvent<{ clean: boolean }>) => say(e.detail.clean ? "Disconnected" : "Connection lost", "disconnected"));
  rfb.addEventListener("credentialsrequired", () => say("The console asks for a password the proxy should have sent", "error"));
  cad.addEventListener("click", () => rfb.sendCtrlAltDel());
}

connect().catch((e: Error) => say(`Could not open the console: ${e.message}`, "error"));
