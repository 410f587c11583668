// The one place that maps the hypervisor's VM states to the control plane's: the VMPowerState
// enum (VMStatusReport, VMChangeNotification, the state hash's digits) and the capitalised word
// SyncNodeVMs carries. The hypervisor layer keeps its own plain states (hypervisor/types.ts).
import { VMPowerState } from "../gen/limiquantix/compute/v1/node_service_pb.ts";
import type { VmState } from "../hypervisor/types.ts";

// shutting_down and migrating have no digit in the contract's state hash (6.5) and the reference
// node reports both as Running: the guest is still running until libvirt says otherwise, and a
// VM the control plane saw flip to a state only this node knows would look lost to it.
const powerStates = new Map<VmState, VMPowerState>([
  ["running", VMPowerState.VM_POWER_STATE_RUNNING],
  ["shutting_down", VMPowerState.VM_POWER_STATE_RUNNING],
  ["migrating", VMPowerState.VM_POWER_STATE_RUNNING],
  ["stopped", VMPowerState.VM_POWER_STATE_STOPPED],
  ["paused", VMPowerState.VM_POWER_STATE_PAUSED],
  ["suspended", VMPowerState.VM_POWER_STATE_SUSPENDED],
  ["crashed", VMPowerState.VM_POWER_STATE_CRASHED],
]);

/** A state this build does not know (a newer backend's) is reported as unknown, not guessed. */
export function powerStateOf(state: VmState): VMPowerState {
  return powerStates.get(state) ?? VMPowerState.VM_POWER_STATE_UNKNOWN;
}

// The control plane lower-cases this word to pick its own state (crashed becomes failed,
// anything it does not recognise becomes stopped).
const stateWords = new Map<VMPowerState, string>([
  [VMPowerState.VM_POWER_STATE_RUNNING, "Running"],
  [VMPowerState.VM_POWER_STATE_STOPPED, "Stopped"],
  [VMPowerState.VM_POWER_STATE_PAUSED, "Paused"],
  [VMPowerState.VM_POWER_STATE_SUSPENDED, "Suspended"],
  [VMPowerState.VM_POWER_STATE_CRASHED, "Crashed"],
]);

/** The word for SyncNodeVMs' NodeVMInfo.state; "Unknown" for what powerStateOf never returns. */
export function stateWordOf(power: VMPowerState): string {
  return stateWords.get(power) ?? "Unknown";
}
