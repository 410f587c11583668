// Pure translation from the node's VMs to SyncNodeVMs, SyncFullState and NotifyVMChange
// (contract 6.3). The power state mapping is vm-state.ts's, the hash state-hash.ts's.
import { create } from "@bufbuild/protobuf";
import {
  HostInfoSchema,
  SyncFullStateRequestSchema,
  SyncNodeVMsRequestSchema,
  VMChangeEventType,
  VMChangeNotificationSchema,
  VMPowerState,
  VMStatusReportSchema,
  type HostInfo,
  type SyncFullStateRequest,
  type SyncNodeVMsRequest,
  type VMChangeNotification,
  type VMStatusReport,
} from "../gen/limiquantix/compute/v1/node_service_pb.ts";
import type { HostIdentity } from "../telemetry/types.ts";
import { buildStoragePoolReport, type HeartbeatFigures, type StoragePoolReport } from "./messages.ts";
import { stateHash } from "./state-hash.ts";
import type { NodeVm } from "./types.ts";
import type { TrackedVm, VmChangeEvent } from "./vm-tracker.ts";
import { powerStateOf, stateWordOf } from "./vm-state.ts";
import { finite, u32, u64, unixSeconds } from "./wire-numbers.ts";

export function buildSyncNodeVmsRequest(nodeId: string, vms: readonly NodeVm[]): SyncNodeVMsRequest {
  return create(SyncNodeVMsRequestSchema, {
    nodeId,
    vms: vms.map((vm) => ({
      id: vm.id,
      name: vm.name,
      state: stateWordOf(powerStateOf(vm.state)),
      cpuCores: u32(vm.cpuCores),
      memoryMib: u64(vm.memoryMib),
      diskPaths: [...(vm.diskPaths ?? [])],
    })),
  });
}

/** Usage and addresses are not tracked here: 0 and [] on the wire, as the reference sends them. */
export function buildVmStatusReport(vm: TrackedVm): VMStatusReport {
  return create(VMStatusReportSchema, {
    id: vm.id,
    name: vm.name,
    state: vm.power,
    stateChangeCount: u64(vm.changeCount),
    stateChangedAtUnix: unixSeconds(vm.changedAt),
  });
}

export interface HostInfoInput {
  identity: HostIdentity;
  /** Live figures; the identity's registration-time memory is used when these are missing. */
  figures: HeartbeatFigures;
  /** Configured hostname; wins over the identity's. */
  hostname?: string;
  /** The "ip:port" sent as RegisterNode's management_ip, so the control plane sees one address. */
  managementEndpoint: string;
}

export function buildHostInfo(input: HostInfoInput): HostInfo {
  const { identity, figures } = input;
  const { memoryTotalBytes: total, memoryUsedBytes: used } = figures;
  const available = total !== undefined && used !== undefined ? total - used : identity.memory.availableBytes;
  return create(HostInfoSchema, {
    hostname: input.hostname ?? identity.hostname,
    managementIp: input.managementEndpoint,
    memoryTotalBytes: u64(total ?? identity.memory.totalBytes),
    memoryAvailableBytes: u64(available),
    // Logical CPUs, what vCPUs are scheduled on (RegisterNode's total_threads).
    cpuCores: u32(identity.cpu.totalThreads),
    cpuUsagePercent: finite(figures.cpuUsagePercent, 0, 100),
  });
}

export interface FullStateInput {
  nodeId: string;
  host: HostInfoInput;
  vms: readonly TrackedVm[];
  storagePools: readonly StoragePoolReport[];
}

export function buildSyncFullStateRequest(input: FullStateInput): SyncFullStateRequest {
  return create(SyncFullStateRequestSchema, {
    nodeId: input.nodeId,
    hostInfo: buildHostInfo(input.host),
    vms: input.vms.map(buildVmStatusReport),
    storagePools: input.storagePools.map(buildStoragePoolReport),
    // Over exactly the VMs sent, so the control plane can compare it with later heartbeats.
    stateHash: stateHash(input.vms),
  });
}

const eventTypes: Record<VmChangeEvent["type"], VMChangeEventType> = {
  created: VMChangeEventType.VM_CHANGE_CREATED,
  updated: VMChangeEventType.VM_CHANGE_UPDATED,
  deleted: VMChangeEventType.VM_CHANGE_DELETED,
};

export function buildVmChangeNotification(nodeId: string, event: VmChangeEvent): VMChangeNotification {
  // A deleted VM is reported stopped with no changes, as the control plane expects from the reference.
  const vm = event.type === "deleted" ? { ...event.vm, power: VMPowerState.VM_POWER_STATE_STOPPED, changeCount: 0, changedAt: event.at } : event.vm;
  return create(VMChangeNotificationSchema, {
    nodeId,
    vm: buildVmStatusReport(vm),
    eventType: eventTypes[event.type],
    timestampUnix: unixSeconds(event.at),
    // proto3's 0 (UNKNOWN) for anything but an update, as the reference sends it.
    previousState: event.type === "updated" ? event.previous : VMPowerState.VM_POWER_STATE_UNKNOWN,
  });
}
