// Enum translations between the wire (protobuf) and the hypervisor model. An UNSPECIFIED value
// on the wire means "the default", which is the first entry of each table.

import {
  ConsoleType as PConsoleType,
  CpuMode as PCpuMode,
  DiskBus as PDiskBus,
  DiskDevice as PDiskDevice,
  DiskFormat as PDiskFormat,
  EventType as PEventType,
  Firmware as PFirmware,
  MigrationPhase as PMigrationPhase,
  NicModel as PNicModel,
  VMState as PVmState,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import type {
  ConsoleType,
  CpuMode,
  DiskBus,
  DiskDevice,
  DiskFormat,
  Firmware,
  HypervisorEventType,
  MigrationPhase,
  NicModel,
  VmState,
} from "../../hypervisor/types.ts";

/** A two-way table; `fromWire(UNSPECIFIED)` gives the first (default) entry. */
function table<D extends string, P extends number>(pairs: [D, P][]) {
  const toWire = new Map(pairs);
  const fromWireMap = new Map(pairs.map(([d, p]) => [p, d]));
  const fallback = pairs[0]![0];
  return {
    toWire: (d: D): P => toWire.get(d)!,
    fromWire: (p: P): D | undefined => (p === 0 ? fallback : fromWireMap.get(p)),
    names: pairs.map(([d]) => d),
  };
}

export const cpuMode = table<CpuMode, PCpuMode>([
  ["host-passthrough", PCpuMode.HOST_PASSTHROUGH],
  ["host-model", PCpuMode.HOST_MODEL],
  ["custom", PCpuMode.CUSTOM],
]);

export const diskFormat = table<DiskFormat, PDiskFormat>([
  ["qcow2", PDiskFormat.QCOW2],
  ["raw", PDiskFormat.RAW],
]);

export const diskBus = table<DiskBus, PDiskBus>([
  ["virtio", PDiskBus.VIRTIO],
  ["scsi", PDiskBus.SCSI],
  ["sata", PDiskBus.SATA],
  ["ide", PDiskBus.IDE],
]);

export const diskDevice = table<DiskDevice, PDiskDevice>([
  ["disk", PDiskDevice.DISK],
  ["cdrom", PDiskDevice.CDROM],
]);

export const nicModel = table<NicModel, PNicModel>([
  ["virtio", PNicModel.VIRTIO],
  ["e1000", PNicModel.E1000],
  ["rtl8139", PNicModel.RTL8139],
]);

export const firmware = table<Firmware, PFirmware>([
  ["bios", PFirmware.BIOS],
  ["uefi", PFirmware.UEFI],
]);

export const consoleType = table<ConsoleType, PConsoleType>([
  ["vnc", PConsoleType.VNC],
  ["spice", PConsoleType.SPICE],
  ["none", PConsoleType.NONE],
]);

const vmStateTable = table<VmState, PVmState>([
  ["stopped", PVmState.VM_STATE_STOPPED],
  ["running", PVmState.VM_STATE_RUNNING],
  ["paused", PVmState.VM_STATE_PAUSED],
  ["shutting_down", PVmState.VM_STATE_SHUTTING_DOWN],
  ["crashed", PVmState.VM_STATE_CRASHED],
  ["suspended", PVmState.VM_STATE_SUSPENDED],
  ["migrating", PVmState.VM_STATE_MIGRATING],
]);

export const vmState = {
  toWire: vmStateTable.toWire,
  /** UNSPECIFIED is not a state (no default): returns undefined for it. */
  fromWire: (p: PVmState): VmState | undefined => (p === 0 ? undefined : vmStateTable.fromWire(p)),
};

export const migrationPhase = table<MigrationPhase, PMigrationPhase>([
  ["starting", PMigrationPhase.STARTING],
  ["transferring", PMigrationPhase.TRANSFERRING],
  ["completed", PMigrationPhase.COMPLETED],
  ["failed", PMigrationPhase.FAILED],
  ["cancelled", PMigrationPhase.CANCELLED],
]);

const eventTypeTable = table<HypervisorEventType, PEventType>([
  ["vm_created", PEventType.VM_CREATED],
  ["vm_deleted", PEventType.VM_DELETED],
  ["vm_state_changed", PEventType.VM_STATE_CHANGED],
  ["snapshot_created", PEventType.SNAPSHOT_CREATED],
  ["snapshot_reverted", PEventType.SNAPSHOT_REVERTED],
  ["snapshot_deleted", PEventType.SNAPSHOT_DELETED],
  ["disk_attached", PEventType.DISK_ATTACHED],
  ["disk_detached", PEventType.DISK_DETACHED],
  ["nic_attached", PEventType.NIC_ATTACHED],
  ["nic_detached", PEventType.NIC_DETACHED],
  ["migration_started", PEventType.MIGRATION_STARTED],
  ["migration_completed", PEventType.MIGRATION_COMPLETED],
  ["migration_failed", PEventType.MIGRATION_FAILED],
  ["operation_failed", PEventType.OPERATION_FAILED],
  ["node", PEventType.NODE],
]);

export const eventType = {
  toWire: eventTypeTable.toWire,
  fromWire: (p: PEventType): HypervisorEventType | undefined => (p === 0 ? undefined : eventTypeTable.fromWire(p)),
};
