// How a VM's state and size read in every command's output: one wording for list, get, the
// power commands and the event lines.

import { PowerStateSchema, type VMStatusResponse, VMTransition } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { enumLabel } from "./format.ts";

/** "running", "stopped", ...; what a running VM is in the middle of wins: "shutting down", "migrating". */
export function stateOf(vm: Pick<VMStatusResponse, "state" | "transition">): string {
  if (vm.transition === VMTransition.VM_TRANSITION_SHUTTING_DOWN) return "shutting down";
  if (vm.transition === VMTransition.VM_TRANSITION_MIGRATING) return "migrating";
  return enumLabel(PowerStateSchema, vm.state);
}

/** vCPUs = sockets x cores per socket x threads per core. */
export const vcpus = (vm: Pick<VMStatusResponse, "spec">): number => {
  const s = vm.spec;
  return s ? s.cpuSockets * s.cpuCores * s.cpuThreadsPerCore : 0;
};
