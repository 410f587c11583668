// <disk> per spec disk, plus the virtio-scsi controller SCSI disks need (libvirt would otherwise
// pick an LSI controller, which q35 machines do not offer). The bus is the one the machine gives
// (busOnMachine: IDE becomes SATA on q35). I/O limits are libvirt's <iotune> totals: IOPS as
// given, MB/s as bytes per second (decimal megabytes, as disk vendors count).

import type { DiskFormat, DiskSpec } from "../../../types.ts";
import { HypervisorError } from "../../../errors.ts";
import { busOnMachine } from "../../../disk-targets.ts";
import type { ControllerDef, DiskDef, IotuneDef, NetworkDiskSourceDef } from "../model.ts";
import { diskAlias } from "../user-alias.ts";

export const BYTES_PER_MB = 1_000_000;

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
function checkDisk(disk: DiskSpec, field: string): void {
  const refuse = (sub: string, rule: string) => {
    throw new HypervisorError("invalid_argument", `${field}.${sub}: ${rule}`, `${field}.${sub}`);
  };
  if (disk.device === "cdrom" && disk.bus === "virtio") refuse("bus", "a cdrom cannot be on the virtio bus; use sata or scsi");
  if (disk.device === "disk" && disk.readonly && (disk.bus === "sata" || disk.bus === "ide")) {
    refuse("readonly", `QEMU has no read-only ${disk.bus} disks; use virtio or scsi`);
  }
}

/** <iotune> for the disk's limits; undefined when it has none (0 and undefined are unlimited). */
export function iotuneOf(disk: Pick<DiskSpec, "iopsLimit" | "throughputMbps">): IotuneDef | undefined {
  const iops = disk.iopsLimit ?? 0;
  const mbps = disk.throughputMbps ?? 0;
  if (iops <= 0 && mbps <= 0) return undefined;
  const out: IotuneDef = {};
  if (mbps > 0) out.totalBytesSec = mbps * BYTES_PER_MB;
  if (iops > 0) out.totalIopsSec = iops;
  return out;
}

/**
 * `machine` is undefined for hot-plug: the bus is then written as asked. `network`: the disk is
 * a volume of a Ceph pool, served by QEMU's librbd (resolvedPath is then "<rbd pool>/<image>").
 */
export function diskDef(disk: DiskSpec, format: DiskFormat, field = "disk", machine?: string, network?: NetworkDiskSourceDef): DiskDef {
  checkDisk(disk, field);
  if (disk.target === undefined) {
    throw new HypervisorError("invalid_argument", `${field}.target: no guest device name assigned`, `${field}.target`);
  }
  const source = disk.resolvedPath ?? disk.path;
  if (source === undefined && disk.device === "disk") {
    throw new HypervisorError("invalid_argument", `${field}: disk has no image path`, `${field}.path`);
  }
  const cdrom = disk.device === "cdrom";
  const def: DiskDef = {
    // Host block devices (LVM volumes, iSCSI LUNs, partitions) are type='block' with <source dev>.
    type: network ? "network" : source?.startsWith("/dev/") ? "block" : "file",
    device: disk.device,
    // cache=none + io=native: no host page cache (safe for migration, no double caching);
    // discard=unmap lets guest TRIM shrink sparse images. A cdrom is read whole, keep defaults.
    // RBD: librbd's own cache in writeback mode (it honours guest flushes; Ceph's advice for
    // QEMU), and no io=native, which libvirt allows only without a cache.
    driver: cdrom
      ? { name: "qemu", type: format }
      : network
        ? { name: "qemu", type: format, cache: "writeback", discard: "unmap" }
        : { name: "qemu", type: format, cache: "none", io: "native", discard: "unmap" },
    source,
    target: { dev: disk.target, bus: busOnMachine(disk.bus, machine) },
    bootOrder: disk.bootOrder > 0 ? disk.bootOrder : undefined,
    readonly: cdrom || disk.readonly,
    alias: diskAlias(disk.id),
  };
  if (network) def.network = network;
  const iotune = iotuneOf(disk);
  if (iotune) def.iotune = iotune;
  return def;
}

const networkOf = (networks: Record<string, NetworkDiskSourceDef> | undefined, id: string) =>
  networks && Object.hasOwn(networks, id) ? networks[id] : undefined;

export function configureDisks(
  disks: DiskSpec[],
  formats: Record<string, DiskFormat> | undefined,
  machine: string,
  networks?: Record<string, NetworkDiskSourceDef>,
): { disks: DiskDef[]; controllers: ControllerDef[] } {
  const defs = disks.map((disk, i) => diskDef(disk, diskFormat(disk, formats), `spec.disks[${i}]`, machine, networkOf(networks, disk.id)));
  const controllers: ControllerDef[] = defs.some((d) => d.target.bus === "scsi") ? [{ type: "scsi", index: 0, model: "virtio-scsi" }] : [];
  return { disks: defs, controllers };
}
