// The registrar's view of the hypervisor: its VMs as NodeVm, and its VM events as changes.
// Event driven: the backend already reports every define, undefine and lifecycle change (libvirt
// catches up on what happened while it was unreachable), so nothing here polls.
import type { Hypervisor, HypervisorEvent, VmStatus } from "../hypervisor/types.ts";
import type { NodeVm, NodeVmChange, NodeVmSource } from "./types.ts";

export function nodeVmOf(vm: VmStatus): NodeVm {
  const { cpu, memoryMib, disks } = vm.spec;
  return {
    id: vm.id,
    name: vm.spec.name || vm.name,
    state: vm.state,
    cpuCores: cpu.sockets * cpu.coresPerSocket * cpu.threadsPerCore,
    memoryMib,
    // CD-ROMs are media, not the VM's disks.
    diskPaths: disks
      .filter((d) => d.device === "disk")
      .map((d) => d.resolvedPath ?? d.path)
      .filter((p): p is string => p !== undefined && p !== ""),
  };
}

/** Pure: the change an event means for the control plane, if any. */
export function changeOf(event: HypervisorEvent): NodeVmChange | undefined {
  if (event.vmId === undefined || event.vmId === "") return undefined;
  switch (event.type) {
    case "vm_created":
    case "vm_state_changed":
      // Both backends always say the state; an event without one says nothing to report.
      return event.state === undefined ? undefined : { kind: "present", id: event.vmId, name: event.vmName ?? "", state: event.state };
    case "vm_deleted":
      return { kind: "gone", id: event.vmId };
    default:
      return undefined;
  }
}

export function hypervisorVmSource(hypervisor: Pick<Hypervisor, "listVms" | "onEvent">): NodeVmSource {
  return {
    list: async () => (await hypervisor.listVms()).map(nodeVmOf),
    onChange: (listener) =>
      hypervisor.onEvent((event) => {
        const change = changeOf(event);
        if (change !== undefined) listener(change);
      }),
  };
}
