// The mock hands out one frozen status object per VM for as long as nothing it shows changed,
// so the server can reuse its encoding (src/server/convert/vm-status-binary.ts). Every change a
// status shows must hand out a new object; a change it misses would serve stale data.

import { afterEach, describe, expect, test } from "bun:test";
import type { Hypervisor, VmStatus } from "../../src/hypervisor/types.ts";
import { METRICS_STEP_MS } from "../../src/hypervisor/mock/metrics.ts";
import { closeMocks, create, mock } from "./mock-helpers.ts";

afterEach(closeMocks);

function clocked() {
  // Mid-step, so a few milliseconds never cross a step boundary.
  let now = 1_700_000_000_000 + METRICS_STEP_MS / 2;
  const hv = mock({ clock: () => now });
  return { hv, tick: (ms: number) => (now += ms) };
}

/** Runs the change and expects a new, frozen status that shows it; a read after that is cached. */
async function expectNewStatus(hv: Hypervisor, id: string, change: () => Promise<unknown>, shows: (s: VmStatus) => void) {
  const before = await hv.getVm(id);
  await change();
  const after = await hv.getVm(id);
  expect(after).not.toBe(before);
  expect(Object.isFrozen(after)).toBe(true);
  shows(after);
  expect(await hv.getVm(id)).toBe(after);
  const listed = (await hv.listVms()).find((v) => v.id === id);
  expect(listed).toBe(after);
}

describe("mock status objects", () => {
  test("an unchanged VM keeps one frozen status; reads within a metrics step see the same figures", async () => {
    const { hv, tick } = clocked();
    const id = await create(hv);
    await hv.startVm(id);
    const first = await hv.getVm(id);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.usage)).toBe(true);
    tick(10);
    expect(await hv.getVm(id)).toBe(first);
    expect((await hv.listVms())[0]).toBe(first);
    expect(() => {
      (first as { state: string }).state = "stopped";
    }).toThrow();
  });

  test("a new metrics step moves a running VM's figures and hands out a new status; a stopped VM's stays", async () => {
    const { hv, tick } = clocked();
    const running = await create(hv);
    const stopped = await create(hv);
    await hv.startVm(running);
    const [r0, s0] = [await hv.getVm(running), await hv.getVm(stopped)];
    tick(METRICS_STEP_MS);
    const listed = await hv.listVms();
    const r1 = listed.find((v) => v.id === running)!;
    expect(r1).not.toBe(r0);
    expect(r1.usage.cpuTimeNs).toBeGreaterThan(r0.usage.cpuTimeNs);
    expect(listed.find((v) => v.id === stopped)).toBe(s0);
    // getVm agrees with the listing of the same step.
    expect(await hv.getVm(running)).toBe(r1);
  });

  test("every change a status shows hands out a new status", async () => {
    const { hv } = clocked();
    const id = await create(hv);
    await expectNewStatus(
      hv,
      id,
      () => hv.startVm(id),
      (s) => expect(s.state).toBe("running"),
    );
    await expectNewStatus(
      hv,
      id,
      () => hv.rebootVm(id),
      (s) => expect(s.stateReason).toBe("rebooted"),
    );
    await expectNewStatus(
      hv,
      id,
      () => hv.pauseVm(id),
      (s) => expect(s.state).toBe("paused"),
    );
    await expectNewStatus(
      hv,
      id,
      () => hv.resumeVm(id),
      (s) => expect(s.state).toBe("running"),
    );
    await expectNewStatus(
      hv,
      id,
      () => hv.attachDisk(id, { id: "data", newImage: { sizeBytes: 2 ** 30, format: "qcow2" }, bus: "virtio", bootOrder: 0, readonly: false, device: "disk" }),
      (s) => expect(s.spec.disks.map((d) => d.id)).toContain("data"),
    );
    await expectNewStatus(
      hv,
      id,
      () => hv.detachDisk(id, "data"),
      (s) => expect(s.spec.disks.map((d) => d.id)).not.toContain("data"),
    );
    await expectNewStatus(
      hv,
      id,
      () => hv.attachNic(id, { id: "eth1", network: "default", model: "virtio" }),
      (s) => expect(s.spec.nics.map((n) => n.id)).toContain("eth1"),
    );
    await expectNewStatus(
      hv,
      id,
      () => hv.detachNic(id, "eth1"),
      (s) => expect(s.spec.nics.map((n) => n.id)).not.toContain("eth1"),
    );
    await expectNewStatus(
      hv,
      id,
      () => hv.createSnapshot(id, { name: "s1", includeMemory: true, quiesce: false }),
      (s) => expect([s.snapshotCount, s.currentSnapshot]).toEqual([1, "s1"]),
    );
    await expectNewStatus(
      hv,
      id,
      () => hv.createSnapshot(id, { name: "s2", includeMemory: false, quiesce: false }),
      (s) => expect([s.snapshotCount, s.currentSnapshot]).toEqual([2, "s2"]),
    );
    await expectNewStatus(
      hv,
      id,
      () => hv.revertSnapshot(id, "s1"),
      (s) => expect(s.currentSnapshot).toBe("s1"),
    );
    // Deleting a snapshot that is not the current one changes only the count.
    await expectNewStatus(
      hv,
      id,
      () => hv.deleteSnapshot(id, "s2"),
      (s) => expect([s.snapshotCount, s.currentSnapshot]).toEqual([1, "s1"]),
    );
    await expectNewStatus(
      hv,
      id,
      () => hv.forceStopVm(id),
      (s) => expect([s.state, s.startedAt]).toEqual(["stopped", undefined]),
    );
  });

  test("a listing within a step that an earlier listing advanced still shows new, started and deleted VMs", async () => {
    const { hv, tick } = clocked();
    const a = await create(hv);
    await hv.startVm(a);
    tick(METRICS_STEP_MS);
    await hv.listVms();
    const b = await create(hv);
    await hv.startVm(b);
    await hv.forceStopVm(a);
    const listed = await hv.listVms();
    expect(Object.fromEntries(listed.map((v) => [v.id, v.state]))).toEqual({ [a]: "stopped", [b]: "running" });
    await hv.deleteVm(a, { deleteDisks: true, force: false });
    expect((await hv.listVms()).map((v) => v.id)).toEqual([b]);
    // The next step moves b's figures in a listing, though a listing already ran in this one.
    const before = (await hv.getVm(b)).usage.cpuTimeNs;
    tick(METRICS_STEP_MS);
    expect((await hv.listVms())[0]!.usage.cpuTimeNs).toBeGreaterThan(before);
  });
});
