// The behaviour every Hypervisor backend must share, run against the mock and against libvirt's
// test:///default driver. Only behaviour libvirt also has belongs here; mock-only behaviour
// (console port numbers, migration progress, ACPI timeouts) lives in mock.test.ts.

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { withDefaults, type VmSpecInput } from "../../src/hypervisor/defaults.ts";
import { eventually, expectKind } from "./contract-helpers.ts";
import { optionalContractTests } from "./contract-optional.ts";
import type { Hypervisor, HypervisorEvent, VmSpec } from "../../src/hypervisor/types.ts";

export interface ContractOptions {
  supportsHotPlug: boolean;
  supportsConsole: boolean;
  supportsMigration: boolean;
  /** Host path of an existing image the specs refer to; default /var/lib/limiquantix/images/<file>. */
  imagePath?: (file: string) => string;
  /** Timeout given to graceful stops, in ms; default 5000. */
  stopTimeoutMs?: number;
  /**
   * false for guests that boot no OS (the real tier's): nothing answers ACPI, so a graceful stop
   * ends in a timeout and the VM keeps running. Default true.
   */
  guestHandlesAcpi?: boolean;
  /** The libvirt network every NIC joins; default: bridge br0 (the spec's) and network "default" (hot-plug). */
  network?: string;
  /** Start of every VM name (libvirt objects of parallel runs must not clash); default "contract". */
  namePrefix?: string;
  /** Merged into every spec before the test's own input (the real tier gives its VMs no console). */
  specExtras?: Partial<VmSpecInput>;
}

export type MakeBackend = () => Promise<{ hv: Hypervisor; cleanup: () => Promise<void> }>;

export { eventually, expectKind } from "./contract-helpers.ts";

export function runHypervisorContract(label: string, make: MakeBackend, opts: ContractOptions): void {
  const image = opts.imagePath ?? ((file: string) => `/var/lib/limiquantix/images/${file}`);
  const stopTimeout = opts.stopTimeoutMs ?? 5000;
  // Names unique per run: libvirt's test driver already holds a domain called "test".
  const run = crypto.randomUUID().slice(0, 8);
  let n = 0;

  function spec(input: Partial<VmSpecInput> = {}): VmSpec {
    n++;
    return withDefaults({
      name: `${opts.namePrefix ?? "contract"}-${run}-${n}`,
      memoryMib: 256,
      cpu: { sockets: 1, coresPerSocket: 2 },
      disks: [{ id: "root", path: image(`contract-${run}-${n}.qcow2`), bootOrder: 1 }],
      nics: [opts.network ? { id: "eth0", network: opts.network } : { id: "eth0", bridge: "br0" }],
      labels: { "contract.run": run },
      ...opts.specExtras,
      ...input,
    });
  }

  describe(`Hypervisor contract: ${label}`, () => {
    let hv: Hypervisor;
    let cleanup: () => Promise<void>;
    let events: HypervisorEvent[];
    let unsubscribe: () => void;

    beforeEach(async () => {
      ({ hv, cleanup } = await make());
      events = [];
      // A backend may be shared between tests (the real tier's): each test hears only its own events.
      unsubscribe = hv.onEvent((e) => events.push(e));
    });
    afterEach(async () => {
      unsubscribe();
      await cleanup();
    });

    async function created(input: Partial<VmSpecInput> = {}) {
      const id = crypto.randomUUID();
      const s = spec(input);
      const { vm } = await hv.createVm(id, s);
      return { id, spec: s, vm };
    }

    async function running(input: Partial<VmSpecInput> = {}) {
      const vm = await created(input);
      await hv.startVm(vm.id);
      return vm;
    }

    test("reports who it is and that it is healthy", async () => {
      const info = await hv.info();
      expect(info.backend).toBe(hv.backend);
      expect(info.version.length).toBeGreaterThan(0);
      const caps = await hv.capabilities();
      expect(caps.maxVcpus).toBeGreaterThan(0);
      expect(caps.maxMemoryBytes).toBeGreaterThan(0);
      expect(caps.diskFormats).toContain("qcow2");
      expect(hv.healthy().ok).toBe(true);
    });

    test("a new vm is stopped, keeps its spec and gets disk targets and MACs", async () => {
      const { id, spec: s, vm } = await created();
      expect(vm).toMatchObject({ id, name: s.name, state: "stopped", snapshotCount: 0 });
      expect(vm.startedAt).toBeUndefined();
      expect(vm.spec.cpu).toMatchObject({ sockets: 1, coresPerSocket: 2, threadsPerCore: 1 });
      expect(vm.spec.memoryMib).toBe(256);
      expect(vm.spec.disks[0]).toMatchObject({ id: "root", target: "vda", resolvedPath: s.disks[0]?.path });
      expect(vm.spec.nics[0]?.mac).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
      expect(vm.spec.labels).toEqual({ "contract.run": run });
      expect((await hv.getVm(id)).state).toBe("stopped");
    });

    test("createVm is idempotent for the same id and spec", async () => {
      const { id, spec: s } = await created();
      const again = await hv.createVm(id, s);
      expect(again.created).toBe(false);
      expect(again.vm.id).toBe(id);
      await expectKind(hv.createVm(id, { ...s, memoryMib: 512 }), "already_exists");
      await expectKind(hv.createVm(crypto.randomUUID(), { ...s, labels: {} }), "already_exists");
    });

    test("createVm refuses a bad id or spec with invalid_argument naming the field", async () => {
      const bad = await expectKind(hv.createVm("not-a-uuid", spec()), "invalid_argument");
      expect(bad).toMatchObject({ field: "vm_id" });
      const badSpec = await expectKind(hv.createVm(crypto.randomUUID(), { ...spec(), memoryMib: 0 }), "invalid_argument");
      expect(badSpec).toMatchObject({ field: "spec.memory.size_mib" });
    });

    test("unknown vms are not_found for every per-vm operation", async () => {
      const id = crypto.randomUUID();
      await expectKind(hv.getVm(id), "not_found");
      await expectKind(hv.startVm(id), "not_found");
      await expectKind(hv.stopVm(id, stopTimeout), "not_found");
      await expectKind(hv.forceStopVm(id), "not_found");
      await expectKind(hv.rebootVm(id), "not_found");
      await expectKind(hv.pauseVm(id), "not_found");
      await expectKind(hv.resumeVm(id), "not_found");
      await expectKind(hv.deleteVm(id, { deleteDisks: false, force: true }), "not_found");
      await expectKind(hv.listSnapshots(id), "not_found");
      await expectKind(hv.createSnapshot(id, { includeMemory: false, quiesce: false }), "not_found");
    });

    test("the lifecycle follows libvirt's state machine", async () => {
      const { id } = await created();
      await expectKind(hv.pauseVm(id), "invalid_state");
      await expectKind(hv.resumeVm(id), "invalid_state");
      await expectKind(hv.rebootVm(id), "invalid_state");
      await expectKind(hv.forceStopVm(id), "invalid_state");
      await expectKind(hv.stopVm(id, stopTimeout), "invalid_state");

      const started = await hv.startVm(id);
      expect(started.state).toBe("running");
      expect(started.startedAt).toBeInstanceOf(Date);
      const again = await expectKind(hv.startVm(id), "invalid_state");
      expect(again.message).toContain(id);
      await expectKind(hv.resumeVm(id), "invalid_state");
      expect((await hv.rebootVm(id)).state).toBe("running");

      expect((await hv.pauseVm(id)).state).toBe("paused");
      await expectKind(hv.pauseVm(id), "invalid_state");
      await expectKind(hv.startVm(id), "invalid_state");
      expect((await hv.resumeVm(id)).state).toBe("running");

      if (opts.guestHandlesAcpi === false) {
        // Nothing in the guest answers ACPI: the stop times out and the vm keeps running.
        await expectKind(hv.stopVm(id, stopTimeout), "timeout");
        expect((await hv.getVm(id)).state).toBe("running");
      }
      const stopped = opts.guestHandlesAcpi === false ? await hv.forceStopVm(id) : await hv.stopVm(id, stopTimeout);
      expect(stopped.state).toBe("stopped");
      expect(stopped.startedAt).toBeUndefined();
    });

    test("force stop powers off running and paused vms", async () => {
      const a = await running();
      expect((await hv.forceStopVm(a.id)).state).toBe("stopped");
      const b = await running();
      await hv.pauseVm(b.id);
      expect((await hv.forceStopVm(b.id)).state).toBe("stopped");
    });

    test("delete refuses a running vm unless forced", async () => {
      const { id } = await running();
      const err = await expectKind(hv.deleteVm(id, { deleteDisks: false, force: false }), "invalid_state");
      expect(err.message).toContain(id);
      expect((await hv.getVm(id)).state).toBe("running");
      expect(await hv.deleteVm(id, { deleteDisks: false, force: true })).toEqual({ deletedDisks: [] });
      await expectKind(hv.getVm(id), "not_found");

      const stopped = await created();
      await hv.deleteVm(stopped.id, { deleteDisks: false, force: false });
      await expectKind(hv.getVm(stopped.id), "not_found");
      // The name is free again.
      expect((await hv.createVm(crypto.randomUUID(), stopped.spec)).created).toBe(true);
    });

    test("racing operations on one vm are serialized", async () => {
      const { id } = await created();
      const results = await Promise.allSettled([hv.startVm(id), hv.startVm(id), hv.startVm(id)]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const r of results) {
        if (r.status === "rejected") expect(r.reason).toMatchObject({ kind: "invalid_state" });
      }
      expect((await hv.getVm(id)).state).toBe("running");
    });

    test("operations on different vms run side by side", async () => {
      const vms = await Promise.all([created(), created(), created(), created()]);
      const started = await Promise.all(vms.map((v) => hv.startVm(v.id)));
      expect(started.map((s) => s.state)).toEqual(["running", "running", "running", "running"]);
    });

    test("listVms filters by labels and states", async () => {
      const tag = crypto.randomUUID().slice(0, 8);
      const a = await running({ labels: { "contract.run": run, tier: "web", tag } });
      const b = await created({ labels: { "contract.run": run, tier: "db", tag } });
      const c = await created({ labels: { "contract.run": run, tier: "web", tag } });
      const ids = (vms: { id: string }[]) => vms.map((v) => v.id).sort();
      expect(ids(await hv.listVms({ labelSelector: { tag } }))).toEqual(ids([a, b, c]));
      expect(ids(await hv.listVms({ labelSelector: { tag, tier: "web" } }))).toEqual(ids([a, c]));
      expect(ids(await hv.listVms({ labelSelector: { tag }, states: ["running"] }))).toEqual([a.id]);
      expect(ids(await hv.listVms({ labelSelector: { tag }, states: ["stopped", "paused"] }))).toEqual(ids([b, c]));
      expect(await hv.listVms({ labelSelector: { tag: "nothing-has-this" } })).toEqual([]);
      const all = ids(await hv.listVms());
      for (const v of [a, b, c]) expect(all).toContain(v.id);
    });

    test("snapshots form a tree with parents and one current snapshot", async () => {
      const { id } = await created();
      const s1 = await hv.createSnapshot(id, { name: "s1", description: "first", includeMemory: false, quiesce: false });
      expect(s1).toMatchObject({ vmId: id, name: "s1", description: "first", current: true, vmState: "stopped", hasMemory: false });
      expect(s1.parent).toBeUndefined();
      const s2 = await hv.createSnapshot(id, { name: "s2", includeMemory: false, quiesce: false });
      expect(s2.parent).toBe("s1");
      await expectKind(hv.createSnapshot(id, { name: "s2", includeMemory: false, quiesce: false }), "already_exists");

      await hv.revertSnapshot(id, "s1");
      const s3 = await hv.createSnapshot(id, { name: "s3", includeMemory: false, quiesce: false });
      expect(s3.parent).toBe("s1");
      const byName = async () => Object.fromEntries((await hv.listSnapshots(id)).map((s) => [s.name, s]));
      let all = await byName();
      expect(Object.keys(all).sort()).toEqual(["s1", "s2", "s3"]);
      expect(all.s3?.current).toBe(true);
      expect(all.s1?.current).toBe(false);
      expect((await hv.getVm(id)).snapshotCount).toBe(3);
      expect((await hv.getVm(id)).currentSnapshot).toBe("s3");

      // Deleting s1 hands its children to s1's parent (none: they become roots).
      await hv.deleteSnapshot(id, "s1");
      all = await byName();
      expect(Object.keys(all).sort()).toEqual(["s2", "s3"]);
      expect(all.s2?.parent).toBeUndefined();
      expect(all.s3?.parent).toBeUndefined();
      await expectKind(hv.deleteSnapshot(id, "s1"), "not_found");
      await expectKind(hv.revertSnapshot(id, "s1"), "not_found");
    });

    test("reverting brings back the vm's state at snapshot time", async () => {
      const { id } = await created();
      await hv.createSnapshot(id, { name: "off", includeMemory: false, quiesce: false });
      await hv.startVm(id);
      const on = await hv.createSnapshot(id, { name: "on", includeMemory: true, quiesce: false });
      expect(on).toMatchObject({ vmState: "running", hasMemory: true, parent: "off" });
      expect((await hv.revertSnapshot(id, "off")).state).toBe("stopped");
      expect((await hv.getVm(id)).currentSnapshot).toBe("off");
      expect((await hv.revertSnapshot(id, "on")).state).toBe("running");
    });

    test("events report creation, every transition and deletion", async () => {
      const { id, spec: s } = await created();
      await hv.startVm(id);
      await hv.pauseVm(id);
      await hv.resumeVm(id);
      await hv.forceStopVm(id);
      await hv.createSnapshot(id, { name: "e1", includeMemory: false, quiesce: false });
      await hv.deleteVm(id, { deleteDisks: false, force: false });
      const mine = () => events.filter((e) => e.vmId === id);
      await eventually(() => (mine().some((e) => e.type === "vm_deleted") ? true : undefined), "vm_deleted");
      expect(mine().find((e) => e.type === "vm_created")).toMatchObject({ vmName: s.name });
      const transitions = mine()
        .filter((e) => e.type === "vm_state_changed" && e.state !== e.previousState)
        .map((e) => `${e.previousState}->${e.state}`);
      expect(transitions).toEqual(["stopped->running", "running->paused", "paused->running", "running->stopped"]);
      expect(mine().some((e) => e.type === "snapshot_created")).toBe(true);
    });

    test("an unsubscribed listener hears nothing more", async () => {
      const heard: HypervisorEvent[] = [];
      const off = hv.onEvent((e) => heard.push(e));
      const { id } = await created();
      await eventually(() => (heard.some((e) => e.vmId === id) ? true : undefined), "vm_created");
      off();
      const count = heard.length;
      await hv.startVm(id);
      await eventually(() => (events.some((e) => e.vmId === id && e.state === "running") ? true : undefined), "start event");
      expect(heard.length).toBe(count);
    });

    test("vmMetrics reports every vm with its topology and memory", async () => {
      const a = await running({ cpu: { sockets: 2, coresPerSocket: 2 } });
      const b = await created();
      const metrics = await hv.vmMetrics([a.id, b.id, crypto.randomUUID()]);
      expect(metrics.map((m) => m.vmId).sort()).toEqual([a.id, b.id].sort());
      const ma = metrics.find((m) => m.vmId === a.id);
      expect(ma).toMatchObject({ state: "running", vcpus: 4, memoryTotalBytes: 256 * 1024 * 1024 });
    });

    optionalContractTests(opts, () => hv, running, created);
  });
}
