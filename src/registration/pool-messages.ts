// Pure translation between the node's storage and the control plane's storage messages: a pool's
// heartbeat report (contract 6.3), a pool the control plane assigns (GetPool, contract 6.4/6.6)
// as a pool definition, and a local image for ScanLocalImages (contract 6.4).

import { create } from "@bufbuild/protobuf";
import {
  type LocalImageInfo,
  LocalImageInfoSchema,
  OsInfo_OsFamily as OsFamily,
  OsInfo_ProvisioningMethod as Provisioning,
  StorageBackend_BackendType as BackendType,
  type StoragePool,
} from "../gen/limiquantix/storage/v1/storage_service_pb.ts";
import {
  CEPH_MONITOR_PORT,
  DEFAULT_CEPH_KEYRING,
  DEFAULT_CEPH_USER,
  DEFAULT_NFS_VERSION,
  ISCSI_PORT,
  parseHostPort,
  nfsMountOptions,
} from "../hypervisor/storage/pool-definition.ts";
import type { PoolDefinition, PoolInfo } from "../hypervisor/types.ts";
import type { PoolHealth, StoragePoolReport } from "./messages.ts";
import { posix } from "node:path";
import { u64 } from "./wire-numbers.ts";

/** Healthy with room, degraded when full, error when libvirt cannot start it (contract 6.3, with the reason). */
export function poolReportOf(p: PoolInfo): StoragePoolReport {
  const health: PoolHealth = !p.active ? "error" : p.availableBytes > 0 ? "healthy" : p.totalBytes > 0 ? "degraded" : "error";
  return {
    poolId: p.id,
    health,
    totalBytes: p.totalBytes,
    usedBytes: p.usedBytes,
    availableBytes: p.availableBytes,
    mountPath: p.path || p.devicePath || "",
    volumeCount: p.volumeCount,
    ...(p.error !== undefined || !p.active ? { errorMessage: p.error ?? "the pool is not active" } : {}),
  };
}

export interface AssignedPoolFolders {
  /** LOCAL_DIR: <localDir.path or this>/<pool id> (contract 6.6). */
  localPoolsDir: string;
  /** NFS without a mount point: <mountsDir>/nfs-<pool id>. */
  mountsDir: string;
}

/** A pool the control plane assigned, as the node defines it; throws on what it cannot serve. */
export function poolDefinitionFromCp(pool: StoragePool, dirs: AssignedPoolFolders): PoolDefinition {
  const id = pool.id;
  const backend = pool.spec?.backend;
  const config = backend?.config;
  switch (backend?.type ?? BackendType.CEPH_RBD) {
    case BackendType.NFS: {
      if (config?.case !== "nfs") throw new Error(`pool ${id}: NFS backend without an nfs config`);
      const n = config.value;
      const options = nfsMountOptions(n.options);
      return {
        id,
        type: "netfs",
        path: n.mountPoint || posix.join(dirs.mountsDir, `nfs-${id}`),
        nfs: { server: n.server, exportPath: n.exportPath, version: n.version || DEFAULT_NFS_VERSION, options },
      };
    }
    case BackendType.CEPH_RBD: {
      if (config?.case !== "ceph") throw new Error(`pool ${id}: Ceph backend without a ceph config`);
      const c = config.value;
      return {
        id,
        type: "rbd",
        ceph: {
          clusterId: c.clusterId,
          pool: c.poolName,
          monitors: c.monitors.map((m, i) => parseHostPort(m, CEPH_MONITOR_PORT, `ceph.monitors[${i}]`)),
          user: (c.user || DEFAULT_CEPH_USER).replace(/^client\./, ""),
          keyringPath: c.keyringPath || DEFAULT_CEPH_KEYRING,
          namespace: c.namespace,
          ...(c.secretUuid ? { secretUuid: c.secretUuid.toLowerCase() } : {}),
        },
      };
    }
    case BackendType.ISCSI: {
      if (config?.case !== "iscsi") throw new Error(`pool ${id}: iSCSI backend without an iscsi config`);
      const i = config.value;
      return {
        id,
        type: "iscsi",
        iscsi: {
          portal: parseHostPort(i.portal, ISCSI_PORT, "iscsi.portal"),
          target: i.target,
          lun: i.lun,
          ...(i.chapEnabled ? { chap: { user: i.chapUser, password: i.chapPassword } } : {}),
          ...(i.volumeGroup ? { volumeGroup: i.volumeGroup } : {}),
        },
      };
    }
    case BackendType.LOCAL_DIR: {
      const base = config?.case === "localDir" && config.value.path ? config.value.path : dirs.localPoolsDir;
      return { id, type: "dir", path: posix.join(base, id) };
    }
    default:
      throw new Error(`pool ${id}: backend ${BackendType[backend?.type ?? 0] ?? backend?.type} is not served by this node`);
  }
}

const DISTROS: [RegExp, string, string][] = [
  [/ubuntu/, "ubuntu", "ubuntu"],
  [/debian/, "debian", "debian"],
  [/rocky/, "rocky", "rocky"],
  [/alma/, "almalinux", "almalinux"],
  [/centos/, "centos", "cloud-user"],
  [/fedora/, "fedora", "fedora"],
  [/suse/, "opensuse", "root"],
];

/** A cloud image as ScanLocalImages reports it; the OS guessed from the file name (contract 6.4). */
export function localImageOf(img: { path: string; sizeBytes: number; virtualSizeBytes: number; modifiedAt: Date }): LocalImageInfo {
  const filename = posix.basename(img.path);
  const lower = filename.toLowerCase();
  const dot = lower.lastIndexOf(".");
  const windows = lower.includes("windows");
  const distro = DISTROS.find(([re]) => re.test(lower));
  return create(LocalImageInfoSchema, {
    path: img.path,
    filename,
    sizeBytes: u64(img.sizeBytes),
    virtualSizeBytes: u64(img.virtualSizeBytes),
    format: dot > 0 ? lower.slice(dot + 1) : "",
    checksum: "",
    detectedOs: {
      family: windows ? OsFamily.WINDOWS : OsFamily.LINUX,
      distribution: windows ? "windows" : (distro?.[1] ?? "unknown"),
      version: /(\d+(?:\.\d+)*)/.exec(filename)?.[1] ?? "",
      architecture: "x86_64",
      defaultUser: windows ? "Administrator" : (distro?.[2] ?? "root"),
      cloudInitEnabled: !windows,
      provisioningMethod: windows ? Provisioning.SYSPREP : Provisioning.CLOUD_INIT,
    },
    modifiedAt: img.modifiedAt.toISOString().replace(/\.\d{3}Z$/, "Z"),
  });
}
