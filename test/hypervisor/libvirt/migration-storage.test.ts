// Which disks a migration copies (migration-storage.ts) and the parameters and flags it hands
// libvirt: only local disks, never a shared one, and nothing for a stopped VM.

import { describe, expect, test } from "bun:test";
import type { DiskSpec } from "../../../src/hypervisor/types.ts";
import { MIGRATE } from "../../../src/hypervisor/libvirt/ffi/flags.ts";
import { migrationFlags, migrationParams } from "../../../src/hypervisor/libvirt/migration.ts";
import { disksToCopy, localDisks, unsafeMigrationError } from "../../../src/hypervisor/libvirt/migration-storage.ts";

const disk = (target: string, resolvedPath: string | undefined, extra: Partial<DiskSpec> = {}): DiskSpec => ({
  id: target,
  target,
  bus: "virtio",
  bootOrder: 0,
  readonly: false,
  device: "disk",
  ...(resolvedPath !== undefined ? { resolvedPath } : {}),
  ...extra,
});

const root = disk("vda", "/var/lib/limiquantix/vms/x-root.qcow2");
const block = disk("vdc", "/dev/vg0/data");
// A network disk's source is a name (NBD export, RBD image), not a path.
const nbd = disk("vdb", "disk0");
const iso = disk("sda", "/var/lib/limiquantix/iso/debian.iso", { device: "cdrom", readonly: true });
const emptyCd = disk("sdb", undefined, { device: "cdrom", readonly: true });
const readonlyImage = disk("vdd", "/srv/base.img", { readonly: true });

describe("disks a migration copies", () => {
  test("local: files and block devices that are written; not network disks, CD-ROMs or read-only images", () => {
    expect(localDisks([root, block, nbd, iso, emptyCd, readonlyImage]).map((d) => d.target)).toEqual(["vda", "vdc"]);
  });

  test("with storage, a running VM copies exactly its local disks", () => {
    expect(disksToCopy("x", [root, nbd, iso], true, true)).toEqual(["vda"]);
    // Without storage, or with nothing local, nothing is copied (and no copy flag is set).
    expect(disksToCopy("x", [root, nbd], false, true)).toBeUndefined();
    expect(disksToCopy("x", [nbd, iso], true, true)).toBeUndefined();
  });

  test("a stopped VM with local disks and storage is refused, naming the disks", () => {
    expect(() => disksToCopy("x", [root], true, false)).toThrow(/vda \(\/var\/lib\/limiquantix\/vms\/x-root.qcow2\).*start it and migrate it live/);
    // Its shared disks do not need a copy: an offline move is fine.
    expect(disksToCopy("x", [nbd], true, false)).toBeUndefined();
  });

  test("libvirt's unsafe migration becomes a precondition naming the local disks", () => {
    const err = unsafeMigrationError("x", [root, nbd], "Unsafe migration: Migration without shared storage is unsafe");
    expect(err.kind).toBe("invalid_state");
    expect(err.message).toContain("its disks vda (/var/lib/limiquantix/vms/x-root.qcow2) are local to this node; set storage");
  });

  test("flags and parameters", () => {
    const base = MIGRATE.PEER2PEER | MIGRATE.PERSIST_DEST | MIGRATE.UNDEFINE_SOURCE | MIGRATE.ABORT_ON_ERROR | MIGRATE.LIVE;
    const opts = { targetUri: "qemu+tcp://b/system", live: true, copyStorage: true, bandwidthMibPerS: 64 };
    expect(migrationFlags(opts, true, false)).toBe(base);
    expect(migrationFlags(opts, true, true)).toBe(base | MIGRATE.NON_SHARED_DISK);
    expect(migrationParams(opts, ["vda"])).toEqual({ bandwidth: 64n, migrate_disks: ["vda"] });
    expect(migrationParams({ ...opts, bandwidthMibPerS: undefined })).toEqual({});
  });
});
