// Mock-only behaviour libvirt's test driver cannot show: devices, snapshots of devices, console
// ports, and the mock's own promise of speed.

import { afterEach, describe, expect, test } from "bun:test";
import type { HypervisorEvent, VmSpec } from "../../src/hypervisor/types.ts";
import { expectKind } from "./contract.ts";
import { closeMocks, mock, spec, create } from "./mock-helpers.ts";

afterEach(closeMocks);

describe("devices", () => {
  test("new images live under the storage path; targets follow the bus", async () => {
    const hv = mock({ storagePath: "/srv/vms" });
    const id = crypto.randomUUID();
    const { vm } = await hv.createVm(
      id,
      spec({
        disks: [
          { id: "root", newImage: { sizeBytes: 1 << 30, format: "raw" }, bootOrder: 1 },
          { id: "iso", path: "/srv/iso/debian.iso", device: "cdrom" },
          { id: "old", path: "/srv/images/old.img", bus: "ide" },
          { id: "data", newImage: { sizeBytes: 1 << 30 } },
          { id: "scratch", path: "/srv/images/scratch.img", bus: "scsi" },
        ],
      }),
    );
    expect(vm.spec.disks.map((d) => [d.id, d.target, d.resolvedPath])).toEqual([
      ["root", "vda", `/srv/vms/${id}/root.raw`],
      ["iso", "sda", "/srv/iso/debian.iso"],
      ["old", "hda", "/srv/images/old.img"],
      ["data", "vdb", `/srv/vms/${id}/data.qcow2`],
      ["scratch", "sdb", "/srv/images/scratch.img"],
    ]);
    // Only the VM's own writable disks are deleted with it, never a shared ISO.
    expect((await hv.deleteVm(id, { deleteDisks: true, force: false })).deletedDisks).toEqual([
      `/srv/vms/${id}/root.raw`,
      "/srv/images/old.img",
      `/srv/vms/${id}/data.qcow2`,
      "/srv/images/scratch.img",
    ]);
  });

  test("virtio targets continue vdz -> vdaa", async () => {
    const hv = mock();
    const disks = Array.from({ length: 28 }, (_, i) => ({ id: `d${i}`, path: `/img/d${i}.qcow2` }));
    const { vm } = await hv.createVm(crypto.randomUUID(), spec({ disks }));
    expect(vm.spec.disks.slice(24).map((d) => d.target)).toEqual(["vdy", "vdz", "vdaa", "vdab"]);
  });

  test("given MACs are kept (lowercased), missing ones are generated and distinct", async () => {
    const hv = mock();
    const nics = [
      { id: "a", bridge: "br0", mac: "52:54:00:AA:BB:CC" },
      ...Array.from({ length: 20 }, (_, i) => ({ id: `n${i}`, bridge: "br0" })),
    ];
    const { vm } = await hv.createVm(crypto.randomUUID(), spec({ nics }));
    expect(vm.spec.nics[0]?.mac).toBe("52:54:00:aa:bb:cc");
    expect(new Set(vm.spec.nics.map((x) => x.mac)).size).toBe(21);
  });

  test("hot-plug on a stopped vm persists; sata cannot be plugged live; paused is refused", async () => {
    const hv = mock();
    const id = await create(hv);
    const cdrom = { id: "cd", path: "/iso/x.iso", bus: "sata" as const, bootOrder: 0, readonly: true, device: "cdrom" as const };
    expect((await hv.attachDisk(id, cdrom)).spec.disks.map((d) => d.target)).toEqual(["vda", "sda"]);
    await hv.detachDisk(id, "cd");
    await hv.startVm(id);
    await expectKind(hv.attachDisk(id, cdrom), "unsupported");
    const bad = await expectKind(
      hv.attachDisk(id, { id: "x", path: "/img/x", bus: "virtio", bootOrder: 1, readonly: false, device: "disk" }),
      "invalid_argument",
    );
    expect(bad).toMatchObject({ field: "disk.boot_order" });
    await hv.pauseVm(id);
    await expectKind(hv.detachNic(id, "eth0"), "invalid_state");
  });

  test("hot-plug emits events and does not break create idempotency", async () => {
    const hv = mock();
    const events: HypervisorEvent[] = [];
    hv.onEvent((e) => events.push(e));
    const id = crypto.randomUUID();
    const s = spec();
    await hv.createVm(id, s);
    await hv.attachNic(id, { id: "eth1", network: "default", model: "e1000" });
    await hv.detachDisk(id, "root");
    expect(events.map((e) => e.type)).toEqual(["vm_created", "nic_attached", "disk_detached"]);
    expect((await hv.createVm(id, s)).created).toBe(false);
  });

  test("specs handed out are frozen, so callers cannot corrupt the mock", async () => {
    const hv = mock();
    const id = await create(hv);
    const vm = await hv.getVm(id);
    expect(() => {
      vm.spec.disks.push(vm.spec.disks[0] as VmSpec["disks"][number]);
    }).toThrow();
    expect((await hv.getVm(id)).spec.disks).toHaveLength(1);
  });
});

describe("snapshots", () => {
  test("revert brings back the devices of that moment; unnamed snapshots get a name", async () => {
    const hv = mock({ clock: () => 1_700_000_000_000 });
    const events: HypervisorEvent[] = [];
    hv.onEvent((e) => events.push(e));
    const id = await create(hv);
    const first = await hv.createSnapshot(id, { includeMemory: false, quiesce: false });
    expect(first.name).toBe("1700000000");
    expect((await hv.createSnapshot(id, { includeMemory: false, quiesce: false })).name).toBe("1700000000-2");
    await hv.attachNic(id, { id: "eth1", bridge: "br1", model: "virtio" });
    const reverted = await hv.revertSnapshot(id, first.name);
    expect(reverted.spec.nics.map((x) => x.id)).toEqual(["eth0"]);
    await hv.deleteSnapshot(id, first.name);
    expect(events.map((e) => e.type).filter((t) => t.startsWith("snapshot_"))).toEqual([
      "snapshot_created",
      "snapshot_created",
      "snapshot_reverted",
      "snapshot_deleted",
    ]);
    // Deleting the current snapshot makes its parent current; here it had none.
    expect((await hv.getVm(id)).currentSnapshot).toBeUndefined();
  });

  test("a running snapshot without memory reverts to a stopped vm", async () => {
    const hv = mock();
    const id = await create(hv);
    await hv.startVm(id);
    await hv.createSnapshot(id, { name: "disk-only", includeMemory: false, quiesce: false });
    expect((await hv.revertSnapshot(id, "disk-only")).state).toBe("stopped");
  });
});

describe("consoles", () => {
  test("ports are allocated from the base upward and the lowest free one is reused", async () => {
    const hv = mock({ consolePortBase: 5900 });
    const ids = [await create(hv), await create(hv), await create(hv)];
    for (const id of ids) await hv.startVm(id);
    const ports = async () => Promise.all(ids.map(async (id) => (await hv.getConsole(id)).port));
    expect(await ports()).toEqual([5900, 5901, 5902]);
    await hv.forceStopVm(ids[0] as string);
    await expectKind(hv.getConsole(ids[0] as string), "invalid_state");
    await hv.pauseVm(ids[1] as string);
    expect((await hv.getConsole(ids[1] as string)).port).toBe(5901);
    await hv.startVm(ids[0] as string);
    expect(await ports()).toEqual([5900, 5901, 5902]);
  });

  test("a vm without a console says so; listen and password are reported", async () => {
    const hv = mock({ consoleHost: "10.0.0.5" });
    const none = await create(hv, { console: { type: "none" } });
    await hv.startVm(none);
    const err = await expectKind(hv.getConsole(none), "invalid_state");
    expect(err.message).toContain("console type is none");
    const wild = await create(hv, { console: { type: "spice", listen: "0.0.0.0", password: "pw" } });
    await hv.startVm(wild);
    expect(await hv.getConsole(wild)).toEqual({ type: "spice", host: "10.0.0.5", port: 5900, password: "pw" });
  });
});

describe("scale", () => {
  test("10,000 vms list in well under 50 ms", async () => {
    const hv = mock();
    const base = spec();
    await Promise.all(
      Array.from({ length: 10_000 }, (_, i) =>
        hv.createVm(crypto.randomUUID(), { ...base, name: `scale-${i}`, labels: { tier: i % 2 ? "web" : "db" } }),
      ),
    );
    // Best of five: the figure is what the mock can do, not how busy the CI machine is.
    let best = Infinity;
    let all: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      all = await hv.listVms();
      best = Math.min(best, performance.now() - started);
    }
    expect(all).toHaveLength(10_000);
    expect(best).toBeLessThan(50);
    expect(await hv.listVms({ labelSelector: { tier: "web" } })).toHaveLength(5_000);
  });
});
