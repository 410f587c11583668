import { describe, expect, test } from "bun:test";
import { VMPowerState as P } from "../../src/gen/limiquantix/compute/v1/node_service_pb.ts";
import { stateHash } from "../../src/registration/state-hash.ts";
import type { NodeVm } from "../../src/registration/types.ts";
import { createVmTracker } from "../../src/registration/vm-tracker.ts";

const t0 = new Date("2026-01-02T03:04:05Z");
const t1 = new Date("2026-01-02T03:04:06Z");
const web: NodeVm = { id: "a-web", name: "web", state: "running" };
const db: NodeVm = { id: "b-db", name: "db", state: "stopped" };

function seeded(vms: NodeVm[] = [web, db]) {
  const tracker = createVmTracker();
  tracker.beginResync();
  tracker.endResync(vms, t0);
  return tracker;
}

describe("VM tracker", () => {
  test("reports nothing before its first listing: it knows nothing to compare with", () => {
    const tracker = createVmTracker();
    expect(tracker.apply({ kind: "present", id: "x", name: "x", state: "running" }, t1)).toBeUndefined();
    expect(tracker.vms()).toEqual([]);
    expect(tracker.hash()).toBe("e3b0c44298fc1c14");
  });

  test("a listing resets counts and gives the sorted snapshot", () => {
    const tracker = seeded([db, web]);
    tracker.apply({ kind: "present", id: web.id, name: "web", state: "paused" }, t1);
    const { snapshot, events } = (tracker.beginResync(), tracker.endResync([web, db], t1));
    expect(events).toEqual([]);
    expect(snapshot).toEqual([
      { id: "a-web", name: "web", power: P.VM_POWER_STATE_RUNNING, changeCount: 0, changedAt: t1 },
      { id: "b-db", name: "db", power: P.VM_POWER_STATE_STOPPED, changeCount: 0, changedAt: t1 },
    ]);
  });

  test("appear, change state (counted, previous state kept), disappear", () => {
    const tracker = seeded();
    const created = tracker.apply({ kind: "present", id: "c-new", name: "new", state: "stopped" }, t1);
    expect(created).toEqual({
      type: "created",
      vm: { id: "c-new", name: "new", power: P.VM_POWER_STATE_STOPPED, changeCount: 0, changedAt: t1 },
      at: t1,
    });
    const started = tracker.apply({ kind: "present", id: "c-new", name: "new", state: "running" }, t1);
    expect(started).toMatchObject({ type: "updated", previous: P.VM_POWER_STATE_STOPPED, vm: { power: P.VM_POWER_STATE_RUNNING, changeCount: 1 } });
    const paused = tracker.apply({ kind: "present", id: "c-new", name: "new", state: "paused" }, t1);
    expect(paused).toMatchObject({ type: "updated", previous: P.VM_POWER_STATE_RUNNING, vm: { changeCount: 2 } });
    const gone = tracker.apply({ kind: "gone", id: "c-new" }, t1);
    expect(gone).toMatchObject({ type: "deleted", vm: { id: "c-new", name: "new", power: P.VM_POWER_STATE_PAUSED, changeCount: 2 } });
    expect(tracker.vms().map((v) => v.id)).toEqual(["a-web", "b-db"]);
  });

  test("no event when the power state stays (running to shutting_down), for unknown deletions, or a repeat", () => {
    const tracker = seeded();
    expect(tracker.apply({ kind: "present", id: web.id, name: "web", state: "shutting_down" }, t1)).toBeUndefined();
    expect(tracker.apply({ kind: "present", id: web.id, name: "web", state: "migrating" }, t1)).toBeUndefined();
    expect(tracker.apply({ kind: "present", id: db.id, name: "db", state: "stopped" }, t1)).toBeUndefined();
    expect(tracker.apply({ kind: "gone", id: "never-there" }, t1)).toBeUndefined();
    expect(tracker.vms().every((v) => v.changeCount === 0)).toBe(true);
  });

  test("an event without a name keeps the known one", () => {
    const tracker = seeded();
    expect(tracker.apply({ kind: "present", id: web.id, name: "", state: "crashed" }, t1)).toMatchObject({ vm: { name: "web" } });
  });

  test("the hash follows the picture, counts included", () => {
    const tracker = seeded();
    tracker.apply({ kind: "present", id: db.id, name: "db", state: "running" }, t1);
    expect(tracker.hash()).toBe(
      stateHash([
        { id: "a-web", power: P.VM_POWER_STATE_RUNNING, changeCount: 0 },
        { id: "b-db", power: P.VM_POWER_STATE_RUNNING, changeCount: 1 },
      ]),
    );
  });

  test("changes during a listing are replayed on it: reported only if the listing missed them", () => {
    const tracker = seeded();
    tracker.beginResync();
    // The listing below was taken before db started, and after web was paused.
    expect(tracker.apply({ kind: "present", id: db.id, name: "db", state: "running" }, t1)).toBeUndefined();
    expect(tracker.apply({ kind: "present", id: web.id, name: "web", state: "paused" }, t1)).toBeUndefined();
    const { snapshot, events } = tracker.endResync([{ ...web, state: "paused" }, db], t1);
    expect(snapshot?.map((v) => v.power)).toEqual([P.VM_POWER_STATE_PAUSED, P.VM_POWER_STATE_STOPPED]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "updated", previous: P.VM_POWER_STATE_STOPPED, vm: { id: "b-db", changeCount: 1 } });
  });

  test("a failed listing keeps the old picture and replays on it", () => {
    const tracker = seeded();
    tracker.beginResync();
    tracker.apply({ kind: "gone", id: db.id }, t1);
    const result = tracker.endResync(undefined, t1);
    expect(result.snapshot).toBeUndefined();
    expect(result.events.map((e) => e.type)).toEqual(["deleted"]);
    expect(tracker.vms().map((v) => v.id)).toEqual(["a-web"]);
  });
});
