// Node events on the wire: the contract's EventType is coarser in places (a VM state change is
// STARTED, STOPPED, PAUSED, ...) and finer in others; this table is the one mapping.

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { EventType, type NodeEvent, NodeEventSchema, PowerState } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { NodeEventRecord } from "../../events/event-bus.ts";
import type { HypervisorEvent, HypervisorEventType, VmState } from "../../hypervisor/types.ts";
import { powerState, transitionOf } from "./enums.ts";

const byType: Record<Exclude<HypervisorEventType, "vm_state_changed">, EventType> = {
  vm_created: EventType.VM_CREATED,
  vm_deleted: EventType.VM_DELETED,
  snapshot_created: EventType.SNAPSHOT_CREATED,
  snapshot_reverted: EventType.SNAPSHOT_REVERTED,
  snapshot_deleted: EventType.SNAPSHOT_DELETED,
  disk_attached: EventType.DISK_ATTACHED,
  disk_detached: EventType.DISK_DETACHED,
  nic_attached: EventType.NIC_ATTACHED,
  nic_detached: EventType.NIC_DETACHED,
  migration_started: EventType.MIGRATION_STARTED,
  // Reported by the node the VM left.
  migration_completed: EventType.VM_MIGRATED_OUT,
  migration_failed: EventType.MIGRATION_FAILED,
  operation_failed: EventType.OPERATION_FAILED,
  media_changed: EventType.MEDIA_CHANGED,
  agent_connected: EventType.AGENT_CONNECTED,
  agent_disconnected: EventType.AGENT_DISCONNECTED,
  node: EventType.NODE,
};

const WAS_HALTED: ReadonlySet<VmState | undefined> = new Set([undefined, "stopped", "crashed"]);

function stateChangeType(e: HypervisorEvent): EventType {
  if (e.details?.operation === "reboot") return EventType.VM_REBOOTED;
  // Reported by the node the VM came to (the node it left reports VM_MIGRATED_OUT).
  if (e.details?.operation === "migrate_in") return EventType.VM_MIGRATED_IN;
  switch (e.state) {
    case "running":
      if (e.previousState === "paused" || e.previousState === "suspended") return EventType.VM_RESUMED;
      return WAS_HALTED.has(e.previousState) ? EventType.VM_STARTED : EventType.VM_STATE_CHANGED;
    case "stopped":
      return EventType.VM_STOPPED;
    case "paused":
      return EventType.VM_PAUSED;
    case "crashed":
      return EventType.VM_CRASHED;
    default:
      return EventType.VM_STATE_CHANGED;
  }
}

export function eventTypeOf(e: HypervisorEvent): EventType {
  return e.type === "vm_state_changed" ? stateChangeType(e) : byType[e.type];
}

export function eventToWire(e: NodeEventRecord): NodeEvent {
  return create(NodeEventSchema, {
    id: String(e.id),
    timestamp: timestampFromDate(e.timestamp),
    type: eventTypeOf(e),
    vmId: e.vmId ?? "",
    message: e.message,
    metadata: { ...e.details },
    sequence: BigInt(e.id),
    vmName: e.vmName ?? "",
    state: e.state ? powerState.toWire(e.state) : PowerState.UNKNOWN,
    previousState: e.previousState ? powerState.toWire(e.previousState) : PowerState.UNKNOWN,
    transition: e.state ? transitionOf(e.state) : 0,
  });
}
