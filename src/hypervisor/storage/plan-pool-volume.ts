// A VM disk in a pool that is not a directory (Ceph RBD, an iSCSI target, an LVM volume group on
// iSCSI): the disk is one volume of the pool, by its plain name, always raw. The rule both
// backends follow; the pool's volumes are read through `lookup`.
//
//   volume that exists       that volume (existing)
//   volume, none, newImage   created in the pool as <volume>
//   newImage alone           created in the pool as <vm id>-<disk id>
//   backing_file             a full copy of that volume of the same pool, at least as big
//
// No qcow2 and no overlays here: a block device or an RBD image is raw, so a qcow2 request is
// served raw (the format is a file pool's matter; the metadata keeps what was asked). A base
// image is copied, as Proxmox clones a template's image inside Ceph: libvirt's
// virStorageVolCreateXMLFrom within the pool (an RBD clone or copy, an LVM copy). A file (a
// cloud image) cannot be copied into these pools here; it has to be made a volume of the pool first.
// A plain iSCSI pool's volumes are the target's LUNs: libvirt cannot create one, so only an
// existing LUN can be a disk there.

import { HypervisorError } from "../errors.ts";
import type { DiskSpec } from "../types.ts";
import { checkVolumeName } from "./plan-disk.ts";

/** libvirt pool types whose volumes are devices or network images, not files. */
export const VOLUME_POOL_TYPES = ["rbd", "iscsi", "logical"] as const;
export type VolumePoolType = (typeof VOLUME_POOL_TYPES)[number];

export const isVolumePoolType = (type: string): type is VolumePoolType => (VOLUME_POOL_TYPES as readonly string[]).includes(type);

export interface VolumePool {
  id: string;
  /** libvirt pool type: logical for an iSCSI pool with a volume group. */
  type: VolumePoolType;
}

export type PoolVolumePlan =
  | { kind: "existing"; poolId: string; name: string }
  | { kind: "create"; poolId: string; name: string; sizeBytes: number; copyOf?: string };

/** What a pool's volume lookup answers: its size, or undefined when there is none of that name. */
export type VolumeLookup = (name: string) => Promise<{ sizeBytes: number } | undefined>;

const label: Record<VolumePoolType, string> = { rbd: "Ceph RBD", iscsi: "iSCSI", logical: "LVM (iSCSI volume group)" };

/** The generated volume name of a new disk without one: no extension, these pools hold raw volumes only. */
export const generatedPoolVolumeName = (vmId: string, diskId: string) => `${vmId}-${diskId}`;

export async function planPoolVolumeDisk(vmId: string, disk: DiskSpec, pool: VolumePool, lookup: VolumeLookup, field: string): Promise<PoolVolumePlan> {
  const kind = `${label[pool.type]} pool ${pool.id}`;
  if (disk.device === "cdrom") {
    throw new HypervisorError("invalid_argument", `${field}.pool_id: a CD-ROM's ISO is a file: name a dir or NFS pool, not the ${kind}`, `${field}.pool_id`);
  }
  if (disk.path !== undefined && disk.path !== "") {
    throw new HypervisorError("invalid_argument", `${field}.path: give a volume name of the ${kind}, not a path`, `${field}.path`);
  }
  const volume = disk.volume !== undefined && disk.volume !== "" ? disk.volume : undefined;
  if (volume !== undefined) {
    checkVolumeName(volume, `${field}.path`);
    if ((await lookup(volume)) !== undefined) return { kind: "existing", poolId: pool.id, name: volume };
    if (disk.newImage === undefined) {
      throw new HypervisorError(
        "not_found",
        `${field}.path: volume ${JSON.stringify(volume)} not found in ${kind} and no size was given to create it`,
        `${field}.path`,
      );
    }
  }
  if (disk.newImage === undefined) throw new HypervisorError("invalid_argument", `${field}: a disk needs a volume or a new image`, `${field}.path`);
  if (pool.type === "iscsi") {
    throw new HypervisorError(
      "unsupported",
      `${field}: the volumes of ${kind} are its target's LUNs, and libvirt cannot create one; name an existing LUN as the disk's volume ` +
        `(ListVolumes shows them), or initialise the pool with a volume group to carve disks from it`,
      `${field}.pool_id`,
    );
  }
  const name = volume ?? generatedPoolVolumeName(vmId, disk.id);
  if (volume === undefined && (await lookup(name)) !== undefined) {
    throw new HypervisorError(
      "already_exists",
      `${field}: volume ${name} already exists in ${kind} (left by an earlier vm ${vmId}?); delete it, or name it as the disk's volume to use it`,
      `${field}.path`,
    );
  }
  const plan: PoolVolumePlan = { kind: "create", poolId: pool.id, name, sizeBytes: disk.newImage.sizeBytes };
  const backing = disk.newImage.backingPath;
  if (backing !== undefined && backing !== "") {
    const bf = `${field}.backing_file`;
    const base = backing.startsWith("/") || backing.includes("\0") ? undefined : await lookup(backing);
    if (base === undefined) {
      throw new HypervisorError(
        "invalid_state",
        `${bf}: ${JSON.stringify(backing)} is not a volume of ${kind}; a disk there is a full copy of a base volume of the same pool ` +
          `(raw devices take no qcow2 overlay), so import the base image into the pool as a volume first`,
        bf,
      );
    }
    plan.copyOf = backing;
    plan.sizeBytes = Math.max(plan.sizeBytes, base.sizeBytes);
  }
  return plan;
}
