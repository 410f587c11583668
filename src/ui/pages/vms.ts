// The VM list: state and usage, power actions; a StreamEvents subscription redraws the list when
// a VM changes, so state changes show without a reload.

import { call, follow } from "../api.ts";
import { h, replace, table } from "../dom.ts";
import { bytes, num, pct, powerState } from "../format.ts";
import { actionButtons } from "./vm-actions.ts";

export interface Vm {
  vmId: string;
  name?: string;
  state?: string;
  stateReason?: string;
  resourceUsage?: { cpuUsagePercent?: number; memoryUsedBytes?: string; memoryTotalBytes?: string };
  spec?: { cpuCores?: number; cpuSockets?: number; cpuThreadsPerCore?: number; memoryMib?: string };
}

export interface NodeEvent {
  id?: string;
  timestamp?: string;
  type?: string;
  vmId?: string;
  vmName?: string;
  message?: string;
  sequence?: string;
  state?: string;
  previousState?: string;
  metadata?: Record<string, string>;
}

export function stateBadge(state: string | undefined): HTMLElement {
  const s = powerState(state);
  return h("span", { class: `state state-${s}`, "data-testid": "vm-state" }, s);
}

export async function renderVms(root: HTMLElement, _params: string[], signal: AbortSignal): Promise<void> {
  const list = h("div", { "data-testid": "vm-list" });
  const draw = async () => {
    const { vms = [] } = await call<{ vms?: Vm[] }>("ListVMs", {});
    vms.sort((a, b) => (a.name ?? "").localeCompare(b.name ?? ""));
    if (signal.aborted) return;
    replace(
      list,
      vms.length === 0
        ? h("p", {}, "No virtual machines yet.")
        : table(
            ["Name", "State", "vCPU", "CPU", "Memory", ""],
            vms.map((vm) => [
              h("a", { href: `#/vms/${encodeURIComponent(vm.vmId)}` }, vm.name || vm.vmId),
              stateBadge(vm.state),
              (vm.spec?.cpuCores ?? 1) * (vm.spec?.cpuSockets ?? 1),
              pct(vm.resourceUsage?.cpuUsagePercent),
              `${bytes(vm.resourceUsage?.memoryUsedBytes)} / ${bytes(num(vm.resourceUsage?.memoryTotalBytes) || num(vm.spec?.memoryMib) * 1048576)}`,
              actionButtons(vm, () => void draw()),
            ]),
            { class: "vms" },
          ),
    );
    for (const [i, tr] of list.querySelectorAll("tbody tr").entries()) tr.setAttribute("data-vm", vms[i]?.name ?? "");
  };
  replace(root, h("h1", {}, "Virtual machines"), h("p", {}, h("a", { href: "#/vms/new", class: "button", "data-testid": "new-vm" }, "Create VM")), list);
  await draw();

  let pending: ReturnType<typeof setTimeout> | undefined;
  const soon = () => {
    clearTimeout(pending);
    pending = setTimeout(() => void draw().catch(() => undefined), 150);
  };
  follow<NodeEvent>(
    "StreamEvents",
    () => ({}),
    (e) => e.vmId && soon(),
    signal,
  );
  const usage = setInterval(soon, 10_000);
  signal.addEventListener("abort", () => {
    clearInterval(usage);
    clearTimeout(pending);
  });
}
