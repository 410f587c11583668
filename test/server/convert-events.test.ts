// Node events on the wire: every hypervisor event type maps to one contract EventType (or one of
// ours from 100 up), state changes by what they changed from and to, and a record's fields land
// where the control plane's watcher reads them.

import { describe, expect, test } from "bun:test";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { EventType, PowerState, VMTransition } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { HypervisorEvent, HypervisorEventType, VmState } from "../../src/hypervisor/types.ts";
import { eventToWire, eventTypeOf } from "../../src/server/convert/events.ts";

const event = (type: HypervisorEventType, extra: Partial<HypervisorEvent> = {}): HypervisorEvent => ({ type, message: "m", ...extra });

describe("eventTypeOf: one EventType per hypervisor event type", () => {
  const rows: [Exclude<HypervisorEventType, "vm_state_changed">, EventType][] = [
    ["vm_created", EventType.VM_CREATED],
    ["vm_deleted", EventType.VM_DELETED],
    ["snapshot_created", EventType.SNAPSHOT_CREATED],
    ["snapshot_reverted", EventType.SNAPSHOT_REVERTED],
    ["snapshot_deleted", EventType.SNAPSHOT_DELETED],
    ["disk_attached", EventType.DISK_ATTACHED],
    ["disk_detached", EventType.DISK_DETACHED],
    ["nic_attached", EventType.NIC_ATTACHED],
    ["nic_detached", EventType.NIC_DETACHED],
    ["migration_started", EventType.MIGRATION_STARTED],
    // Reported by the node the VM left.
    ["migration_completed", EventType.VM_MIGRATED_OUT],
    ["migration_failed", EventType.MIGRATION_FAILED],
    ["operation_failed", EventType.OPERATION_FAILED],
    ["media_changed", EventType.MEDIA_CHANGED],
    ["node", EventType.NODE],
  ];

  test.each(rows)("%s -> %d", (type, want) => {
    expect(eventTypeOf(event(type))).toBe(want);
  });

  test("the table covers every type a backend may report", () => {
    const all: HypervisorEventType[] = [...rows.map(([t]) => t), "vm_state_changed"];
    expect(new Set(all).size).toBe(16);
    for (const t of all) expect(EventType[eventTypeOf(event(t, { state: "running" }))]).toBeDefined();
  });
});

describe("eventTypeOf: state changes", () => {
  const change = (previousState: VmState | undefined, state: VmState, details?: Record<string, string>) =>
    eventTypeOf(event("vm_state_changed", { state, ...(previousState ? { previousState } : {}), ...(details ? { details } : {}) }));

  test.each<[string, VmState | undefined, VmState, EventType]>([
    ["started from stopped", "stopped", "running", EventType.VM_STARTED],
    ["started from crashed", "crashed", "running", EventType.VM_STARTED],
    ["started, previous state not known", undefined, "running", EventType.VM_STARTED],
    ["resumed from paused", "paused", "running", EventType.VM_RESUMED],
    ["restored from suspended", "suspended", "running", EventType.VM_RESUMED],
    ["stopped", "running", "stopped", EventType.VM_STOPPED],
    ["stopped after a shutdown", "shutting_down", "stopped", EventType.VM_STOPPED],
    ["paused", "running", "paused", EventType.VM_PAUSED],
    ["crashed", "running", "crashed", EventType.VM_CRASHED],
    ["shutting down", "running", "shutting_down", EventType.VM_STATE_CHANGED],
    ["suspended", "running", "suspended", EventType.VM_STATE_CHANGED],
    ["migrating", "running", "migrating", EventType.VM_STATE_CHANGED],
    ["running again after a guest ignored ACPI", "shutting_down", "running", EventType.VM_STATE_CHANGED],
    ["back to running after a failed migration", "migrating", "running", EventType.VM_STATE_CHANGED],
  ])("%s", (_name, from, to, want) => {
    expect(EventType[change(from, to)]).toBe(EventType[want]);
  });

  test("a reboot (running to running, operation reboot) is VM_REBOOTED", () => {
    expect(change("running", "running", { operation: "reboot" })).toBe(EventType.VM_REBOOTED);
  });
});

describe("eventToWire", () => {
  test("every field of a state change, the sequence also as the decimal id", () => {
    const at = new Date("2026-01-31T10:00:00.123Z");
    const wire = eventToWire({
      id: 42,
      timestamp: at,
      type: "vm_state_changed",
      vmId: "6f1c2a9e-4b7d-4e21-9a3c-5d8e7f6a1b20",
      vmName: "web-1",
      state: "shutting_down",
      previousState: "running",
      message: "ACPI shutdown requested",
      details: { reason: "user" },
    });
    expect(timestampDate(wire.timestamp!)).toEqual(at);
    expect({ ...wire, timestamp: undefined, $typeName: undefined }).toEqual({
      $typeName: undefined,
      id: "42",
      timestamp: undefined,
      type: EventType.VM_STATE_CHANGED,
      vmId: "6f1c2a9e-4b7d-4e21-9a3c-5d8e7f6a1b20",
      message: "ACPI shutdown requested",
      metadata: { reason: "user" },
      sequence: 42n,
      vmName: "web-1",
      state: PowerState.RUNNING,
      previousState: PowerState.RUNNING,
      transition: VMTransition.VM_TRANSITION_SHUTTING_DOWN,
    });
  });

  test("a node event has no VM, no state, empty metadata", () => {
    const wire = eventToWire({ id: 1, timestamp: new Date(0), type: "node", message: "libvirt connection restored" });
    expect(wire).toMatchObject({
      id: "1",
      type: EventType.NODE,
      vmId: "",
      vmName: "",
      metadata: {},
      state: PowerState.UNKNOWN,
      previousState: PowerState.UNKNOWN,
      transition: VMTransition.VM_TRANSITION_NONE,
    });
  });
});
