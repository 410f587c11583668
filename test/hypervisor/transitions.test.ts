// Every (power operation, state) pair of hypervisor/transitions.ts, driven through both
// lifecycles: the mock's (a VM put into each state) and libvirt's (a call pool that reports each
// libvirt state and records the calls made). Both must act, answer "already there" or refuse
// exactly as the one table says, with the table's words.

import { describe, expect, test } from "bun:test";
import { withDefaults } from "../../src/hypervisor/defaults.ts";
import type { CallPool } from "../../src/hypervisor/libvirt/call-pool.ts";
import { createContextBase } from "../../src/hypervisor/libvirt/context.ts";
import { buildDomainXml } from "../../src/hypervisor/libvirt/domain-xml/index.ts";
import * as libvirtLifecycle from "../../src/hypervisor/libvirt/lifecycle.ts";
import { LIBVIRT_STATE } from "../../src/hypervisor/libvirt/state-map.ts";
import { createPortAllocator } from "../../src/hypervisor/mock/console-ports.ts";
import { DEFAULT_OPTIONS, type MockContext, setState } from "../../src/hypervisor/mock/context.ts";
import { createServedConsolePorts } from "../../src/hypervisor/mock/served-console-ports.ts";
import { createEmitter } from "../../src/hypervisor/mock/emitter.ts";
import * as mockLifecycle from "../../src/hypervisor/mock/lifecycle.ts";
import { createMockStorage } from "../../src/hypervisor/mock/storage.ts";
import { createTimers } from "../../src/hypervisor/mock/timers.ts";
import { checkDelete, type PowerOp, TRANSITIONS, transitionOf } from "../../src/hypervisor/transitions.ts";
import type { VmState, VmStatus } from "../../src/hypervisor/types.ts";
import { createVmLocks } from "../../src/hypervisor/vm-lock.ts";
import { eventually, expectKind } from "./contract-helpers.ts";

const OPS = Object.keys(TRANSITIONS) as PowerOp[];
const STATES: VmState[] = ["stopped", "running", "paused", "shutting_down", "crashed", "suspended", "migrating"];
const PAIRS = OPS.flatMap((op) => STATES.map((state) => [op, state] as const));

/** Where an operation that acts leaves the VM. */
const LANDS_IN: Record<PowerOp, VmState> = { start: "running", stop: "stopped", force_stop: "stopped", reboot: "running", pause: "paused", resume: "running" };

const refusal = (id: string, op: PowerOp, state: VmState) => {
  const v = transitionOf(op, state);
  return v.kind === "act" ? "" : `vm ${id} is ${state.replace("_", " ")}; ${v.hint}`;
};

const DELETES = STATES.flatMap((state) => [false, true].map((force) => [state, force] as const));

/** What checkDelete decides, as text: "deleted", "force stop, then deleted", or its refusal. */
function deleteOutcome(id: string, state: VmState, force: boolean): string {
  try {
    return checkDelete(id, state, force).forceStopFirst ? "force stop, then deleted" : "deleted";
  } catch (err) {
    return (err as Error).message;
  }
}

test("the table covers every operation and state", () => {
  for (const op of OPS) expect(Object.keys(TRANSITIONS[op]).sort()).toEqual([...STATES].sort());
  // Decisions an operator relies on, spelled out.
  expect(transitionOf("force_stop", "migrating").kind).toBe("act");
  expect(transitionOf("force_stop", "crashed").kind).toBe("act");
  expect(transitionOf("force_stop", "paused").kind).toBe("act");
  expect(transitionOf("start", "paused").kind).toBe("refuse");
  expect(transitionOf("start", "suspended").kind).toBe("act");
  expect(transitionOf("start", "running").kind).toBe("already");
});

describe("mock lifecycle follows the table", () => {
  function mockContext(): MockContext {
    return {
      vms: new Map(),
      names: new Map(),
      locks: createVmLocks(),
      timers: createTimers(),
      // Port numbers only: no console server listens (this test never connects to one).
      ports: createServedConsolePorts(createPortAllocator(25900), { serve: false }),
      events: createEmitter(),
      now: Date.now,
      random: Math.random,
      opts: { ...DEFAULT_OPTIONS, acpiShutdownMs: 1, bootMs: 0 },
      storage: createMockStorage("/tmp/lq14b-transitions"),
      closed: false,
    };
  }

  const call = (ctx: MockContext, op: PowerOp, id: string): Promise<VmStatus> => {
    switch (op) {
      case "start":
        return mockLifecycle.startVm(ctx, id);
      case "stop":
        return mockLifecycle.stopVm(ctx, id, 5000);
      case "force_stop":
        return mockLifecycle.forceStopVm(ctx, id);
      case "reboot":
        return mockLifecycle.rebootVm(ctx, id);
      case "pause":
        return mockLifecycle.pauseVm(ctx, id);
      case "resume":
        return mockLifecycle.resumeVm(ctx, id);
    }
  };

  async function vmIn(state: VmState, name: string) {
    const ctx = mockContext();
    const id = crypto.randomUUID();
    await mockLifecycle.createVm(ctx, id, withDefaults({ name, memoryMib: 128 }));
    const vm = ctx.vms.get(id)!;
    // Through the one place a mock VM changes state: a process exists in every state but stopped.
    if (state !== "stopped") setState(ctx, vm, "running", "test set-up");
    if (state !== "running" && state !== "stopped") setState(ctx, vm, state, "test set-up");
    return { ctx, id, vm };
  }

  test.each(DELETES)("delete from %s, force %p", async (state, force) => {
    const { ctx, id, vm } = await vmIn(state, `lq14b-delete-${state}`);
    const outcome = deleteOutcome(id, state, force);
    const answer = mockLifecycle.deleteVm(ctx, id, { deleteDisks: false, force });
    if (outcome.startsWith("vm ")) {
      expect((await expectKind(answer, "invalid_state")).message).toBe(outcome);
      expect(vm.state).toBe(state);
    } else {
      await answer;
      expect(ctx.vms.has(id)).toBe(false);
    }
  });

  test.each(PAIRS)("%s from %s", async (op, state) => {
    const { ctx, id, vm } = await vmIn(state, `lq14b-${op}-${state}`);
    const verdict = transitionOf(op, state);
    if (verdict.kind === "act") {
      const answer = call(ctx, op, id);
      if (op === "stop" && state === "shutting_down") {
        // The second stop request joins the shutdown under way: the guest finishes it once the request waits.
        await eventually(() => (vm.watchers.size > 0 ? true : undefined), "the second stop request to wait");
        await ctx.locks.run(id, () => setState(ctx, vm, "stopped", "shut down by the guest"));
      }
      expect((await answer).state).toBe(LANDS_IN[op]);
    } else {
      const err = await expectKind(call(ctx, op, id), "invalid_state");
      expect(err.message).toBe(refusal(id, op, state));
      expect(vm.state).toBe(state);
    }
  });
});

describe("libvirt lifecycle follows the table", () => {
  /** libvirt's (state, reason) for each VmState (state-map.ts). */
  const LIBVIRT: Record<VmState, [number, number]> = {
    stopped: [LIBVIRT_STATE.SHUTOFF, 1],
    running: [LIBVIRT_STATE.RUNNING, 1],
    paused: [LIBVIRT_STATE.PAUSED, 1],
    shutting_down: [LIBVIRT_STATE.SHUTDOWN, 1],
    crashed: [LIBVIRT_STATE.CRASHED, 0],
    suspended: [LIBVIRT_STATE.PMSUSPENDED, 0],
    migrating: [LIBVIRT_STATE.PAUSED, 2],
  };
  /** The libvirt calls each acting (op, from) pair must make, in order. */
  const CALLS: Record<PowerOp, (from: VmState) => string[]> = {
    start: (from) => (from === "suspended" ? ["wake"] : from === "crashed" ? ["destroy", "start"] : ["start"]),
    stop: () => ["shutdown"],
    force_stop: () => ["destroy"],
    reboot: () => ["reboot"],
    pause: () => ["suspend"],
    resume: () => ["resume"],
  };
  const AFTER: Record<string, VmState> = { start: "running", wake: "running", destroy: "stopped", shutdown: "stopped", suspend: "paused", resume: "running" };

  function libvirtContext(id: string, initial: VmState) {
    let current = initial;
    const acted: string[] = [];
    const spec = withDefaults({ name: "lq14b-transitions", memoryMib: 128 });
    const xml = buildDomainXml({ id, spec, domainType: "qemu", consoleListen: "127.0.0.1", createdAt: new Date() });
    const pool = {
      call: async (op: string) => {
        const [state, reason] = LIBVIRT[current];
        if (op === "state") return { state, reason };
        if (op === "domain") return { uuid: id, name: spec.name, xml, state, reason, snapshotCount: 0 };
        acted.push(op);
        current = AFTER[op] ?? current;
      },
    } as unknown as CallPool;
    const settings = {
      uri: "test:///x",
      storagePath: "/tmp",
      consoleListen: "127.0.0.1",
      poolName: "p",
      cloudImagesDir: "/tmp",
      isoImagesDir: "/tmp",
      stopPollMs: 1,
      detachWaitMs: 1,
      migrationPollMs: 1,
      cpuDisabledFeatures: [],
    };
    const log = { info() {}, warn() {}, debug() {}, error() {} };
    const ctx = createContextBase(pool, createVmLocks(), settings, { driverType: "QEMU", domainType: "qemu", hostname: "h" }, log);
    return { ctx, acted };
  }

  const call = (ctx: ReturnType<typeof libvirtContext>["ctx"], op: PowerOp, id: string): Promise<VmStatus> => {
    switch (op) {
      case "start":
        return libvirtLifecycle.startVm(ctx, id);
      case "stop":
        return libvirtLifecycle.stopVm(ctx, id, 5000);
      case "force_stop":
        return libvirtLifecycle.forceStopVm(ctx, id);
      case "reboot":
        return libvirtLifecycle.rebootVm(ctx, id);
      case "pause":
        return libvirtLifecycle.pauseVm(ctx, id);
      case "resume":
        return libvirtLifecycle.resumeVm(ctx, id);
    }
  };

  test.each(DELETES)("delete from %s, force %p", async (state, force) => {
    const id = crypto.randomUUID();
    const { ctx, acted } = libvirtContext(id, state);
    const outcome = deleteOutcome(id, state, force);
    const answer = libvirtLifecycle.deleteVm(ctx, id, { deleteDisks: false, force });
    if (outcome.startsWith("vm ")) {
      expect((await expectKind(answer, "invalid_state")).message).toBe(outcome);
      expect(acted).toEqual([]);
    } else {
      await answer;
      expect(acted).toEqual(outcome === "deleted" ? ["undefine"] : ["destroy", "undefine"]);
    }
  });

  test.each(PAIRS)("%s from %s", async (op, state) => {
    const id = crypto.randomUUID();
    const { ctx, acted } = libvirtContext(id, state);
    if (transitionOf(op, state).kind === "act") {
      expect((await call(ctx, op, id)).state).toBe(LANDS_IN[op]);
      expect(acted).toEqual(CALLS[op](state));
    } else {
      const err = await expectKind(call(ctx, op, id), "invalid_state");
      expect(err.message).toBe(refusal(id, op, state));
      expect(acted).toEqual([]);
    }
  });
});

describe("delete follows the table on both backends", () => {
  test("the rule: stopped goes, a process needs force, a migration is never cut short", () => {
    const id = "x";
    expect(deleteOutcome(id, "stopped", false)).toBe("deleted");
    expect(deleteOutcome(id, "crashed", true)).toBe("force stop, then deleted");
    expect(deleteOutcome(id, "suspended", false)).toContain("delete it with force");
    expect(deleteOutcome(id, "migrating", true)).toContain("wait for the migration");
  });
});
