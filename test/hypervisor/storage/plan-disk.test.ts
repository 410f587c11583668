// planDisk over a fake file tree: where each kind of DiskSpec ends up, and the errors.

import { describe, expect, test } from "bun:test";
import { fakeStorageFs, planDisk, type DiskPlan, type PoolDir } from "../../../src/hypervisor/storage/index.ts";
import type { DiskSpec } from "../../../src/hypervisor/types.ts";
import { expectKind } from "../contract-helpers.ts";

const VM = "2f1c4e8a-0b6d-4c3e-9a51-7d2e8f0a1b3c";
const pools: PoolDir[] = [
  { id: "default", path: "/var/lib/lq/vms" },
  { id: "fast", path: "/srv/fast" },
  { id: "0b8e1c52-6f0e-4d8c-9d55-2a4f1b9c7e10", path: "/mnt/nfs-pool" },
];
const fs = fakeStorageFs(
  [
    "/var/lib/lq/vms/existing.qcow2",
    "/var/lib/lq/vms/plain",
    "/srv/fast/data.raw",
    "/srv/fast/vol-1.img",
    "/srv/fast/src-volume.qcow2",
    "/mnt/nfs-pool/shared-base.qcow2",
    "/var/lib/lq/vms/cloud/ubuntu-24.04.qcow2",
    "/etc/shadow",
    "/var/lib/lq/vms/iso/debian.iso",
    "/absolute/base.qcow2",
  ],
  { "/srv/fast/escape.qcow2": "/etc/shadow", "/var/lib/lq/vms/cloud/evil.qcow2": "/etc/shadow" },
);
const opts = { field: "spec.disks[0]", cloudImagesDir: "/var/lib/lq/vms/cloud", isoDirs: ["/var/lib/lq/isos"] };

const disk = (d: Partial<DiskSpec>): DiskSpec => ({ id: "root", bus: "virtio", bootOrder: 0, readonly: false, device: "disk", ...d });
const img = (sizeBytes: number, extra: Partial<DiskSpec["newImage"] & object> = {}) => ({ sizeBytes, format: "qcow2" as const, ...extra });

describe("planDisk", () => {
  const cases: [string, Partial<DiskSpec>, DiskPlan][] = [
    ["an absolute path is used as given", { path: "/images/x.qcow2" }, { kind: "existing", path: "/images/x.qcow2" }],
    ["a volume by its exact name in the default pool", { volume: "plain" }, { kind: "existing", path: "/var/lib/lq/vms/plain" }],
    ["a volume found with .qcow2 appended", { volume: "existing" }, { kind: "existing", path: "/var/lib/lq/vms/existing.qcow2" }],
    ["a volume in a named pool with .raw appended", { volume: "data", pool: "fast" }, { kind: "existing", path: "/srv/fast/data.raw" }],
    ["a volume with .img appended", { volume: "vol-1", pool: "fast" }, { kind: "existing", path: "/srv/fast/vol-1.img" }],
    ["an existing volume wins over newImage", { volume: "existing", newImage: img(1 << 30) }, { kind: "existing", path: "/var/lib/lq/vms/existing.qcow2" }],
    [
      "a missing volume with newImage is created under its name plus the format's extension",
      { volume: "0b0c", newImage: img(1 << 30), pool: "fast" },
      { kind: "create", poolId: "fast", dir: "/srv/fast", name: "0b0c.qcow2", path: "/srv/fast/0b0c.qcow2", image: img(1 << 30) },
    ],
    [
      "a missing volume already named with an extension keeps it",
      { volume: "new.raw", newImage: { sizeBytes: 1 << 20, format: "raw" } },
      {
        kind: "create",
        poolId: "default",
        dir: "/var/lib/lq/vms",
        name: "new.raw",
        path: "/var/lib/lq/vms/new.raw",
        image: { sizeBytes: 1 << 20, format: "raw" },
      },
    ],
    [
      "newImage alone gets <vm>-<disk>.<format> in the default pool",
      { newImage: img(1 << 30) },
      { kind: "create", poolId: "default", dir: "/var/lib/lq/vms", name: `${VM}-root.qcow2`, path: `/var/lib/lq/vms/${VM}-root.qcow2`, image: img(1 << 30) },
    ],
    [
      "a relative backing file is found in the disk's pool",
      { newImage: img(1 << 30, { backingPath: "src-volume" }), pool: "fast" },
      {
        kind: "create",
        poolId: "fast",
        dir: "/srv/fast",
        name: `${VM}-root.qcow2`,
        path: `/srv/fast/${VM}-root.qcow2`,
        image: img(1 << 30, { backingPath: "src-volume" }),
        backingPath: "/srv/fast/src-volume.qcow2",
      },
    ],
    [
      "a relative backing file is found in another pool",
      { newImage: img(1 << 30, { backingPath: "shared-base" }) },
      {
        kind: "create",
        poolId: "default",
        dir: "/var/lib/lq/vms",
        name: `${VM}-root.qcow2`,
        path: `/var/lib/lq/vms/${VM}-root.qcow2`,
        image: img(1 << 30, { backingPath: "shared-base" }),
        backingPath: "/mnt/nfs-pool/shared-base.qcow2",
      },
    ],
    [
      "a cloud image name is found in the cloud images folder",
      { newImage: img(1 << 30, { backingPath: "ubuntu-24.04.qcow2" }) },
      {
        kind: "create",
        poolId: "default",
        dir: "/var/lib/lq/vms",
        name: `${VM}-root.qcow2`,
        path: `/var/lib/lq/vms/${VM}-root.qcow2`,
        image: img(1 << 30, { backingPath: "ubuntu-24.04.qcow2" }),
        backingPath: "/var/lib/lq/vms/cloud/ubuntu-24.04.qcow2",
      },
    ],
    [
      "an absolute backing file that exists is kept",
      { newImage: img(1 << 30, { backingPath: "/absolute/base.qcow2" }) },
      {
        kind: "create",
        poolId: "default",
        dir: "/var/lib/lq/vms",
        name: `${VM}-root.qcow2`,
        path: `/var/lib/lq/vms/${VM}-root.qcow2`,
        image: img(1 << 30, { backingPath: "/absolute/base.qcow2" }),
        backingPath: "/absolute/base.qcow2",
      },
    ],
    ["an empty cdrom", { device: "cdrom", bus: "sata", readonly: true }, { kind: "empty" }],
    [
      "a cdrom by pool-relative name",
      { device: "cdrom", bus: "sata", readonly: true, volume: "iso/debian.iso" },
      { kind: "existing", path: "/var/lib/lq/vms/iso/debian.iso" },
    ],
  ];
  test.each(cases)("%s", async (_name, d, plan) => {
    expect(await planDisk(VM, disk(d), pools, fs, opts)).toEqual(plan);
  });

  test("a missing volume without newImage is not_found naming the volume, the pool and the names tried", async () => {
    const err = await expectKind(planDisk(VM, disk({ volume: "ghost", pool: "fast" }), pools, fs, opts), "not_found");
    expect(err.message).toContain('"ghost"');
    expect(err.message).toContain("fast at /srv/fast");
    expect(err.message).toContain("ghost, ghost.qcow2, ghost.raw, ghost.img");
    expect(err).toMatchObject({ field: "spec.disks[0].path" });
  });

  test("an unknown pool is not_found listing the known pools", async () => {
    const err = await expectKind(planDisk(VM, disk({ volume: "x", pool: "nope" }), pools, fs, opts), "not_found");
    expect(err.message).toContain("0b8e1c52-6f0e-4d8c-9d55-2a4f1b9c7e10, default, fast");
    expect(err).toMatchObject({ field: "spec.disks[0].pool_id" });
  });

  test("a backing file that is nowhere is a failed precondition naming where it looked", async () => {
    const err = await expectKind(planDisk(VM, disk({ newImage: img(1 << 30, { backingPath: "nowhere" }), pool: "fast" }), pools, fs, opts), "invalid_state");
    expect(err).toMatchObject({ field: "spec.disks[0].backing_file" });
    expect(err.message).toContain(
      `backing file "nowhere" not found (looked in /srv/fast, /var/lib/lq/vms, /mnt/nfs-pool, /var/lib/lq/vms/cloud for nowhere, nowhere.qcow2, nowhere.raw, nowhere.img)`,
    );

    const abs = await expectKind(planDisk(VM, disk({ newImage: img(1 << 30, { backingPath: "/gone/base.qcow2" }) }), pools, fs, opts), "invalid_state");
    expect(abs.message).toContain("backing file /gone/base.qcow2 not found");
  });

  test("a backing file or volume may not lead outside its folder by .. or a symlink", async () => {
    for (const backingPath of ["../../../etc/shadow", "escape", "evil"]) {
      await expectKind(planDisk(VM, disk({ newImage: img(1 << 30, { backingPath }), pool: "fast" }), pools, fs, opts), "invalid_state");
    }
    await expectKind(planDisk(VM, disk({ volume: "escape", pool: "fast" }), pools, fs, opts), "not_found");
  });

  test("volume names are one file name; a name saying another format is refused", async () => {
    for (const volume of ["a/b", "..", "."]) {
      const err = await expectKind(planDisk(VM, disk({ volume }), pools, fs, opts), "invalid_argument");
      expect(err).toMatchObject({ field: "spec.disks[0].path" });
    }
    await expectKind(planDisk(VM, disk({ volume: "x.raw", newImage: img(1 << 20) }), pools, fs, opts), "invalid_argument");
  });

  test("a generated name that already exists is refused rather than reused", async () => {
    const taken = fakeStorageFs([`/var/lib/lq/vms/${VM}-root.qcow2`]);
    await expectKind(planDisk(VM, disk({ newImage: img(1 << 20) }), pools, taken, opts), "already_exists");
  });

  test("a disk with nothing to go on is invalid_argument", async () => {
    await expectKind(planDisk(VM, disk({}), pools, fs, opts), "invalid_argument");
  });
});
