// One VM: its state and actions (kept current by StreamEvents), live charts (StreamMetrics),
// snapshots, devices, guest agent facts and the QEMU log.

import { call, follow } from "../api.ts";
import { TimeChart } from "../charts.ts";
import { facts, h, replace, replaceKeepingInput } from "../dom.ts";
import { bytes, num, pct, time } from "../format.ts";
import { actionButtons } from "./vm-actions.ts";
import { devicesSection, type VmSpec } from "./vm-devices.ts";
import { guestSection } from "./vm-guest.ts";
import { snapshotsSection } from "./vm-snapshots.ts";
import { type NodeEvent, stateBadge, type Vm } from "./vms.ts";

interface VmStatus extends Vm {
  startedAt?: string;
  createdAt?: string;
  spec?: VmSpec & Vm["spec"];
}

interface VmMetrics {
  vmId: string;
  cpuUsagePercent?: number;
  memoryUsedBytes?: string;
  memoryTotalBytes?: string;
  diskReadBytes?: string;
  diskWriteBytes?: string;
  networkRxBytes?: string;
  networkTxBytes?: string;
}

/** Turns cumulative byte counters into per-second rates between two samples. */
function rates(prev: { t: number; v: number[] } | undefined, t: number, v: number[]): number[] {
  if (!prev || t <= prev.t) return v.map(() => 0);
  return v.map((x, i) => Math.max(0, (x - (prev.v[i] ?? 0)) / (t - prev.t)));
}

export async function renderVm(root: HTMLElement, [vmId = ""]: string[], signal: AbortSignal): Promise<void> {
  const head = h("div", { class: "vm-head" });
  const status = h("section", { class: "card" });
  const devices = h("section", { class: "card" });
  const drawStatus = async () => {
    const vm = await call<VmStatus>("GetVMStatus", { vmId });
    if (signal.aborted) return;
    replace(
      head,
      h("h1", {}, vm.name || vm.vmId, " ", stateBadge(vm.state)),
      actionButtons(vm, () => {
        location.hash = "#/vms";
      }),
      h("a", { class: "button", href: `#/vms/${encodeURIComponent(vmId)}/console`, "data-testid": "open-console" }, "Console"),
    );
    replace(
      status,
      h("h2", {}, "Status"),
      facts([
        ["ID", vm.vmId],
        ["State reason", vm.stateReason ?? ""],
        ["vCPUs", String((vm.spec?.cpuCores ?? 1) * (vm.spec?.cpuSockets ?? 1) * (vm.spec?.cpuThreadsPerCore ?? 1))],
        ["Memory", bytes(num(vm.spec?.memoryMib) * 1048576)],
        ["Created", time(vm.createdAt)],
        ["Started", time(vm.startedAt)],
      ]),
    );
    // A redraw (an event, another action finishing) never loses what the operator was typing.
    replaceKeepingInput(devices, ...devicesSection(vm.vmId, vm.spec ?? {}, drawStatus));
  };
  await drawStatus();

  const cpu = new TimeChart("CPU", [{ label: "CPU", unit: pct }]);
  const mem = new TimeChart("Memory", [{ label: "used", unit: bytes }]);
  const disk = new TimeChart("Disk I/O", [
    { label: "read/s", unit: bytes },
    { label: "write/s", unit: bytes },
  ]);
  const net = new TimeChart("Network", [
    { label: "rx/s", unit: bytes },
    { label: "tx/s", unit: bytes },
  ]);
  replace(
    root,
    head,
    h("section", { class: "charts", "data-testid": "vm-charts" }, cpu.el, mem.el, disk.el, net.el),
    h("div", { class: "columns" }, status, snapshotsSection(vmId, signal)),
    devices,
    guestSection(vmId),
  );

  let prevDisk: { t: number; v: number[] } | undefined;
  let prevNet: { t: number; v: number[] } | undefined;
  follow<{ timestamp?: string; vms?: VmMetrics[] }>(
    "StreamMetrics",
    () => ({ intervalMs: 1000, vmIds: [vmId] }),
    (m) => {
      const vm = m.vms?.find((v) => v.vmId === vmId);
      if (!vm) return;
      const t = m.timestamp ? Date.parse(m.timestamp) / 1000 : Date.now() / 1000;
      cpu.push(t, [vm.cpuUsagePercent ?? 0]);
      mem.push(t, [num(vm.memoryUsedBytes)]);
      const d = [num(vm.diskReadBytes), num(vm.diskWriteBytes)];
      const n = [num(vm.networkRxBytes), num(vm.networkTxBytes)];
      disk.push(t, rates(prevDisk, t, d));
      net.push(t, rates(prevNet, t, n));
      prevDisk = { t, v: d };
      prevNet = { t, v: n };
    },
    signal,
  );
  follow<NodeEvent>(
    "StreamEvents",
    () => ({ vmIds: [vmId] }),
    () => void drawStatus().catch(() => undefined),
    signal,
  );
}
