// Guest device names (vda, sdb, hdc) as libvirt names them, for both backends. Deterministic:
// explicit targets are kept, then each remaining disk, in spec order, gets the lowest free name
// for its bus.

import type { DiskBus, DiskSpec } from "./types.ts";
import { HypervisorError } from "./errors.ts";

const PREFIX: Record<DiskBus, string> = { virtio: "vd", scsi: "sd", sata: "sd", ide: "hd" };
// IDE has two channels of two devices.
const MAX_INDEX: Record<DiskBus, number> = { virtio: 18277, scsi: 18277, sata: 18277, ide: 3 };

/** 0 -> a, 25 -> z, 26 -> aa (libvirt's virDiskNameParse scheme). */
export function diskSuffix(index: number): string {
  let n = index;
  let out = "";
  do {
    out = String.fromCharCode(97 + (n % 26)) + out;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return out;
}

export function targetPrefix(bus: DiskBus): string {
  return PREFIX[bus];
}

/** The lowest free target on the disk's bus among the disks the VM already has (hot-plug). */
export function nextTarget(bus: DiskBus, existing: readonly DiskSpec[]): string {
  const [disk] = assignDiskTargets([{ id: "new", bus } as DiskSpec], existing.flatMap((d) => (d.target ? [d.target] : [])));
  return disk!.target!;
}

export function assignDiskTargets(disks: DiskSpec[], taken: string[] = []): DiskSpec[] {
  const used = new Set(taken);
  disks.forEach((disk, i) => {
    if (disk.target === undefined) return;
    if (used.has(disk.target)) {
      throw new HypervisorError("invalid_argument", `spec.disks[${i}].target: ${disk.target} is used twice`, `spec.disks[${i}].target`);
    }
    used.add(disk.target);
  });
  return disks.map((disk, i) => {
    if (disk.target !== undefined) return { ...disk };
    for (let index = 0; index <= MAX_INDEX[disk.bus]; index++) {
      const name = PREFIX[disk.bus] + diskSuffix(index);
      if (!used.has(name)) {
        used.add(name);
        return { ...disk, target: name };
      }
    }
    throw new HypervisorError("resource_exhausted", `spec.disks[${i}]: no free ${disk.bus} device name`, `spec.disks[${i}].bus`);
  });
}
