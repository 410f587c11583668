// Operations on one VM are serialized, operations on different VMs run in parallel, and
// CreateVM is idempotent under concurrency: observed through real gRPC calls on a real daemon,
// by what the calls answer and what the event stream says, never by how long they took.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { EventType, type NodeEvent, PowerState } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { createMockHypervisor } from "../../src/hypervisor/mock/index.ts";
import type { Hypervisor } from "../../src/hypervisor/types.ts";
import { codeOf, newVmId, smallVm, startHarness, waitFor, type Harness } from "./harness.ts";

const BOOT_MS = 50;
let h: Harness;

/**
 * A gate in front of the backend's startVm: while armed for n calls, each call waits until n
 * calls have arrived. Calls that reach the backend one after another would never fill it.
 */
const gate = { want: 0, arrived: 0, open: () => {} };

function gatedBackend(hv: Hypervisor): Hypervisor {
  return {
    ...hv,
    async startVm(id) {
      if (gate.want > 0) {
        gate.arrived++;
        if (gate.arrived === gate.want) gate.open();
        else await new Promise<void>((resolve) => (gate.open = chain(gate.open, resolve)));
      }
      return hv.startVm(id);
    },
  };
}
const chain = (a: () => void, b: () => void) => () => (a(), b());

beforeAll(async () => {
  h = await startHarness({
    backend: (c) =>
      gatedBackend(
        createMockHypervisor({ bootMs: BOOT_MS, acpiShutdownMs: 5, storagePath: c.hypervisor.storagePath, consoleListen: c.hypervisor.consoleListen }),
      ),
  });
});
afterAll(() => h.stop());

/** Follows StreamEvents from now on (the subscription is live when this resolves). */
async function watch(): Promise<{ events: NodeEvent[]; stop(): void }> {
  const before = h.daemon.events.subscriberCount();
  const ac = new AbortController();
  const events: NodeEvent[] = [];
  void (async () => {
    try {
      for await (const e of h.grpc.streamEvents({}, { signal: ac.signal })) events.push(e);
    } catch {}
  })();
  await waitFor("the event subscription", () => h.daemon.events.subscriberCount() > before);
  return { events, stop: () => ac.abort() };
}

/** Waits until the bus has delivered everything published so far to this watcher. */
async function caughtUp(w: { events: NodeEvent[] }): Promise<void> {
  const last = BigInt(h.daemon.events.lastId());
  await waitFor("the events so far", () => w.events.some((e) => e.sequence === last));
}

async function createVms(n: number, prefix: string): Promise<string[]> {
  const ids = Array.from({ length: n }, () => newVmId());
  await Promise.all(ids.map((vmId, i) => h.grpc.createVM({ vmId, ...smallVm(`${prefix}-${i}`) })));
  return ids;
}

/** Codes of concurrent calls in a stable order (undefined = success). */
const sortCodes = (codes: (Code | undefined)[]) => [...codes].map((c) => c ?? -1).sort((a, b) => a - b);

describe("per-VM serialization", () => {
  test("two racing StartVM calls both succeed (idempotent) and the VM starts once", async () => {
    const w = await watch();
    const ids = await createVms(10, "race");
    const answers = await Promise.all(ids.map((vmId) => Promise.all([h.grpc.startVM({ vmId }), h.grpc.startVM({ vmId })])));
    await caughtUp(w);
    w.stop();
    const ports = new Set<number>();
    for (const [i, vmId] of ids.entries()) {
      // The loser waited for the winner and saw its finished start: same state, same start time.
      const [a, b] = answers[i]!;
      expect([a.vm!.state, b.vm!.state]).toEqual([PowerState.RUNNING, PowerState.RUNNING]);
      expect(a.vm!.startedAt).toEqual(b.vm!.startedAt);
      const started = w.events.filter((e) => e.vmId === vmId && e.type === EventType.VM_STARTED);
      expect(started.map((e) => [e.previousState, e.state])).toEqual([[PowerState.STOPPED, PowerState.RUNNING]]);
      ports.add((await h.grpc.getConsole({ vmId })).port);
    }
    expect(ports.size).toBe(ids.length);
    await Promise.all(ids.map((vmId) => h.grpc.deleteVM({ vmId, force: true })));
  });

  test("start racing force stop and delete never leaves a half state", async () => {
    const ids = await createVms(6, "mixed");
    await Promise.all(
      ids.map((vmId) =>
        Promise.all([
          codeOf(h.grpc.startVM({ vmId })),
          codeOf(h.grpc.forceStopVM({ vmId })),
          codeOf(h.grpc.deleteVM({ vmId })),
          codeOf(h.grpc.startVM({ vmId })),
        ]),
      ),
    );
    for (const vmId of ids) {
      const code = await codeOf(h.grpc.getVMStatus({ vmId }));
      if (code === Code.NotFound) continue;
      const status = await h.grpc.getVMStatus({ vmId });
      expect([PowerState.RUNNING, PowerState.STOPPED]).toContain(status.state);
      expect(status.startedAt !== undefined).toBe(status.state === PowerState.RUNNING);
    }
    await Promise.all(ids.map((vmId) => codeOf(h.grpc.deleteVM({ vmId, force: true }))));
  });

  test("StartVM racing PauseVM: the pause applies to the started VM, never half-way", async () => {
    const [vmId] = await createVms(1, "pause-race");
    const [start, pause] = await Promise.all([codeOf(h.grpc.startVM({ vmId: vmId! })), codeOf(h.grpc.pauseVM({ vmId: vmId! }))]);
    expect(start).toBeUndefined();
    const state = (await h.grpc.getVMStatus({ vmId: vmId! })).state;
    // Either the pause came first (refused: not running) or after the boot (paused).
    expect({ pause, state }).toEqual(pause === undefined ? { pause, state: PowerState.PAUSED } : { pause: Code.FailedPrecondition, state: PowerState.RUNNING });
    await h.grpc.deleteVM({ vmId: vmId!, force: true });
  });

  test("N StartVM calls on N VMs are in the backend at the same time (parallel, not one by one)", async () => {
    const n = 8;
    const ids = await createVms(n, "parallel");
    gate.want = n;
    gate.arrived = 0;
    gate.open = () => {};
    const calls = Promise.all(ids.map((vmId) => h.grpc.startVM({ vmId })));
    try {
      await waitFor(`${n} StartVM calls waiting in the backend together`, () => gate.arrived === n, 3000);
      expect((await calls).map((a) => a.vm!.state)).toEqual(Array(n).fill(PowerState.RUNNING));
    } finally {
      gate.want = 0;
      gate.open();
      await calls.catch(() => {});
    }
    await Promise.all(ids.map((vmId) => h.grpc.deleteVM({ vmId, force: true })));
  });
});

describe("CreateVM under concurrency", () => {
  test("identical concurrent requests create once; the others answer created=false", async () => {
    const w = await watch();
    const vmId = newVmId();
    const request = { vmId, ...smallVm("twin", {}, { a: "1" }) };
    const answers = await Promise.all(Array.from({ length: 10 }, () => h.grpc.createVM(request)));
    await caughtUp(w);
    w.stop();
    expect(answers.filter((a) => a.created).length).toBe(1);
    expect(new Set(answers.map((a) => a.vm!.vmId))).toEqual(new Set([vmId]));
    expect(w.events.filter((e) => e.vmId === vmId && e.type === EventType.VM_CREATED).length).toBe(1);
  });

  test("the same id with another spec is ALREADY_EXISTS, even when racing the first create", async () => {
    const vmId = newVmId();
    const codes = await Promise.all([
      codeOf(h.grpc.createVM({ vmId, ...smallVm("one") })),
      codeOf(h.grpc.createVM({ vmId, ...smallVm("one", { memoryMib: 512n }) })),
    ]);
    expect(sortCodes(codes)).toEqual(sortCodes([Code.AlreadyExists, undefined]));
    const changed = await h.grpc.createVM({ vmId, ...smallVm("one", { description: "changed" }) }).catch((e) => e);
    expect(changed.code).toBe(Code.AlreadyExists);
    expect(changed.rawMessage).toContain("already exists");
  });

  test("two ids racing for one name: one wins, the other is ALREADY_EXISTS", async () => {
    const codes = await Promise.all([
      codeOf(h.grpc.createVM({ vmId: newVmId(), ...smallVm("contested") })),
      codeOf(h.grpc.createVM({ vmId: newVmId(), ...smallVm("contested") })),
    ]);
    expect(sortCodes(codes)).toEqual(sortCodes([Code.AlreadyExists, undefined]));
    expect((await h.grpc.listVMs({})).vms.filter((v) => v.name === "contested").length).toBe(1);
  });
});
