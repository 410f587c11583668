// <disk> per spec disk, plus the virtio-scsi controller SCSI disks need (libvirt would otherwise
// pick an LSI controller, which q35 machines do not offer).

import type { DiskFormat, DiskSpec } from "../../../types.ts";
import { HypervisorError } from "../../../errors.ts";
import type { ControllerDef, DiskDef } from "../model.ts";
import { diskAlias } from "../user-alias.ts";

/** The driver type for a disk: what the caller knows about the image, else its new format, else raw. */
export function diskFormat(disk: DiskSpec, formats: Record<string, DiskFormat> | undefined): DiskFormat {
  if (formats && Object.hasOwn(formats, disk.id)) {
    const known = formats[disk.id];
    if (known) return known;
  }
  return disk.newImage?.format ?? "raw";
}

/**
 * Combinations QEMU cannot run, refused here with the field at fault rather than by libvirt at
 * define or start time with a less helpful message. `machine` is undefined for hot-plug.
 */
function checkDisk(disk: DiskSpec, field: string, machine: string | undefined): void {
  const refuse = (sub: string, rule: string) => {
    throw new HypervisorError("invalid_argument", `${field}.${sub}: ${rule}`, `${field}.${sub}`);
  };
  if (disk.device === "cdrom" && disk.bus === "virtio") refuse("bus", "a cdrom cannot be on the virtio bus; use sata or scsi");
  if (disk.device === "disk" && disk.readonly && (disk.bus === "sata" || disk.bus === "ide")) {
    refuse("readonly", `QEMU has no read-only ${disk.bus} disks; use virtio or scsi`);
  }
  if (disk.bus === "ide" && machine?.includes("q35")) refuse("bus", "q35 machines have no IDE controller; use sata");
}

export function diskDef(disk: DiskSpec, format: DiskFormat, field = "disk", machine?: string): DiskDef {
  checkDisk(disk, field, machine);
  if (disk.target === undefined) {
    throw new HypervisorError("invalid_argument", `${field}.target: no guest device name assigned`, `${field}.target`);
  }
  const source = disk.resolvedPath ?? disk.path;
  if (source === undefined && disk.device === "disk") {
    throw new HypervisorError("invalid_argument", `${field}: disk has no image path`, `${field}.path`);
  }
  const cdrom = disk.device === "cdrom";
  return {
    // Host block devices (LVM volumes, partitions) are type='block' with <source dev>.
    type: source?.startsWith("/dev/") ? "block" : "file",
    device: disk.device,
    // cache=none + io=native: no host page cache (safe for migration, no double caching);
    // discard=unmap lets guest TRIM shrink sparse images. A cdrom is read whole, keep defaults.
    driver: cdrom
      ? { name: "qemu", type: format }
      : { name: "qemu", type: format, cache: "none", io: "native", discard: "unmap" },
    source,
    target: { dev: disk.target, bus: disk.bus },
    bootOrder: disk.bootOrder > 0 ? disk.bootOrder : undefined,
    readonly: cdrom || disk.readonly,
    alias: diskAlias(disk.id),
  };
}

export function configureDisks(
  disks: DiskSpec[],
  formats: Record<string, DiskFormat> | undefined,
  machine: string,
): { disks: DiskDef[]; controllers: ControllerDef[] } {
  const defs = disks.map((disk, i) => diskDef(disk, diskFormat(disk, formats), `spec.disks[${i}]`, machine));
  const controllers: ControllerDef[] = disks.some((d) => d.bus === "scsi")
    ? [{ type: "scsi", index: 0, model: "virtio-scsi" }]
    : [];
  return { disks: defs, controllers };
}
