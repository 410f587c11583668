// resolveIsoPath, cdromForDevice and the node's own CD-ROMs.

import { describe, expect, test } from "bun:test";
import {
  cdromForDevice,
  cdromOfVm,
  cloudInitCdrom,
  emptyCdrom,
  fakeStorageFs,
  resolveIsoPath,
  withNodeCdroms,
  withoutNodeCdroms,
} from "../../../src/hypervisor/storage/index.ts";
import type { DiskSpec } from "../../../src/hypervisor/types.ts";
import { expectKind } from "../contract-helpers.ts";

describe("resolveIsoPath", () => {
  const pools = [
    { id: "default", path: "/var/lib/lq/vms" },
    { id: "nfs", path: "/mnt/nfs" },
  ];
  const fs = fakeStorageFs(
    [
      "/mnt/nfs/iso/debian.iso",
      "/mnt/nfs/alpine.iso",
      "/mnt/nfs/isos/fedora.iso",
      "/var/lib/lq/isos/win.iso",
      "/etc/passwd",
      "/mnt/nfs/iso/dup.iso",
      "/var/lib/lq/vms/dup.iso",
    ],
    { "/mnt/nfs/iso/link.iso": "/etc/passwd", "/mnt/nfs/linkdir": "/etc" },
  );
  const extra = ["/var/lib/lq/isos"];

  test.each([
    ["as given under a pool", "iso/debian.iso", "/mnt/nfs/iso/debian.iso"],
    ["by basename at a pool's root", "iso/alpine.iso", "/mnt/nfs/alpine.iso"],
    ["by basename under iso/", "elsewhere/debian.iso", "/mnt/nfs/iso/debian.iso"],
    ["by basename under isos/", "iso/fedora.iso", "/mnt/nfs/isos/fedora.iso"],
    ["in the ISO folder after every pool", "iso/win.iso", "/var/lib/lq/isos/win.iso"],
    ["pools in order: the first pool wins", "dup.iso", "/var/lib/lq/vms/dup.iso"],
    [".. that stays inside is fine", "iso/../alpine.iso", "/mnt/nfs/alpine.iso"],
  ])("%s", async (_n, rel, want) => {
    expect(await resolveIsoPath(rel, pools, extra, fs)).toBe(want);
  });

  test("neither .. nor a symlink may escape a pool", async () => {
    for (const rel of ["../../../etc/passwd", "iso/link.iso", "linkdir/passwd"]) {
      const err = await expectKind(resolveIsoPath(rel, pools, extra, fs), "not_found");
      expect(err.message).not.toContain("/etc/passwd found");
    }
  });

  test("unresolved: not_found naming the folders and the names tried", async () => {
    const err = await expectKind(resolveIsoPath("iso/ghost.iso", pools, extra, fs, "spec.disks[1].iso_path"), "not_found");
    expect(err.message).toBe(
      'spec.disks[1].iso_path: ISO "iso/ghost.iso" not found in any storage pool or ISO folder ' +
        "(looked in /var/lib/lq/vms, /mnt/nfs, /var/lib/lq/isos for iso/ghost.iso, ghost.iso, isos/ghost.iso)",
    );
  });

  test("absolute and empty names are invalid_argument", async () => {
    await expectKind(resolveIsoPath("/mnt/nfs/alpine.iso", pools, extra, fs), "invalid_argument");
    await expectKind(resolveIsoPath("", pools, extra, fs), "invalid_argument");
  });
});

const d = (id: string, device: "disk" | "cdrom" = "disk"): DiskSpec => ({
  id,
  device,
  bus: device === "cdrom" ? "sata" : "virtio",
  bootOrder: 0,
  readonly: device === "cdrom",
});

describe("cdromForDevice", () => {
  const cloud = { id: "cloud-init" };
  test.each([
    ["the contract's example: 1 disk, cloud-init first, sdb is the first user CD-ROM", [cloud, { id: "install" }], 1, "sdb", "install"],
    ["without cloud-init the same", [{ id: "install" }], 1, "sdb", "install"],
    ["second user CD-ROM", [cloud, { id: "a" }, { id: "b" }], 1, "sdc", "b"],
    ["no disks", [{ id: "a" }, { id: "b" }], 0, "sdb", "b"],
    ["three disks", [cloud, { id: "a" }], 3, "sdd", "a"],
  ] as const)("%s", (_n, cdroms, disks, device, want) => {
    expect(cdromForDevice(cdroms, disks, device).id).toBe(want);
  });

  test("out of range: not_found naming the device, the disk count and the CD-ROM ids", () => {
    expect(() => cdromForDevice([{ id: "cloud-init" }, { id: "install" }], 1, "sdc")).toThrow(
      "device: sdc is CD-ROM number 2 after the vm's 1 disk, but the vm has 1 CD-ROM (install; the cloud-init drive is not counted)",
    );
    expect(() => cdromForDevice([{ id: "install" }], 2, "sda")).toThrow(expect.objectContaining({ kind: "not_found" }));
    expect(() => cdromForDevice([{ id: "cloud-init" }], 0, "sda")).toThrow("has 0 CD-ROMs (none;");
  });

  test.each(["sd", "vda", "sdA", "sdaa", "hdc", ""])("malformed %p is invalid_argument", (device) => {
    expect(() => cdromForDevice([{ id: "x" }], 0, device)).toThrow(expect.objectContaining({ kind: "invalid_argument", field: "device" }));
  });

  test("over a vm's disk list: disks counted, CD-ROMs in order", () => {
    const disks = [d("root"), cloudInitCdrom("/x/ci.iso"), d("data"), d("cdrom-0", "cdrom")];
    expect(cdromOfVm(disks, "sdc").id).toBe("cdrom-0");
  });
});

describe("the node's CD-ROMs", () => {
  test("an empty drive when none was asked for; cloud-init first among CD-ROMs", () => {
    expect(withNodeCdroms([d("root")])).toEqual([d("root"), emptyCdrom("cdrom-0")]);
    expect(withNodeCdroms([d("root")], "/s/vm-cloud-init.iso")).toEqual([d("root"), cloudInitCdrom("/s/vm-cloud-init.iso"), emptyCdrom("cdrom-0")]);
    expect(withNodeCdroms([d("root"), d("inst", "cdrom"), d("data")], "/s/ci.iso").map((x) => x.id)).toEqual(["root", "cloud-init", "inst", "data"]);
    expect(withNodeCdroms([d("root"), d("inst", "cdrom")]).map((x) => x.id)).toEqual(["root", "inst"]);
    expect(withNodeCdroms([d("cdrom-0")]).map((x) => x.id)).toEqual(["cdrom-0", "cdrom-1"]);
  });

  test("the reserved id is refused", () => {
    expect(() => withNodeCdroms([d("root"), d("cloud-init", "cdrom")])).toThrow(
      expect.objectContaining({ kind: "invalid_argument", field: "spec.disks[1].id" }),
    );
  });

  test("leaving them out again gives back the request, whatever medium the empty drive got since", () => {
    const requested = [d("root")];
    const existing = withNodeCdroms(requested, "/s/ci.iso").map((x) => (x.id === "cdrom-0" ? { ...x, path: "/isos/later.iso" } : x));
    expect(withoutNodeCdroms(existing, requested)).toEqual(requested);
    const withCd = [d("root"), d("cdrom-0", "cdrom")];
    // A CD-ROM the caller asked for is compared, not dropped.
    expect(withoutNodeCdroms(withNodeCdroms(withCd), withCd)).toEqual(withCd);
  });
});
