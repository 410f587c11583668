// What goes under <metadata><lq:vm>: labels, description, creation time, and the request facts
// libvirt's XML cannot carry, so the spec reads back as it was asked: per disk a new image's
// size and format, the caller's path, volume and pool, the bus when the machine gave another;
// the CPU mode when the XML shows another (host-model, auto); the guest_os profile name; a digest
// of the cloud-init data.
//
// cloud-init data can hold secrets (passwords, keys in user-data), and anyone with a read-only
// libvirt connection may read the domain XML: only its digest is kept here. The data itself is
// only on the NoCloud CD-ROM, a 0600 file libvirt hands to QEMU's user while the VM runs.

import type { VmSpec } from "../../../types.ts";
import { busOnMachine } from "../../../disk-targets.ts";
import { cloudInitDigest } from "../../../defaults.ts";
import type { LqDiskMeta, LqMetadata } from "../model.ts";

/** `machine` as the domain has it (default q35, like buildDomainDef). */
export function configureMetadata(spec: VmSpec, createdAt: Date, machine = "q35"): LqMetadata {
  const disks: LqDiskMeta[] = [];
  for (const disk of spec.disks) {
    const meta: LqDiskMeta = { id: disk.id };
    if (disk.path !== undefined && disk.resolvedPath !== undefined && disk.path !== disk.resolvedPath) meta.path = disk.path;
    if (disk.volume !== undefined && disk.volume !== "") meta.volume = disk.volume;
    if (disk.pool !== undefined && disk.pool !== "") meta.pool = disk.pool;
    if (busOnMachine(disk.bus, machine) !== disk.bus) meta.bus = disk.bus;
    if (disk.newImage) {
      meta.newImage = { sizeBytes: disk.newImage.sizeBytes, format: disk.newImage.format, backingPath: disk.newImage.backingPath };
    }
    if (Object.keys(meta).length > 1) disks.push(meta);
  }
  const meta: LqMetadata = {
    createdAt: createdAt.toISOString(),
    description: spec.description,
    labels: Object.entries(spec.labels).map(([key, value]) => ({ key, value })),
    disks,
  };
  if (spec.cpu.mode === "host-model" || spec.cpu.mode === "auto") meta.cpuMode = spec.cpu.mode;
  if (spec.guestOs !== undefined && spec.guestOs !== "") meta.guestOs = spec.guestOs;
  if (spec.cloudInit) meta.cloudInitDigest = spec.cloudInit.digest ?? cloudInitDigest(spec.cloudInit);
  return meta;
}
