// VM disks in Ceph RBD, iSCSI and LVM pools over libvirt's test:///default driver, through the
// backend: each disk is a volume of its pool (created, copied from a base volume, or an existing
// one by name), the domain refers to it as QEMU needs (RBD over the network with the pool's
// monitors and secret, LUNs and logical volumes as block devices), the spec reads back with its
// pool and volume, pool destroy names the VM, delete_disks deletes the volumes. The test driver
// defines pools of every type and volumes in them (no Ceph or iSCSI needed) but has no secrets
// (the RBD pool is defined here directly, as InitStoragePool would) and cannot resize volumes.
// The mock follows the same rule (last describe).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withDefaults, type VmSpecInput } from "../../../src/hypervisor/defaults.ts";
import { createLibvirtHypervisor } from "../../../src/hypervisor/libvirt/index.ts";
import * as ffi from "../../../src/hypervisor/libvirt/ffi/index.ts";
import { createMockHypervisor } from "../../../src/hypervisor/mock/index.ts";
import type { Connector } from "../../../src/hypervisor/storage/reachability.ts";
import type { Hypervisor, VmSpec } from "../../../src/hypervisor/types.ts";
import { expectKind } from "../contract.ts";

const root = mkdtempSync(join(tmpdir(), "lq12b-"));
const run = crypto.randomUUID().slice(0, 8);
const P = `lq12b-${run}`;
const MIB = 1 << 20;
const SECRET = "2ec115d7-3a88-4ceb-bc12-0ac909a6fd87";
const pools = { rbd: `${P}-rbd`, dead: `${P}-dead`, vg: `${P}-vg`, lun: `${P}-lun` };
let hv: Hypervisor;
let keeper: ffi.Connection;
const dials: string[] = [];
const refuse: Connector = async (ep) => {
  dials.push(`${ep.host}:${ep.port}`);
  throw new Error("connection refused");
};

const poolXml: Record<keyof typeof pools, string> = {
  rbd: `<pool type='rbd'><name>${pools.rbd}</name><source><name>vms</name><host name='10.0.0.11' port='6789'/><host name='10.0.0.12'/><auth type='ceph' username='libvirt'><secret uuid='${SECRET}'/></auth></source></pool>`,
  dead: `<pool type='rbd'><name>${pools.dead}</name><source><name>vms</name><host name='mon.dead.test' port='6789'/></source></pool>`,
  vg: `<pool type='logical'><name>${pools.vg}</name><source><name>vg_${run}</name><format type='lvm2'/></source><target><path>/dev/vg_${run}</path></target></pool>`,
  lun: `<pool type='iscsi'><name>${pools.lun}</name><source><host name='192.0.2.10'/><device path='iqn.2026-01.com.example:vms'/></source><target><path>/dev/disk/by-path</path></target></pool>`,
};

let n = 0;
const spec = (input: Partial<VmSpecInput>): VmSpec => withDefaults({ name: `${P}-${++n}`, memoryMib: 128, ...input });
const domainXml = (id: string) => ffi.withDomain(keeper, id, (d) => ffi.domainXml(keeper, d)).replace(/>\s+</g, "><");

beforeAll(async () => {
  keeper = ffi.openConnection(ffi.loadLibvirt(), "test:///default");
  for (const [key, xml] of Object.entries(poolXml)) {
    const p = ffi.definePool(keeper, xml);
    if (key !== "dead") ffi.startPool(keeper, p);
    ffi.freePool(keeper, p);
  }
  hv = await createLibvirtHypervisor({
    uri: "test:///default",
    storagePath: join(root, "vms"),
    consoleListen: "127.0.0.1",
    poolName: `${P}-own`,
    poolSize: 2,
    probe: { connect: refuse, timeoutMs: 200 },
  });
});
afterAll(async () => {
  for (const vm of await hv.listVms()) if (vm.name.startsWith(P)) await hv.deleteVm(vm.id, { deleteDisks: false, force: true });
  await hv.close();
  ffi.forEachPool(keeper, 0, (p) => {
    if (!ffi.poolName(keeper, p).startsWith(P)) return;
    if (ffi.poolIsActive(keeper, p)) ffi.stopPool(keeper, p);
    ffi.undefinePool(keeper, p);
  });
  ffi.closeConnection(keeper);
  rmSync(root, { recursive: true, force: true });
});

describe("disks in an RBD pool", () => {
  test("created as raw volumes of the pool, a network disk with monitors and secret, read back with pool and volume", async () => {
    const id = crypto.randomUUID();
    const { vm } = await hv.createVm(
      id,
      spec({
        disks: [
          { id: "root", pool: pools.rbd, newImage: { sizeBytes: 4 * MIB, format: "qcow2" }, bootOrder: 1 },
          { id: "data", pool: pools.rbd, volume: "data-1", newImage: { sizeBytes: 2 * MIB } },
        ],
      }),
    );
    const [r, d] = vm.spec.disks;
    expect(r).toMatchObject({ pool: pools.rbd, resolvedPath: `vms/${id}-root`, newImage: { sizeBytes: 4 * MIB, format: "qcow2" } });
    expect(d).toMatchObject({ pool: pools.rbd, volume: "data-1", resolvedPath: "vms/data-1" });
    const xml = domainXml(id);
    expect(xml).toContain(`<disk type='network' device='disk'><driver name='qemu' type='raw' cache='writeback' discard='unmap'/>`);
    expect(xml).toContain(`<auth username='libvirt'><secret type='ceph' uuid='${SECRET}'/></auth>`);
    expect(xml).toContain(`<source protocol='rbd' name='vms/data-1'><host name='10.0.0.11' port='6789'/><host name='10.0.0.12' port='6789'/></source>`);
    const vols = await hv.listVolumes(pools.rbd);
    expect(vols.map((v) => [v.name, v.sizeBytes, v.format, v.attachedTo])).toEqual(
      [
        [`${id}-root`, 4 * MIB, "raw", id],
        ["data-1", 2 * MIB, "raw", id],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    // The same request again is the same vm.
    expect((await hv.createVm(id, spec({ name: vm.name, disks: vm.spec.disks.map(({ resolvedPath: _r, target: _t, ...x }) => x) }))).created).toBe(false);

    const refused = await hv.destroyPool(pools.rbd).then(
      () => new Error("destroyed"),
      (e: Error) => e,
    );
    expect(refused).toMatchObject({ kind: "invalid_state" });
    expect(refused.message).toContain(`vm ${vm.name} (${id})`);
    await expectKind(hv.deleteVolume(pools.rbd, "data-1"), "invalid_state");
    // Resize goes to virStorageVolResize, which this driver lacks (the real tier has it).
    const resize = await hv.resizeVolume(pools.rbd, "data-1", 8 * MIB).then(
      () => new Error("resized"),
      (e: Error) => e,
    );
    expect(resize.message).toContain("virStorageVolResize");
    await expectKind(hv.resizeVolume(pools.rbd, "data-1", MIB), "invalid_argument");

    const { deletedDisks } = await hv.deleteVm(id, { deleteDisks: true, force: true });
    expect(deletedDisks.sort()).toEqual([`vms/${id}-root`, "vms/data-1"].sort());
    expect(await hv.listVolumes(pools.rbd)).toEqual([]);
  });

  test("an existing volume without a size is used; a missing one is not_found; a CD-ROM or a path there is refused", async () => {
    await hv.createVolume(pools.rbd, { name: "golden", sizeBytes: 2 * MIB, format: "raw", source: { kind: "empty" } });
    const { vm } = await hv.createVm(crypto.randomUUID(), spec({ disks: [{ id: "root", pool: pools.rbd, volume: "golden", bootOrder: 1 }] }));
    expect(vm.spec.disks[0]).toMatchObject({ volume: "golden", resolvedPath: "vms/golden" });
    const { deletedDisks } = await hv.deleteVm(vm.id, { deleteDisks: false, force: true });
    expect(deletedDisks).toEqual([]);
    await expectKind(hv.createVm(crypto.randomUUID(), spec({ disks: [{ id: "root", pool: pools.rbd, volume: "ghost" }] })), "not_found");
    await expectKind(
      hv.createVm(crypto.randomUUID(), spec({ disks: [{ id: "cd", device: "cdrom", bus: "sata", pool: pools.rbd, volume: "x.iso" }] })),
      "invalid_argument",
    );
    await hv.deleteVolume(pools.rbd, "golden");
  });

  test("a pool that is not active with monitors that do not answer: unavailable naming them, in bounded time, nothing made", async () => {
    dials.length = 0;
    const err = await hv.createVm(crypto.randomUUID(), spec({ disks: [{ id: "root", pool: pools.dead, newImage: { sizeBytes: MIB } }] })).then(
      () => new Error("created"),
      (e: Error) => e,
    );
    expect(err).toMatchObject({ kind: "unavailable" });
    expect(err.message).toContain(`Ceph monitors of storage pool ${pools.dead} not reachable`);
    expect(err.message).toContain("mon.dead.test:6789: connection refused");
    expect(dials).toEqual(["mon.dead.test:6789"]);
    expect((await hv.listVms()).filter((v) => v.spec.disks.some((d) => d.pool === pools.dead))).toEqual([]);
  });
});

describe("disks in LVM and iSCSI pools", () => {
  test("LVM: a block disk by /dev/<vg>/<lv>; a backing volume is copied in full, at least its size; a file backing is refused", async () => {
    await hv.createVolume(pools.vg, { name: "base", sizeBytes: 3 * MIB, format: "raw", source: { kind: "empty" } });
    const id = crypto.randomUUID();
    const { vm } = await hv.createVm(id, spec({ disks: [{ id: "root", pool: pools.vg, newImage: { sizeBytes: MIB, backingPath: "base" }, bootOrder: 1 }] }));
    expect(vm.spec.disks[0]).toMatchObject({ pool: pools.vg, resolvedPath: `/dev/vg_${run}/${id}-root`, newImage: { backingPath: "base" } });
    expect(domainXml(id)).toContain(
      `<disk type='block' device='disk'><driver name='qemu' type='raw' cache='none' io='native' discard='unmap'/><source dev='/dev/vg_${run}/${id}-root'/>`,
    );
    const copy = (await hv.listVolumes(pools.vg)).find((v) => v.name === `${id}-root`);
    expect(copy).toMatchObject({ sizeBytes: 3 * MIB, format: "raw", attachedTo: id });
    expect(copy?.backingPath).toBeUndefined();
    const file = await hv
      .createVm(
        crypto.randomUUID(),
        spec({ disks: [{ id: "root", pool: pools.vg, newImage: { sizeBytes: MIB, backingPath: "/var/lib/images/debian.qcow2" } }] }),
      )
      .then(
        () => new Error("created"),
        (e: Error) => e,
      );
    expect(file).toMatchObject({ kind: "invalid_state" });
    expect(file.message).toContain("is not a volume of LVM (iSCSI volume group) pool");
    const refused = await hv.destroyPool(pools.vg).then(
      () => new Error("destroyed"),
      (e: Error) => e,
    );
    expect(refused.message).toContain(`vm ${vm.name} (${id})`);
    expect((await hv.deleteVm(id, { deleteDisks: true, force: true })).deletedDisks).toEqual([`/dev/vg_${run}/${id}-root`]);
    expect((await hv.listVolumes(pools.vg)).map((v) => v.name)).toEqual(["base"]);
  });

  test("iSCSI: an existing LUN is a block disk, kept on delete; a new one cannot be made (named as such)", async () => {
    await hv.createVolume(pools.lun, { name: "unit:0:0:1", sizeBytes: 4 * MIB, format: "raw", source: { kind: "empty" } });
    const id = crypto.randomUUID();
    const { vm } = await hv.createVm(id, spec({ disks: [{ id: "root", pool: pools.lun, volume: "unit:0:0:1", bootOrder: 1 }] }));
    expect(vm.spec.disks[0]).toMatchObject({ pool: pools.lun, volume: "unit:0:0:1", resolvedPath: "/dev/disk/by-path/unit:0:0:1" });
    expect(domainXml(id)).toContain(`<disk type='block' device='disk'>`);
    expect((await hv.deleteVm(id, { deleteDisks: true, force: true })).deletedDisks).toEqual([]);
    expect((await hv.listVolumes(pools.lun)).map((v) => v.name)).toEqual(["unit:0:0:1"]);
    const err = await hv.createVm(crypto.randomUUID(), spec({ disks: [{ id: "root", pool: pools.lun, newImage: { sizeBytes: MIB } }] })).then(
      () => new Error("created"),
      (e: Error) => e,
    );
    expect(err).toMatchObject({ kind: "unsupported" });
    expect(err.message).toContain("are its target's LUNs");
  });

  test("AttachDisk: the volume is made in the pool; when the attach fails (this driver cannot) it is deleted again", async () => {
    const id = crypto.randomUUID();
    await hv.createVm(id, spec({ disks: [] }));
    const disk = {
      id: "extra",
      pool: pools.vg,
      volume: "extra",
      newImage: { sizeBytes: MIB, format: "raw" as const },
      bus: "virtio" as const,
      bootOrder: 0,
      readonly: false,
      device: "disk" as const,
    };
    const err = await hv.attachDisk(id, disk).then(
      () => new Error("attached"),
      (e: Error) => e,
    );
    expect(err.message).toContain("virDomainAttachDeviceFlags");
    expect((await hv.listVolumes(pools.vg)).map((v) => v.name)).toEqual(["base"]);
    await hv.deleteVm(id, { deleteDisks: true, force: true });
  });
});

describe("the mock follows the same rule", () => {
  test("RBD and iSCSI volume group disks: raw volumes by name, the source libvirt would name, deleted with the vm", async () => {
    const m = createMockHypervisor({ storagePath: join(root, "mock"), bootMs: 0 });
    try {
      await m.initPool({
        id: "ceph",
        type: "rbd",
        ceph: { clusterId: "", pool: "vms", monitors: [{ host: "mon1", port: 6789 }], user: "admin", keyringPath: "", namespace: "", secretUuid: SECRET },
      });
      await m.initPool({
        id: "san",
        type: "iscsi",
        iscsi: { portal: { host: "san", port: 3260 }, target: "iqn.2026-01.com.example:vms", lun: 0, volumeGroup: "vg0" },
      });
      const id = crypto.randomUUID();
      const { vm } = await m.createVm(
        id,
        spec({
          disks: [
            { id: "root", pool: "ceph", newImage: { sizeBytes: 4 * MIB, format: "qcow2" }, bootOrder: 1 },
            { id: "data", pool: "san", volume: "data", newImage: { sizeBytes: 2 * MIB } },
          ],
        }),
      );
      expect(vm.spec.disks.map((d) => d.resolvedPath)).toEqual([`vms/${id}-root`, "/dev/vg0/data"]);
      expect((await m.listVolumes("ceph")).map((v) => [v.name, v.format, v.attachedTo])).toEqual([[`${id}-root`, "raw", id]]);
      await expectKind(m.destroyPool("ceph"), "invalid_state");
      await expectKind(
        m.createVm(crypto.randomUUID(), spec({ disks: [{ id: "root", pool: "san", newImage: { sizeBytes: MIB, backingPath: "/x.qcow2" } }] })),
        "invalid_state",
      );
      expect((await m.deleteVm(id, { deleteDisks: true, force: true })).deletedDisks).toEqual([`vms/${id}-root`, "/dev/vg0/data"]);
      expect(await m.listVolumes("ceph")).toEqual([]);
    } finally {
      await m.close();
    }
  });
});
