// The enum tables between the wire (the contract's numbers, zero values meaning something) and
// the hypervisor model, both ways, including the compute API numbers the control plane casts.

import { describe, expect, test } from "bun:test";
import { DiskBus, EventType, MigrationPhase, NicModel, PowerState, VMTransition } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { VmState } from "../../src/hypervisor/types.ts";
import {
  bootDevice,
  cpuMode,
  diskBus,
  diskFormat,
  firmware,
  knownEventType,
  migrationPhase,
  nicModel,
  powerState,
  stateOf,
  transitionOf,
} from "../../src/server/convert/enums.ts";

describe("device enums", () => {
  test.each([
    [DiskBus.VIRTIO, "virtio"],
    [DiskBus.SCSI, "scsi"],
    [DiskBus.SATA, "sata"],
    [DiskBus.IDE, "ide"],
    [4, "ide"], // the compute API's IDE, cast unchanged by the control plane
    [5, undefined],
    [-1, undefined],
  ] as const)("disk bus %d -> %s", (wire, model) => {
    expect(diskBus.fromWire(wire as DiskBus)).toBe(model);
  });

  test.each([
    [NicModel.VIRTIO, "virtio"],
    [NicModel.E1000, "e1000"],
    [NicModel.RTL8139, "rtl8139"],
    [3, "virtio"], // the compute API's VMXNET3: a paravirtual NIC was asked for
    [4, undefined],
  ] as const)("NIC model %d -> %s", (wire, model) => {
    expect(nicModel.fromWire(wire as NicModel)).toBe(model);
  });

  test("every model value goes to the wire and back unchanged (zero values included)", () => {
    for (const t of [diskBus, nicModel, diskFormat, firmware, cpuMode, bootDevice, migrationPhase] as const) {
      const tbl = t as { names: string[]; toWire(d: string): number; fromWire(p: number): string | undefined };
      for (const name of tbl.names) expect(tbl.fromWire(tbl.toWire(name))).toBe(name);
    }
    // The contract's zero values are real choices, not "unset".
    expect([diskBus.toWire("virtio"), diskFormat.toWire("qcow2"), firmware.toWire("bios"), bootDevice.toWire("disk"), cpuMode.toWire("auto")]).toEqual([
      0, 0, 0, 0, 0,
    ]);
  });

  test("migration phases: ours on the contract's, cancelled beyond it", () => {
    expect(["starting", "transferring", "completed", "failed", "cancelled"].map((p) => migrationPhase.toWire(p as never))).toEqual([
      MigrationPhase.PREPARING,
      MigrationPhase.TRANSFERRING,
      MigrationPhase.COMPLETE,
      MigrationPhase.FAILED,
      MigrationPhase.CANCELLED,
    ]);
  });
});

describe("power state and transition", () => {
  // [model state, power state, transition]: the control plane takes anything but the five
  // named states as stopped, so a shutting-down or migrating VM is RUNNING with a transition.
  const rows: [VmState, PowerState, VMTransition][] = [
    ["stopped", PowerState.STOPPED, VMTransition.VM_TRANSITION_NONE],
    ["running", PowerState.RUNNING, VMTransition.VM_TRANSITION_NONE],
    ["paused", PowerState.PAUSED, VMTransition.VM_TRANSITION_NONE],
    ["suspended", PowerState.SUSPENDED, VMTransition.VM_TRANSITION_NONE],
    ["crashed", PowerState.CRASHED, VMTransition.VM_TRANSITION_NONE],
    ["shutting_down", PowerState.RUNNING, VMTransition.VM_TRANSITION_SHUTTING_DOWN],
    ["migrating", PowerState.RUNNING, VMTransition.VM_TRANSITION_MIGRATING],
  ];

  test.each(rows)("%s -> power %d, transition %d, and back", (state, power, transition) => {
    expect(powerState.toWire(state)).toBe(power);
    expect(transitionOf(state)).toBe(transition);
    expect(stateOf(power, transition)).toBe(state);
  });

  test("a power-state filter matches every model state shown as it; UNKNOWN matches none", () => {
    expect(powerState.statesOf(PowerState.RUNNING).sort()).toEqual(["migrating", "running", "shutting_down"]);
    expect(powerState.statesOf(PowerState.STOPPED)).toEqual(["stopped"]);
    expect(powerState.statesOf(PowerState.UNKNOWN)).toEqual([]);
  });

  test.each([
    [PowerState.RUNNING, true],
    [PowerState.CRASHED, true],
    [PowerState.UNKNOWN, false],
    [6, false],
    [42, false],
  ])("power state %d is a known filter value: %s", (p, known) => {
    expect(powerState.known(p)).toBe(known);
  });

  test("stateOf with no model state for the pair is undefined", () => {
    expect(stateOf(PowerState.UNKNOWN, VMTransition.VM_TRANSITION_NONE)).toBeUndefined();
  });
});

describe("event types a filter may name", () => {
  test.each([
    [EventType.VM_STARTED, true],
    [EventType.NODE_RECOVERED, true],
    [EventType.VM_CREATED, true],
    [EventType.MEDIA_CHANGED, true],
    [EventType.UNKNOWN, false],
    [18, false],
    [99, false],
    [Math.max(...Object.values(EventType).filter((v): v is number => typeof v === "number")) + 1, false],
  ])("%d -> %s", (t, known) => {
    expect(knownEventType(t)).toBe(known);
  });
});
