// What the guest agent says about the guest, and the VM's QEMU log.

import { call } from "../api.ts";
import { facts, h, replace } from "../dom.ts";
import { duration } from "../format.ts";

interface Ping {
  connected?: boolean;
  version?: string;
  uptimeSeconds?: string;
  error?: string;
}

interface Logs {
  qemuLog?: string;
  logPath?: string;
  truncated?: boolean;
  linesReturned?: number;
}

export function guestSection(vmId: string): HTMLElement {
  const agent = h("div", { "data-testid": "guest-agent" }, "Asking the guest agent…");
  const log = h("pre", { class: "log", "data-testid": "qemu-log" }, "Loading…");
  call<Ping>("PingAgent", { vmId }).then(
    (p) =>
      replace(
        agent,
        facts([
          ["Agent", p.connected ? "connected" : "not connected"],
          ["Version", p.version ?? ""],
          ["Guest uptime", p.uptimeSeconds ? duration(p.uptimeSeconds) : ""],
          ["Error", p.error ?? ""],
        ]),
      ),
    (e: Error) => replace(agent, h("p", {}, `No guest agent: ${e.message}`)),
  );
  const loadLog = () =>
    call<Logs>("GetVMLogs", { vmId, lines: 200 }).then(
      (l) => replace(log, l.qemuLog || `(empty${l.logPath ? `: ${l.logPath}` : ""})`),
      (e: Error) => replace(log, `QEMU log unavailable: ${e.message}`),
    );
  void loadLog();
  return h(
    "div",
    { class: "columns" },
    h("section", { class: "card" }, h("h2", {}, "Guest agent"), agent),
    h("section", { class: "card" }, h("h2", {}, "QEMU log ", h("button", { type: "button", onclick: () => void loadLog() }, "Refresh")), log),
  );
}
