// Storage pools and volumes in the backend-neutral model (pool definitions as the control plane
// sends them, what a pool and a volume look like, where a volume's disk comes from). Re-exported
// by types.ts, so callers import from either.

import type { DiskFormat } from "./types.ts";
/** libvirt's pool types this node defines (an iSCSI pool with a volume group is "iscsi" too). */
export type PoolType = "dir" | "netfs" | "rbd" | "iscsi";

export interface HostPort {
  host: string;
  port: number;
}

export interface NfsPoolSource {
  server: string;
  exportPath: string;
  /** "3", "4", "4.1", "4.2" */
  version: string;
  /** Extra mount options, one per entry ("soft", "timeo=600"). */
  options: string[];
}

export interface CephPoolSource {
  clusterId: string;
  /** The Ceph pool. */
  pool: string;
  monitors: HostPort[];
  user: string;
  keyringPath: string;
  namespace: string;
  /** libvirt secret holding the user's key; derived from the pool id and user when absent. */
  secretUuid?: string;
}

export interface IscsiPoolSource {
  portal: HostPort;
  /** IQN */
  target: string;
  chap?: { user: string; password: string };
  lun: number;
  /** An LVM volume group on the LUN, made when missing: volumes are then logical volumes. */
  volumeGroup?: string;
}

/** A storage pool as a caller defines it. The id is also libvirt's pool name and, for a UUID, its uuid. */
export type PoolDefinition =
  | {
      id: string;
      type: "dir";
      /** Directory of a dir pool. */
      path: string;
      /** Cap on what the pool may hold; undefined: the filesystem's size. */
      capacityBytes?: number;
    }
  | {
      id: string;
      type: "netfs";
      /** Mount point (libvirt mounts the export there). */
      path: string;
      nfs: NfsPoolSource;
    }
  | { id: string; type: "rbd"; ceph: CephPoolSource }
  | { id: string; type: "iscsi"; iscsi: IscsiPoolSource };

export interface PoolInfo {
  id: string;
  type: PoolType;
  /** Where its volumes live as files (dir and netfs pools); "" for block and network pools. */
  path: string;
  /** Block device of an iSCSI pool's LUN (with a volume group: the volume group's folder). */
  devicePath?: string;
  /** Ceph pool of an rbd pool. */
  rbdPool?: string;
  /** Where the storage comes from: "server:/export", "portal/target", the monitors. */
  source?: string;
  active: boolean;
  /** Why the pool is not active (or its refresh failed). */
  error?: string;
  totalBytes: number;
  availableBytes: number;
  usedBytes: number;
  volumeCount: number;
  capacityBytes?: number;
}

export interface VolumeInfo {
  name: string;
  poolId: string;
  path: string;
  format: DiskFormat;
  /** Virtual size (what the guest sees). */
  sizeBytes: number;
  /** Bytes it takes on its storage. */
  allocationBytes?: number;
  /** Base image of a copy-on-write volume. */
  backingPath?: string;
  /** VM whose disk it is, if any. */
  attachedTo?: string;
}

/** Where a new volume's content comes from. */
export type VolumeSource =
  | { kind: "empty" }
  /** A copy-on-write overlay on a volume of the same pool. */
  | { kind: "clone"; volume: string }
  /** An overlay on an image: an absolute path, or a name in the pools and the cloud images folder. */
  | { kind: "image"; image: string }
  /** A copy-on-write overlay on a volume snapshot (CreateVolumeSnapshot). */
  | { kind: "snapshot"; volume: string; snapshot: string };

export interface NewVolume {
  name: string;
  /** 0 with a source: the source's size. */
  sizeBytes: number;
  format: DiskFormat;
  source: VolumeSource;
}

/** What a libvirt <disk> needs to use a volume. */
export interface VolumeAttachInfo {
  volume: VolumeInfo;
  /** File or block device path, or the RBD image ("<pool>/<image>"). */
  path: string;
  diskXml: string;
}

/** Id of the node's own storage (hypervisor.storage_path) in pool calls. */
export const DEFAULT_POOL_ID = "default";
