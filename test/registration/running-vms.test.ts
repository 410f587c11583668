// The heartbeat's running count: one listing, then the backend's events; no libvirt call (and no
// VM statistics call) per heartbeat.

import { expect, test } from "bun:test";
import type { HypervisorEvent, HypervisorEventListener, ListFilter, VmStatus } from "../../src/hypervisor/types.ts";
import { applyRunningEvent, trackRunningVms } from "../../src/registration/running-vms.ts";

const ev = (e: Partial<HypervisorEvent> & Pick<HypervisorEvent, "type">): HypervisorEvent => ({ message: "", ...e });

test("applyRunningEvent: running adds, any other state or a delete removes, the rest changes nothing", () => {
  const s = new Set<string>(["a"]);
  applyRunningEvent(s, ev({ type: "vm_state_changed", vmId: "b", state: "running" }));
  applyRunningEvent(s, ev({ type: "vm_state_changed", vmId: "a", state: "paused" }));
  expect([...s]).toEqual(["b"]);
  applyRunningEvent(s, ev({ type: "vm_created", vmId: "c", state: "stopped" }));
  applyRunningEvent(s, ev({ type: "agent_connected", vmId: "d" }));
  applyRunningEvent(s, ev({ type: "vm_state_changed", vmId: "e" }));
  expect([...s]).toEqual(["b"]);
  applyRunningEvent(s, ev({ type: "vm_deleted", vmId: "b" }));
  expect(s.size).toBe(0);
});

test("trackRunningVms lists once, then counts from events", async () => {
  const listeners: HypervisorEventListener[] = [];
  const filters: (ListFilter | undefined)[] = [];
  const tracker = trackRunningVms({
    onEvent: (l) => {
      listeners.push(l);
      return () => listeners.splice(listeners.indexOf(l), 1);
    },
    listVms: async (filter) => {
      filters.push(filter);
      return [{ id: "a" }, { id: "b" }] as VmStatus[];
    },
  });
  const emit = (e: HypervisorEvent) => {
    for (const l of [...listeners]) l(e);
  };
  // An event before the first listing completes is applied on top of it.
  const first = tracker.count();
  emit(ev({ type: "vm_state_changed", vmId: "c", state: "running" }));
  expect(await first).toBe(3);
  emit(ev({ type: "vm_state_changed", vmId: "a", state: "stopped" }));
  expect(await tracker.count()).toBe(2);
  expect(await tracker.count()).toBe(2);
  expect(filters).toEqual([{ states: ["running"] }]);
  tracker.close();
  expect(listeners.length).toBe(0);
});

test("a failed first listing is retried on the next count", async () => {
  let calls = 0;
  const tracker = trackRunningVms({
    onEvent: () => () => undefined,
    listVms: async () => {
      if (++calls === 1) throw new Error("libvirt is unreachable");
      return [{ id: "a" }] as VmStatus[];
    },
  });
  await expect(tracker.count()).rejects.toThrow("unreachable");
  expect(await tracker.count()).toBe(1);
  expect(calls).toBe(2);
});
