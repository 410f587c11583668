// The live event log: the events the daemon still holds, then new ones as they happen, filtered
// by type and VM in the browser.

import { follow } from "../api.ts";
import { h, replace } from "../dom.ts";
import { eventType, powerState, time } from "../format.ts";
import type { NodeEvent } from "./vms.ts";

const MAX_ROWS = 1000;

export function renderEvents(root: HTMLElement, _params: string[], signal: AbortSignal): void {
  const events: NodeEvent[] = [];
  const typeFilter = h("select", { name: "type" }, h("option", { value: "" }, "all types"));
  const vmFilter = h("input", { name: "vm", placeholder: "VM name or id", type: "search" });
  const body = h("tbody", {});
  const known = new Set<string>();

  const matches = (e: NodeEvent) =>
    (!typeFilter.value || e.type === typeFilter.value) &&
    (!vmFilter.value || `${e.vmName ?? ""} ${e.vmId ?? ""}`.toLowerCase().includes(vmFilter.value.toLowerCase()));
  const row = (e: NodeEvent) =>
    h(
      "tr",
      { "data-type": e.type ?? "" },
      h("td", {}, e.sequence ?? ""),
      h("td", {}, time(e.timestamp)),
      h("td", {}, eventType(e.type)),
      h("td", {}, e.vmName || e.vmId || ""),
      h("td", {}, e.state ? `${powerState(e.previousState)} → ${powerState(e.state)}` : ""),
      h("td", {}, e.message ?? ""),
    );
  const redraw = () => replace(body, ...events.filter(matches).map(row));
  typeFilter.addEventListener("change", redraw);
  vmFilter.addEventListener("input", redraw);

  replace(
    root,
    h("h1", {}, "Events"),
    h("div", { class: "inline-form" }, typeFilter, vmFilter),
    h("table", { "data-testid": "events" }, h("thead", {}, h("tr", {}, ...["#", "Time", "Type", "VM", "State", "Message"].map((t) => h("th", {}, t)))), body),
  );

  let last = "";
  follow<NodeEvent>(
    "StreamEvents",
    // After a reconnect, resume after the last event seen instead of replaying everything.
    () => (last ? { afterSequence: last } : { fromOldest: true }),
    (e) => {
      last = e.sequence ?? last;
      events.unshift(e);
      if (events.length > MAX_ROWS) events.pop();
      if (e.type && !known.has(e.type)) {
        known.add(e.type);
        typeFilter.append(h("option", { value: e.type }, eventType(e.type)));
      }
      if (matches(e)) body.prepend(row(e));
    },
    signal,
  );
}
