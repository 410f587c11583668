// Guest device names (vda, sdb, hdc) as libvirt names them, for both backends. Deterministic:
// explicit targets are kept, then each remaining disk, in spec order, gets the lowest free name
// for its bus on the machine.
//
// The one place that knows which bus a disk really gets: q35 machines have no IDE controller
// (their AHCI controller is SATA), so a disk or CD-ROM asked for on "ide" is put on SATA there.
// The control plane sends IDE for what its users picked as SATA, so this is the common case, not
// an error. The spec keeps the bus the caller asked for; the domain XML and the target use this.

import type { DiskBus, DiskSpec } from "./types.ts";
import { HypervisorError } from "./errors.ts";

const PREFIX: Record<DiskBus, string> = { virtio: "vd", scsi: "sd", sata: "sd", ide: "hd" };
// IDE has two channels of two devices.
const MAX_INDEX: Record<DiskBus, number> = { virtio: 18277, scsi: 18277, sata: 18277, ide: 3 };

/** Machine types libvirt/QEMU name q35, versioned or not ("q35", "pc-q35-7.2"). */
export const isQ35 = (machine: string | undefined): boolean => machine?.includes("q35") ?? false;

/** The bus a disk asked for on `bus` gets on `machine` (undefined: not known, as asked). */
export function busOnMachine(bus: DiskBus, machine: string | undefined): DiskBus {
  return bus === "ide" && isQ35(machine) ? "sata" : bus;
}

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

/** The lowest free target on the disk's bus among the disks the VM already has (hot-plug). */
export function nextTarget(bus: DiskBus, existing: readonly DiskSpec[], machine?: string): string {
  const [disk] = assignDiskTargets(
    [{ id: "new", bus } as DiskSpec],
    existing.flatMap((d) => (d.target ? [d.target] : [])),
    machine,
  );
  return disk!.target!;
}

/** Copies of the disks with targets filled in; `machine` as the domain has it (see busOnMachine). */
export function assignDiskTargets(disks: DiskSpec[], taken: string[] = [], machine?: string): DiskSpec[] {
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
    const bus = busOnMachine(disk.bus, machine);
    for (let index = 0; index <= MAX_INDEX[bus]; index++) {
      const name = PREFIX[bus] + diskSuffix(index);
      if (!used.has(name)) {
        used.add(name);
        return { ...disk, target: name };
      }
    }
    throw new HypervisorError("resource_exhausted", `spec.disks[${i}]: no free ${bus} device name`, `spec.disks[${i}].bus`);
  });
}
