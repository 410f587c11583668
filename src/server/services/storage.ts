// Storage pools and volumes. Pools live in the hypervisor (libvirt's persistent pools, the
// mock's memory); this layer maps the contract's pool types, configs and shapes onto them.

import { posix } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  CloneVolumeResponseSchema,
  CreateVolumeResponseSchema,
  CreateVolumeSnapshotResponseSchema,
  DeleteVolumeResponseSchema,
  DestroyStoragePoolResponseSchema,
  ListImagesResponseSchema,
  ListStoragePoolFilesResponseSchema,
  ListStoragePoolsResponseSchema,
  ListVolumesResponseSchema,
  type NodeDaemonService,
  ResizeVolumeResponseSchema,
  VolumeAttachInfoResponseSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { HypervisorError } from "../../hypervisor/errors.ts";
import { DEFAULT_POOL_ID, type PoolInfo } from "../../hypervisor/types.ts";
import { poolId as validatePoolId } from "../../hypervisor/validation-checks.ts";
import { imageToWire, poolDefinitionFromWire, poolToWire, volumeFormatFromWire, volumeSourceFromWire, volumeToWire } from "../convert/storage.ts";
import type { ServiceDeps } from "../deps.ts";
import { invalidField } from "../errors.ts";
import { createStorageRoots } from "../storage-roots.ts";
import { listImages } from "../storage/images.ts";
import { listPoolFiles } from "../storage/pool-files.ts";
import { checkPoolPlacement } from "../storage/pool-placement.ts";

export type StorageImpl = Pick<
  ServiceImpl<typeof NodeDaemonService>,
  | "initStoragePool"
  | "destroyStoragePool"
  | "getStoragePoolInfo"
  | "listStoragePools"
  | "listStoragePoolFiles"
  | "resizeVolume"
  | "createVolume"
  | "deleteVolume"
  | "cloneVolume"
  | "getVolumeAttachInfo"
  | "createVolumeSnapshot"
  | "listVolumes"
  | "listImages"
>;

/** 1 PiB: beyond any single volume; larger values are typos. */
const MAX_VOLUME_BYTES = 1024 ** 5;

/** The reference node answered NOT_FOUND "Pool '<id>' not found": the control plane then re-sends InitStoragePool. */
async function getPool(deps: ServiceDeps, id: string): Promise<PoolInfo> {
  try {
    return await deps.hypervisor.getPool(id);
  } catch (err) {
    if (err instanceof HypervisorError && err.kind === "not_found") {
      throw new ConnectError(`Pool '${id}' not found on this node; initialise it with InitStoragePool`, Code.NotFound);
    }
    throw err;
  }
}

/** A pool id of a request: "default" when empty where the contract allows it. */
const poolIdOf = (id: string, emptyIsDefault = false) => (id === "" && emptyIsDefault ? DEFAULT_POOL_ID : validatePoolId(id, "pool_id"));

const volumeId = (v: string, field = "volume_id") => {
  if (v === "") throw invalidField(field, "is required");
  if (v.includes("/") || v === "." || v === ".." || v.includes("\0"))
    throw invalidField(field, `${JSON.stringify(v.slice(0, 80))} is not a volume name (one name in the pool, no "/")`);
  return v;
};

function bytesField(v: bigint, field: string, allowZero: boolean): number {
  if ((v === 0n && !allowZero) || v > BigInt(MAX_VOLUME_BYTES)) {
    throw invalidField(field, `must be between 1 and ${MAX_VOLUME_BYTES} (1 PiB), got ${v}`);
  }
  return Number(v);
}

export function storageHandlers(deps: ServiceDeps): StorageImpl {
  const hv = deps.hypervisor;
  const folders = { poolsDir: deps.poolsDir, mountsDir: deps.mountsDir ?? posix.join(posix.dirname(deps.poolsDir), "mnt") };
  // An IMAGE source named by path must lie in the storage roots, as disk paths of CreateVM do.
  const roots = createStorageRoots(deps.storageRoots, async () => (await hv.listPools()).map((p) => p.path).filter((p) => p !== ""));
  return {
    async initStoragePool(req) {
      const def = poolDefinitionFromWire(req, folders);
      // A pool folder becomes a storage root: never a system folder, nor one holding the node's state.
      if (def.type === "dir" || def.type === "netfs")
        checkPoolPlacement(def.path, def.type === "netfs" ? "config.nfs.mount_point" : "config.local.path", deps.stateDir);
      return poolToWire(await hv.initPool(def));
    },
    async destroyStoragePool(req) {
      const id = poolIdOf(req.poolId);
      await getPool(deps, id);
      await hv.destroyPool(id);
      return create(DestroyStoragePoolResponseSchema, { poolId: id });
    },
    getStoragePoolInfo: async (req) => poolToWire(await getPool(deps, poolIdOf(req.poolId))),
    listStoragePools: async () => create(ListStoragePoolsResponseSchema, { pools: (await hv.listPools()).map(poolToWire) }),
    async listStoragePoolFiles(req) {
      const pool = await getPool(deps, poolIdOf(req.poolId));
      if (pool.path === "") {
        throw new ConnectError(
          `Pool ${pool.id} has no mount path: its volumes are ${pool.type === "rbd" ? "Ceph RBD images" : "block devices"}, not files`,
          Code.FailedPrecondition,
        );
      }
      const entries = await listPoolFiles(pool.path, pool.id, req.path);
      return create(ListStoragePoolFilesResponseSchema, {
        entries: entries.map((e) => ({ ...e, sizeBytes: BigInt(e.sizeBytes) })),
        currentPath: req.path,
      });
    },
    async resizeVolume(req) {
      const poolId = poolIdOf(req.poolId, true);
      const volume = volumeId(req.volumeId);
      const v = await hv.resizeVolume(poolId, volume, bytesField(req.newSizeBytes, "new_size_bytes", false));
      return create(ResizeVolumeResponseSchema, { volume: volumeToWire(v) });
    },
    async createVolume(req) {
      const poolId = poolIdOf(req.poolId, true);
      const source = volumeSourceFromWire(req);
      if (source.kind === "image" && source.image.startsWith("/")) await roots.check(source.image, "source_id");
      const v = await hv.createVolume(poolId, {
        name: volumeId(req.volumeId),
        sizeBytes: bytesField(req.sizeBytes, "size_bytes", source.kind !== "empty"),
        format: volumeFormatFromWire(req.format),
        source,
      });
      return create(CreateVolumeResponseSchema, { volume: volumeToWire(v) });
    },
    async deleteVolume(req) {
      const v = await hv.deleteVolume(poolIdOf(req.poolId, true), volumeId(req.volumeId));
      return create(DeleteVolumeResponseSchema, { volume: volumeToWire(v) });
    },
    async cloneVolume(req) {
      const v = await hv.cloneVolume(
        poolIdOf(req.poolId, true),
        volumeId(req.sourceVolumeId, "source_volume_id"),
        volumeId(req.destVolumeId, "dest_volume_id"),
      );
      return create(CloneVolumeResponseSchema, { volume: volumeToWire(v) });
    },
    async getVolumeAttachInfo(req) {
      const a = await hv.volumeAttachInfo(poolIdOf(req.poolId, true), volumeId(req.volumeId));
      return create(VolumeAttachInfoResponseSchema, { volumeId: a.volume.name, path: a.path, diskXml: a.diskXml });
    },
    async createVolumeSnapshot(req) {
      const snapshot = volumeId(req.snapshotId, "snapshot_id");
      const v = await hv.snapshotVolume(poolIdOf(req.poolId, true), volumeId(req.volumeId), snapshot);
      return create(CreateVolumeSnapshotResponseSchema, { snapshotId: snapshot, volume: volumeToWire(v) });
    },
    async listVolumes(req) {
      const volumes = await hv.listVolumes(poolIdOf(req.poolId, true));
      return create(ListVolumesResponseSchema, { volumes: volumes.map(volumeToWire) });
    },
    async listImages() {
      const pools = (await hv.listPools()).filter((p) => p.path !== "");
      const dirs = [...pools.map((p) => ({ path: p.path, poolId: p.id })), ...deps.storageRoots.map((path) => ({ path }))];
      return create(ListImagesResponseSchema, { images: (await listImages(dirs)).map(imageToWire) });
    },
  };
}
