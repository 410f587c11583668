// Enum translations between the wire (the control plane's contract) and the hypervisor model.
// The contract's enums give their zero value a meaning (DISK_BUS_VIRTIO = 0, FIRMWARE_BIOS = 0),
// so zero is a real choice here, not "unset".

import {
  BootDevice as PBootDevice,
  CpuMode as PCpuMode,
  DiskBus as PDiskBus,
  DiskFormat as PDiskFormat,
  EventType as PEventType,
  Firmware as PFirmware,
  MigrationPhase as PMigrationPhase,
  NicModel as PNicModel,
  PowerState as PPowerState,
  VMTransition as PVMTransition,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { CpuMode, DiskBus, DiskFormat, Firmware, MigrationPhase, NicModel, VmState } from "../../hypervisor/types.ts";

/** A two-way table. */
function table<D extends string, P extends number>(pairs: [D, P][]) {
  const toWire = new Map(pairs);
  const fromWireMap = new Map(pairs.map(([d, p]) => [p, d]));
  return {
    toWire: (d: D): P => toWire.get(d)!,
    fromWire: (p: P): D | undefined => fromWireMap.get(p),
    names: pairs.map(([d]) => d),
  };
}

export const cpuMode = table<CpuMode, PCpuMode>([
  ["auto", PCpuMode.UNSPECIFIED],
  ["host-passthrough", PCpuMode.HOST_PASSTHROUGH],
  ["host-model", PCpuMode.HOST_MODEL],
  ["custom", PCpuMode.CUSTOM],
  ["maximum", PCpuMode.MAXIMUM],
]);

export const diskFormat = table<DiskFormat, PDiskFormat>([
  ["qcow2", PDiskFormat.QCOW2],
  ["raw", PDiskFormat.RAW],
]);

/**
 * The control plane casts its compute API's bus numbers onto this enum unchanged (contract 1.3):
 * its NVME (2) arrives as SATA, its SATA (3) as IDE, its IDE as 4, which this enum does not name.
 * 4 is taken for what it meant (IDE); IDE itself becomes SATA on q35 (domain XML, one rule there).
 */
const COMPUTE_API_IDE = 4;
const diskBusTable = table<DiskBus, PDiskBus>([
  ["virtio", PDiskBus.VIRTIO],
  ["scsi", PDiskBus.SCSI],
  ["sata", PDiskBus.SATA],
  ["ide", PDiskBus.IDE],
]);
export const diskBus = {
  ...diskBusTable,
  fromWire: (p: PDiskBus): DiskBus | undefined => ((p as number) === COMPUTE_API_IDE ? "ide" : diskBusTable.fromWire(p)),
};

/**
 * Likewise for NIC models: the compute API's VMXNET3 (3) arrives unnamed. A paravirtual NIC was
 * asked for; virtio is the paravirtual NIC of KVM guests.
 */
const COMPUTE_API_VMXNET3 = 3;
const nicModelTable = table<NicModel, PNicModel>([
  ["virtio", PNicModel.VIRTIO],
  ["e1000", PNicModel.E1000],
  ["rtl8139", PNicModel.RTL8139],
]);
export const nicModel = {
  ...nicModelTable,
  fromWire: (p: PNicModel): NicModel | undefined => ((p as number) === COMPUTE_API_VMXNET3 ? "virtio" : nicModelTable.fromWire(p)),
};

export const firmware = table<Firmware, PFirmware>([
  ["bios", PFirmware.BIOS],
  ["uefi", PFirmware.UEFI],
]);

export type BootClass = "disk" | "cdrom" | "network";
export const bootDevice = table<BootClass, PBootDevice>([
  ["disk", PBootDevice.DISK],
  ["cdrom", PBootDevice.CDROM],
  ["network", PBootDevice.NETWORK],
]);

/**
 * The model's states on the contract's PowerState: shutting down and migrating are running VMs
 * (the control plane would take any other value for "stopped"); the transition says more.
 */
const powerByState: Record<VmState, PPowerState> = {
  stopped: PPowerState.STOPPED,
  running: PPowerState.RUNNING,
  paused: PPowerState.PAUSED,
  shutting_down: PPowerState.RUNNING,
  crashed: PPowerState.CRASHED,
  suspended: PPowerState.SUSPENDED,
  migrating: PPowerState.RUNNING,
};

export const powerState = {
  toWire: (s: VmState): PPowerState => powerByState[s],
  /** The model states a power state filter matches. UNKNOWN matches none. */
  statesOf: (p: PPowerState): VmState[] => (Object.keys(powerByState) as VmState[]).filter((s) => p !== PPowerState.UNKNOWN && powerByState[s] === p),
  known: (p: number): boolean => p in PPowerState && p !== PPowerState.UNKNOWN,
};

export function transitionOf(s: VmState): PVMTransition {
  if (s === "shutting_down") return PVMTransition.VM_TRANSITION_SHUTTING_DOWN;
  if (s === "migrating") return PVMTransition.VM_TRANSITION_MIGRATING;
  return PVMTransition.VM_TRANSITION_NONE;
}

/** The state a power state and transition describe (the CLI's reading of a status). */
export function stateOf(p: PPowerState, t: PVMTransition): VmState | undefined {
  if (t === PVMTransition.VM_TRANSITION_SHUTTING_DOWN) return "shutting_down";
  if (t === PVMTransition.VM_TRANSITION_MIGRATING) return "migrating";
  return (Object.keys(powerByState) as VmState[]).find((s) => powerByState[s] === p && transitionOf(s) === PVMTransition.VM_TRANSITION_NONE);
}

export const migrationPhase = table<MigrationPhase, PMigrationPhase>([
  ["starting", PMigrationPhase.PREPARING],
  ["transferring", PMigrationPhase.TRANSFERRING],
  ["completed", PMigrationPhase.COMPLETE],
  ["failed", PMigrationPhase.FAILED],
  ["cancelled", PMigrationPhase.CANCELLED],
]);

/** Event types a StreamEvents filter may name: every value but UNKNOWN. */
export const knownEventType = (t: number): boolean => t in PEventType && t !== PEventType.UNKNOWN;
