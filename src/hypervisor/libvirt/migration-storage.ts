// Which disks a migration must copy. A disk whose image is a file or block device on this node
// is local: a live migration either copies it (storage: true) or libvirt refuses it as unsafe.
// Network disks (NBD, RBD, iSCSI) and read-only images are reached from both nodes and are
// never copied, even with storage: true (libvirt would otherwise mirror a shared disk onto
// itself). The destination creates each copied image in its storage pool at the same path.

import { HypervisorError } from "../errors.ts";
import type { DiskSpec } from "../types.ts";

/** Disks whose image lives on this node. */
export function localDisks(disks: readonly DiskSpec[]): DiskSpec[] {
  return disks.filter((d) => d.device === "disk" && !d.readonly && d.target !== undefined && d.resolvedPath?.startsWith("/") === true);
}

const describe = (disks: readonly DiskSpec[]) => disks.map((d) => `${d.target} (${d.resolvedPath})`).join(", ");

/**
 * The guest devices to copy (libvirt's migrate_disks), or undefined when nothing is copied.
 * Throws when the request cannot work: libvirt cannot copy the disks of a stopped VM.
 */
export function disksToCopy(id: string, disks: readonly DiskSpec[], copyStorage: boolean, running: boolean): string[] | undefined {
  const local = localDisks(disks);
  if (!copyStorage || local.length === 0) return undefined;
  if (!running) {
    throw new HypervisorError(
      "invalid_state",
      `vm ${id} is stopped and its disks ${describe(local)} are local to this node: libvirt copies disks only while the vm runs; start it and migrate it live with storage, or copy the images to the target first and migrate without storage`,
    );
  }
  return local.map((d) => d.target as string);
}

/** libvirt's "unsafe migration" (local disks, storage not copied) as something a person can act on. */
export function unsafeMigrationError(id: string, disks: readonly DiskSpec[], cause: string): HypervisorError {
  const local = localDisks(disks);
  const which = local.length ? `its disks ${describe(local)} are local to this node` : "a disk is local to this node";
  return new HypervisorError(
    "invalid_state",
    `vm ${id} cannot move without its storage: ${which}; set storage to copy them, or keep them on storage both nodes reach (${cause})`,
  );
}
