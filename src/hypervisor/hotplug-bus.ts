// The bus a disk is hot-plugged on. QEMU's SATA (AHCI) and IDE controllers have no hot-plug, yet
// the control plane attaches disks to running VMs with the bus its user picked (SATA included).
// Refusing would make that impossible, so such a disk goes on virtio, the bus every guest since
// Linux 2.6.25 boots from; the event and the status say which bus it got.

import type { DiskBus } from "./types.ts";

const HOTPLUGGABLE: ReadonlySet<DiskBus> = new Set(["virtio", "scsi"]);

export function hotplugBus(requested: DiskBus, live: boolean): DiskBus {
  return live && !HOTPLUGGABLE.has(requested) ? "virtio" : requested;
}
