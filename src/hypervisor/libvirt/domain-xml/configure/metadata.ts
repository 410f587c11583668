// What goes under <metadata><lq:vm>: labels, description, creation time, and the per-disk facts
// libvirt's <disk> cannot carry (a new image's size and format, the caller's original path).

import type { VmSpec } from "../../../types.ts";
import type { LqDiskMeta, LqMetadata } from "../model.ts";

export function configureMetadata(spec: VmSpec, createdAt: Date): LqMetadata {
  const disks: LqDiskMeta[] = [];
  for (const disk of spec.disks) {
    const meta: LqDiskMeta = { id: disk.id };
    if (disk.path !== undefined && disk.resolvedPath !== undefined && disk.path !== disk.resolvedPath) meta.path = disk.path;
    if (disk.newImage) {
      meta.newImage = { sizeBytes: disk.newImage.sizeBytes, format: disk.newImage.format, backingPath: disk.newImage.backingPath };
    }
    if (meta.path !== undefined || meta.newImage) disks.push(meta);
  }
  const meta: LqMetadata = {
    createdAt: createdAt.toISOString(),
    description: spec.description,
    labels: Object.entries(spec.labels).map(([key, value]) => ({ key, value })),
    disks,
  };
  if (spec.cpu.mode === "host-model") meta.cpuMode = "host-model";
  return meta;
}
