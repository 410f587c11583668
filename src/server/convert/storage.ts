// The contract's storage messages to and from the hypervisor's plain types: InitStoragePool's
// pool types and configs (contract 1.5, 7.6), pool and volume answers, CreateVolume's sources.

import { posix } from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  type CreateVolumeRequest,
  type ImageInfo,
  ImageInfoSchema,
  type InitStoragePoolRequest,
  type StoragePoolInfoResponse,
  StoragePoolInfoResponseSchema,
  StoragePoolType,
  type VolumeInfoResponse,
  VolumeInfoResponseSchema,
  VolumeSourceType,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import {
  CEPH_MONITOR_PORT,
  checkPoolId,
  DEFAULT_CEPH_KEYRING,
  DEFAULT_CEPH_USER,
  DEFAULT_NFS_VERSION,
  ISCSI_PORT,
  parseHostPort,
  nfsMountOptions,
} from "../../hypervisor/storage/pool-definition.ts";
import type { DiskFormat, PoolDefinition, PoolInfo, PoolType, VolumeInfo, VolumeSource } from "../../hypervisor/types.ts";
import { invalidField } from "../errors.ts";
import { u64 } from "./vm-status.ts";

const GIB = 1024 ** 3;

const poolTypeToWire: Record<PoolType, StoragePoolType> = {
  dir: StoragePoolType.LOCAL_DIR,
  netfs: StoragePoolType.NFS,
  rbd: StoragePoolType.CEPH_RBD,
  iscsi: StoragePoolType.ISCSI,
};

export function poolToWire(p: PoolInfo): StoragePoolInfoResponse {
  return create(StoragePoolInfoResponseSchema, {
    poolId: p.id,
    type: poolTypeToWire[p.type],
    mountPath: p.path,
    devicePath: p.devicePath ?? "",
    rbdPool: p.rbdPool ?? "",
    totalBytes: u64(p.totalBytes),
    availableBytes: u64(p.availableBytes),
    usedBytes: u64(p.usedBytes),
    volumeCount: p.volumeCount,
    name: p.id,
    active: p.active,
    errorMessage: p.error ?? "",
    source: p.source ?? "",
  });
}

export function volumeToWire(v: VolumeInfo): VolumeInfoResponse {
  return create(VolumeInfoResponseSchema, {
    volumeId: v.name,
    poolId: v.poolId,
    sizeBytes: u64(v.sizeBytes),
    format: v.format,
    path: v.path,
    attachedTo: v.attachedTo ?? "",
    allocationBytes: u64(v.allocationBytes ?? 0),
    backingPath: v.backingPath ?? "",
  });
}

export interface PoolFolders {
  /** LOCAL_DIR without a path: <poolsDir>/<id>. */
  poolsDir: string;
  /** NFS without a mount point: <mountsDir>/nfs-<id>. */
  mountsDir: string;
}

const required = (value: string, field: string) => {
  if (value.trim() === "") throw invalidField(field, "is required");
  return value.trim();
};

/** The contract's InitStoragePool request as a pool definition; pool types this node cannot serve are refused. */
export function poolDefinitionFromWire(req: InitStoragePoolRequest, dirs: PoolFolders): PoolDefinition {
  const id = checkPoolId(req.poolId);
  const config = req.config;
  switch (req.type) {
    case StoragePoolType.LOCAL_DIR: {
      const local = config?.local;
      const path = local?.path || posix.join(dirs.poolsDir, id);
      const gib = local?.capacityGib;
      return { id, type: "dir", path, ...(gib ? { capacityBytes: Number(gib) * GIB } : {}) };
    }
    case StoragePoolType.NFS: {
      const nfs = config?.nfs;
      if (!nfs) throw invalidField("config.nfs", "is required for an NFS pool");
      const options = nfsMountOptions(nfs.options);
      return {
        id,
        type: "netfs",
        path: nfs.mountPoint || posix.join(dirs.mountsDir, `nfs-${id}`),
        nfs: {
          server: required(nfs.server, "config.nfs.server"),
          exportPath: required(nfs.exportPath, "config.nfs.export_path"),
          version: nfs.version || DEFAULT_NFS_VERSION,
          options,
        },
      };
    }
    case StoragePoolType.CEPH_RBD: {
      const ceph = config?.ceph;
      if (!ceph) throw invalidField("config.ceph", "is required for a Ceph RBD pool");
      if (ceph.monitors.length === 0) throw invalidField("config.ceph.monitors", "at least one monitor (host:port) is required");
      return {
        id,
        type: "rbd",
        ceph: {
          clusterId: ceph.clusterId,
          pool: required(ceph.poolName, "config.ceph.pool_name"),
          monitors: ceph.monitors.map((m, i) => parseHostPort(m, CEPH_MONITOR_PORT, `config.ceph.monitors[${i}]`)),
          user: (ceph.user || DEFAULT_CEPH_USER).replace(/^client\./, ""),
          keyringPath: ceph.keyringPath || DEFAULT_CEPH_KEYRING,
          namespace: ceph.namespace,
          ...(ceph.secretUuid ? { secretUuid: ceph.secretUuid.toLowerCase() } : {}),
        },
      };
    }
    case StoragePoolType.ISCSI: {
      const is = config?.iscsi;
      if (!is) throw invalidField("config.iscsi", "is required for an iSCSI pool");
      if (is.chapEnabled && (is.chapUser === "" || is.chapPassword === ""))
        throw invalidField("config.iscsi.chap_user", "CHAP needs chap_user and chap_password");
      return {
        id,
        type: "iscsi",
        iscsi: {
          portal: parseHostPort(required(is.portal, "config.iscsi.portal"), ISCSI_PORT, "config.iscsi.portal"),
          target: required(is.target, "config.iscsi.target"),
          lun: is.lun,
          ...(is.chapEnabled ? { chap: { user: is.chapUser, password: is.chapPassword } } : {}),
          ...(is.volumeGroup ? { volumeGroup: is.volumeGroup } : {}),
        },
      };
    }
    default:
      // The reference node's words (contract 7.6), with what this node serves.
      throw invalidField("type", `Invalid pool type ${StoragePoolType[req.type] ?? req.type}; this node serves LOCAL_DIR, NFS, CEPH_RBD and ISCSI pools`);
  }
}

/** CreateVolume's source; the snapshot source names "<volume>@<snapshot>". */
export function volumeSourceFromWire(req: CreateVolumeRequest): VolumeSource {
  switch (req.sourceType) {
    case VolumeSourceType.VOLUME_SOURCE_EMPTY:
      return { kind: "empty" };
    case VolumeSourceType.VOLUME_SOURCE_CLONE:
      return { kind: "clone", volume: required(req.sourceId, "source_id") };
    case VolumeSourceType.VOLUME_SOURCE_IMAGE:
      return { kind: "image", image: required(req.sourceId, "source_id") };
    case VolumeSourceType.VOLUME_SOURCE_SNAPSHOT: {
      const at = req.sourceId.lastIndexOf("@");
      if (at <= 0 || at === req.sourceId.length - 1)
        throw invalidField("source_id", `a snapshot source is "<volume>@<snapshot>", got ${JSON.stringify(req.sourceId.slice(0, 80))}`);
      return { kind: "snapshot", volume: req.sourceId.slice(0, at), snapshot: req.sourceId.slice(at + 1) };
    }
    default:
      throw invalidField("source_type", `unknown volume source ${req.sourceType}`);
  }
}

export function volumeFormatFromWire(format: string): DiskFormat {
  if (format === "" || format === "qcow2") return "qcow2";
  if (format === "raw") return "raw";
  throw invalidField("format", `must be "qcow2" or "raw", got ${JSON.stringify(format.slice(0, 40))}`);
}

export interface ImageEntry {
  imageId: string;
  name: string;
  path: string;
  sizeBytes: number;
  format: string;
  virtualSizeBytes: number;
  poolId?: string;
}

export const imageToWire = (i: ImageEntry): ImageInfo =>
  create(ImageInfoSchema, {
    imageId: i.imageId,
    name: i.name,
    path: i.path,
    sizeBytes: u64(i.sizeBytes),
    format: i.format,
    virtualSizeBytes: u64(i.virtualSizeBytes),
    poolId: i.poolId ?? "",
  });
