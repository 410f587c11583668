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

export function diskDef(disk: DiskSpec, format: DiskFormat, field = "disk"): DiskDef {
  if (disk.target === undefined) {
    throw new HypervisorError("invalid_argument", `${field}.target: no guest device name assigned`, `${field}.target`);
  }
  const source = disk.resolvedPath ?? disk.path;
  if (source === undefined && disk.device === "disk") {
    throw new HypervisorError("invalid_argument", `${field}: disk has no image path`, `${field}.path`);
  }
  const cdrom = disk.device === "cdrom";
  return {
    type: "file",
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
): { disks: DiskDef[]; controllers: ControllerDef[] } {
  const defs = disks.map((disk, i) => diskDef(disk, diskFormat(disk, formats), `spec.disks[${i}]`));
  const controllers: ControllerDef[] = disks.some((d) => d.bus === "scsi")
    ? [{ type: "scsi", index: 0, model: "virtio-scsi" }]
    : [];
  return { disks: defs, controllers };
}
