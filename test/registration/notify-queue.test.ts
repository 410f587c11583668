import { describe, expect, test } from "bun:test";
import { VMPowerState as P } from "../../src/gen/limiquantix/compute/v1/node_service_pb.ts";
import { coalesce, createNotifyQueue } from "../../src/registration/notify-queue.ts";
import type { TrackedVm, VmChangeEvent } from "../../src/registration/vm-tracker.ts";

const at = new Date("2026-01-02T03:04:05Z");
const vm = (id: string, power: P, changeCount = 0): TrackedVm => ({ id, name: id, power, changeCount, changedAt: at });
const created = (id: string, power = P.VM_POWER_STATE_STOPPED): VmChangeEvent => ({ type: "created", vm: vm(id, power), at });
const updated = (id: string, previous: P, power: P, count: number): VmChangeEvent => ({ type: "updated", vm: vm(id, power, count), previous, at });
const deleted = (id: string): VmChangeEvent => ({ type: "deleted", vm: vm(id, P.VM_POWER_STATE_RUNNING), at });

const { VM_POWER_STATE_STOPPED: STOPPED, VM_POWER_STATE_RUNNING: RUNNING, VM_POWER_STATE_PAUSED: PAUSED } = P;

describe("coalesce", () => {
  const cases: { name: string; older: VmChangeEvent; newer: VmChangeEvent; want: VmChangeEvent | undefined }[] = [
    {
      name: "created then updated: still new to the control plane, latest state",
      older: created("a"),
      newer: updated("a", STOPPED, RUNNING, 1),
      want: { type: "created", vm: vm("a", RUNNING, 1), at },
    },
    { name: "created then deleted: nothing to tell", older: created("a"), newer: deleted("a"), want: undefined },
    {
      name: "updated twice: latest state, the first previous state",
      older: updated("a", STOPPED, RUNNING, 1),
      newer: updated("a", RUNNING, PAUSED, 2),
      want: updated("a", STOPPED, PAUSED, 2),
    },
    { name: "updated then deleted: deleted", older: updated("a", STOPPED, RUNNING, 1), newer: deleted("a"), want: deleted("a") },
    { name: "deleted then created again: created", older: deleted("a"), newer: created("a"), want: created("a") },
  ];
  for (const c of cases) test(c.name, () => expect(coalesce(c.older, c.newer)).toEqual(c.want));
});

describe("notify queue", () => {
  test("one event per VM, oldest first", () => {
    const q = createNotifyQueue(8);
    q.push(created("a"));
    q.push(created("b"));
    q.push(updated("a", STOPPED, RUNNING, 1));
    expect(q.size).toBe(2);
    expect(q.shift()).toEqual(created("b"));
    expect(q.shift()).toMatchObject({ type: "created", vm: { id: "a", power: RUNNING } });
    expect(q.shift()).toBeUndefined();
  });

  test("beyond the limit the oldest VM's event is dropped and returned", () => {
    const q = createNotifyQueue(2);
    expect(q.push(created("a"))).toBeUndefined();
    expect(q.push(created("b"))).toBeUndefined();
    expect(q.push(created("c"))).toEqual(created("a"));
    expect(q.size).toBe(2);
  });

  test("a failed event goes back to the front, merged with what came for its VM meanwhile", () => {
    const q = createNotifyQueue(8);
    q.push(updated("a", STOPPED, RUNNING, 1));
    const inFlight = q.shift()!;
    q.push(created("b"));
    q.push(updated("a", RUNNING, PAUSED, 2));
    expect(q.putBack(inFlight)).toBeUndefined();
    expect(q.shift()).toEqual(updated("a", STOPPED, PAUSED, 2));
    expect(q.shift()).toEqual(created("b"));
  });

  test("a failed event is the one dropped when the queue filled up meanwhile", () => {
    const q = createNotifyQueue(1);
    q.push(created("a"));
    const inFlight = q.shift()!;
    q.push(created("b"));
    expect(q.putBack(inFlight)).toEqual(created("a"));
    expect(q.size).toBe(1);
  });
});
