// How many VMs run, for the heartbeat, without asking libvirt each time: one listing the first
// time, then the backend's events keep the set current (libvirt reports what changed while it
// was unreachable too, see hypervisor-vms.ts). A heartbeat then costs no libvirt call at all.
import type { Hypervisor, HypervisorEvent } from "../hypervisor/types.ts";

export interface RunningVms {
  count(): Promise<number>;
  close(): void;
}

/** Pure: the running set after an event (the same set when the event says nothing about it). */
export function applyRunningEvent(running: Set<string>, event: HypervisorEvent): Set<string> {
  if (event.vmId === undefined || event.vmId === "") return running;
  if (event.type === "vm_deleted") running.delete(event.vmId);
  else if ((event.type === "vm_state_changed" || event.type === "vm_created") && event.state !== undefined) {
    if (event.state === "running") running.add(event.vmId);
    else running.delete(event.vmId);
  }
  return running;
}

export function trackRunningVms(hypervisor: Pick<Hypervisor, "listVms" | "onEvent">): RunningVms {
  const running = new Set<string>();
  // Events that arrive while the first listing is in flight are replayed on top of it.
  let early: HypervisorEvent[] | undefined = [];
  const unsubscribe = hypervisor.onEvent((event) => {
    if (early !== undefined) early.push(event);
    else applyRunningEvent(running, event);
  });
  let seeded: Promise<void> | undefined;
  const seed = (): Promise<void> => {
    seeded ??= hypervisor.listVms({ states: ["running"] }).then(
      (vms) => {
        for (const vm of vms) running.add(vm.id);
        for (const event of early ?? []) applyRunningEvent(running, event);
        early = undefined;
      },
      (err: unknown) => {
        // Not seeded: the next heartbeat lists again.
        seeded = undefined;
        throw err;
      },
    );
    return seeded;
  };
  return {
    count: async () => {
      await seed();
      return running.size;
    },
    close: unsubscribe,
  };
}
