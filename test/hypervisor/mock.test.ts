// Mock-only behaviour libvirt's test driver cannot show: devices, the node's CD-ROMs and media,
// snapshots of devices, console ports, and listings at scale.

import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
    // New images are named <vm id>-<disk id>.<format> in the node's storage (pool "default").
    expect(vm.spec.disks.map((d) => [d.id, d.target, d.resolvedPath])).toEqual([
      ["root", "vda", `/srv/vms/${id}-root.raw`],
      ["iso", "sda", "/srv/iso/debian.iso"],
      // q35 has no IDE controller: an IDE disk is a SATA one there.
      ["old", "sdb", "/srv/images/old.img"],
      ["data", "vdb", `/srv/vms/${id}-data.qcow2`],
      ["scratch", "sdc", "/srv/images/scratch.img"],
    ]);
    // Only the images the mock made are deleted with the VM: never a shared ISO, never a file
    // it was handed by path.
    expect((await hv.deleteVm(id, { deleteDisks: true, force: false })).deletedDisks).toEqual([`/srv/vms/${id}-root.raw`, `/srv/vms/${id}-data.qcow2`]);
  });

  test("virtio targets continue vdz -> vdaa", async () => {
    const hv = mock();
    const disks = Array.from({ length: 28 }, (_, i) => ({ id: `d${i}`, path: `/img/d${i}.qcow2` }));
    const { vm } = await hv.createVm(crypto.randomUUID(), spec({ disks }));
    expect(vm.spec.disks.slice(24).map((d) => [d.id, d.target])).toEqual([
      ["d24", "vdy"],
      ["d25", "vdz"],
      ["d26", "vdaa"],
      ["d27", "vdab"],
      // The node's empty CD-ROM, on SATA.
      ["cdrom-0", "sda"],
    ]);
  });

  test("given MACs are kept (lowercased), missing ones are generated and distinct", async () => {
    const hv = mock();
    const nics = [{ id: "a", bridge: "br0", mac: "52:54:00:AA:BB:CC" }, ...Array.from({ length: 20 }, (_, i) => ({ id: `n${i}`, bridge: "br0" }))];
    const { vm } = await hv.createVm(crypto.randomUUID(), spec({ nics }));
    expect(vm.spec.nics[0]?.mac).toBe("52:54:00:aa:bb:cc");
    expect(new Set(vm.spec.nics.map((x) => x.mac)).size).toBe(21);
  });

  test("hot-plug on a stopped vm persists; live, a sata disk goes on virtio and a sata cd-rom is refused; paused is refused", async () => {
    const hv = mock();
    const id = await create(hv);
    const cdrom = { id: "cd", path: "/iso/x.iso", bus: "sata" as const, bootOrder: 0, readonly: true, device: "cdrom" as const };
    expect((await hv.attachDisk(id, cdrom)).spec.disks.map((d) => [d.id, d.target])).toEqual([
      ["root", "vda"],
      ["cdrom-0", "sda"],
      ["cd", "sdb"],
    ]);
    await hv.detachDisk(id, "cd");
    await hv.startVm(id);
    // SATA has no hot-plug: a disk is put on virtio instead, a CD-ROM cannot be (no removable media there).
    const sata = await hv.attachDisk(id, { id: "sata", path: "/img/s", bus: "sata", bootOrder: 0, readonly: false, device: "disk" });
    expect(sata.spec.disks.find((d) => d.id === "sata")).toMatchObject({ bus: "virtio", target: "vdb" });
    await expectKind(hv.attachDisk(id, cdrom), "invalid_argument");
    expect((await hv.getVm(id)).spec.disks.map((d) => d.id)).toEqual(["root", "cdrom-0", "sata"]);
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
    const count = vm.spec.disks.length;
    expect(() => {
      vm.spec.disks.push(vm.spec.disks[0] as VmSpec["disks"][number]);
    }).toThrow();
    expect((await hv.getVm(id)).spec.disks).toHaveLength(count);
  });
});

describe("the node's CD-ROMs and media", () => {
  test("an empty drive when none is asked for; the cloud-init drive first among the CD-ROMs; create stays idempotent", async () => {
    const hv = mock({ storagePath: "/srv/vms" });
    const plain = await hv.createVm(crypto.randomUUID(), spec());
    expect(plain.vm.spec.disks.map((d) => [d.id, d.device, d.path ?? ""])).toEqual([
      ["root", "disk", ""],
      ["cdrom-0", "cdrom", ""],
    ]);
    const id = crypto.randomUUID();
    const s = spec({
      disks: [
        { id: "root", newImage: { sizeBytes: 1 << 30 } },
        { id: "cd0", device: "cdrom" },
      ],
      cloudInit: { userData: "#cloud-config\n" },
    });
    const { vm } = await hv.createVm(id, s);
    expect(vm.spec.disks.map((d) => [d.id, d.device, d.resolvedPath ?? ""])).toEqual([
      ["root", "disk", `/srv/vms/${id}-root.qcow2`],
      ["cloud-init", "cdrom", `/srv/vms/${id}-cloud-init.iso`],
      ["cd0", "cdrom", ""],
    ]);
    expect((await hv.createVm(id, s)).created).toBe(false);
  });

  test("changeMedia inserts by path or by a name relative to a pool, and ejects", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lq-mock-media-"));
    try {
      mkdirSync(join(dir, "iso"));
      writeFileSync(join(dir, "iso", "debian.iso"), "d");
      const hv = mock({ storagePath: dir });
      const events: HypervisorEvent[] = [];
      hv.onEvent((e) => events.push(e));
      const id = await create(hv, {
        disks: [
          { id: "root", newImage: { sizeBytes: 1 << 30 } },
          { id: "cd0", device: "cdrom" },
        ],
      });
      await hv.startVm(id);
      const drive = async () => (await hv.getVm(id)).spec.disks.find((d) => d.id === "cd0")!;
      await hv.changeMedia(id, "cd0", { path: join(dir, "iso", "debian.iso") });
      expect(await drive()).toMatchObject({ path: join(dir, "iso", "debian.iso"), resolvedPath: join(dir, "iso", "debian.iso") });
      await hv.changeMedia(id, "cd0", { volume: "debian.iso" });
      expect(await drive()).toMatchObject({ volume: "debian.iso", resolvedPath: join(dir, "iso", "debian.iso") });
      await hv.changeMedia(id, "cd0", {});
      const ejected = await drive();
      expect([ejected.path, ejected.volume, ejected.resolvedPath]).toEqual([undefined, undefined, undefined]);
      await expectKind(hv.changeMedia(id, "root", {}), "not_found");
      await expectKind(hv.changeMedia(id, "cd0", { volume: "none.iso" }), "not_found");
      expect(events.filter((e) => e.type === "media_changed").map((e) => e.details?.medium)).toEqual([
        join(dir, "iso", "debian.iso"),
        join(dir, "iso", "debian.iso"),
        "",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
    const hv = mock({ consoleListen: "10.0.0.5" });
    const none = await create(hv, { console: { type: "none" } });
    await hv.startVm(none);
    const err = await expectKind(hv.getConsole(none), "invalid_state");
    expect(err.message).toContain("console type is none");
    // The backend reports where the console listens; the API announces a wildcard at the
    // node's management address (server/convert/vm-status.ts).
    const wild = await create(hv, { console: { type: "spice", listen: "0.0.0.0", password: "pw" } });
    await hv.startVm(wild);
    expect(await hv.getConsole(wild)).toEqual({ type: "spice", host: "0.0.0.0", port: 5900, password: "pw" });
    const unset = await create(hv, { console: { type: "vnc" } });
    await hv.startVm(unset);
    expect(await hv.getConsole(unset)).toEqual({ type: "vnc", host: "10.0.0.5", port: 5901 });
  });
});

describe("scale", () => {
  test("10,000 vms: listings are complete and filtered, and hand out the same objects (nothing copied)", async () => {
    // A fixed clock: no metrics step passes between the two listings.
    const hv = mock({ clock: () => 1_700_000_000_000 });
    const base = spec();
    await Promise.all(
      Array.from({ length: 10_000 }, (_, i) => hv.createVm(crypto.randomUUID(), { ...base, name: `scale-${i}`, labels: { tier: i % 2 ? "web" : "db" } })),
    );
    const started = performance.now();
    const all = await hv.listVms();
    // Reported, not asserted: the time is the machine's as much as the mock's.
    console.log(`listing 10,000 mock vms: ${(performance.now() - started).toFixed(1)} ms`);
    expect(all).toHaveLength(10_000);
    const again = await hv.listVms();
    expect(again.every((status, i) => status === all[i] && Object.isFrozen(status.spec))).toBe(true);
    expect(await hv.listVms({ labelSelector: { tier: "web" } })).toHaveLength(5_000);
  });
});
