// Storage pools and volumes. Pools live in the hypervisor (libvirt's persistent pools, the
// mock's memory); this layer maps the contract's pool types and shapes onto them.

import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type InitStoragePoolRequest,
  ListStoragePoolFilesResponseSchema,
  ListStoragePoolsResponseSchema,
  type NodeDaemonService,
  ResizeVolumeResponseSchema,
  type StoragePoolInfoResponse,
  StoragePoolInfoResponseSchema,
  StoragePoolType,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { HypervisorError } from "../../hypervisor/errors.ts";
import { DEFAULT_POOL_ID, type PoolDefinition, type PoolInfo } from "../../hypervisor/types.ts";
import { poolId as validatePoolId } from "../../hypervisor/validation-checks.ts";
import { u64 } from "../convert/vm-status.ts";
import type { ServiceDeps } from "../deps.ts";
import { invalidField } from "../errors.ts";
import { listPoolFiles } from "../storage/pool-files.ts";

type Impl = Pick<
  ServiceImpl<typeof NodeDaemonService>,
  "initStoragePool" | "getStoragePoolInfo" | "listStoragePools" | "listStoragePoolFiles" | "resizeVolume"
>;

const GIB = 1024 ** 3;
/** 1 PiB: beyond any single volume; larger values are typos. */
const MAX_VOLUME_BYTES = 1024 ** 5;

const poolTypeToWire: Record<PoolInfo["type"], StoragePoolType> = { dir: StoragePoolType.LOCAL_DIR };

function poolToWire(p: PoolInfo): StoragePoolInfoResponse {
  return create(StoragePoolInfoResponseSchema, {
    poolId: p.id,
    type: poolTypeToWire[p.type],
    mountPath: p.path,
    totalBytes: u64(p.totalBytes),
    availableBytes: u64(p.availableBytes),
    usedBytes: u64(p.usedBytes),
    volumeCount: p.volumeCount,
    name: p.id,
    active: p.active,
  });
}

/** The contract's pool request as a pool definition; types this node cannot serve are refused. */
function poolDefinition(req: InitStoragePoolRequest, poolsDir: string): PoolDefinition {
  const id = validatePoolId(req.poolId, "pool_id");
  switch (req.type) {
    case StoragePoolType.LOCAL_DIR: {
      const local = req.config?.local;
      const path = local?.path || join(poolsDir, id);
      if (!path.startsWith("/")) throw invalidField("config.local.path", `must be an absolute path, got ${JSON.stringify(path)}`);
      const gib = local?.capacityGib;
      return { id, type: "dir", path, ...(gib ? { capacityBytes: Number(gib) * GIB } : {}) };
    }
    case StoragePoolType.NFS:
    case StoragePoolType.CEPH_RBD:
    case StoragePoolType.ISCSI:
      throw new ConnectError(
        `${StoragePoolType[req.type]} pools are not served by this node version; only LOCAL_DIR pools are`,
        Code.Unimplemented,
      );
    default:
      throw invalidField("type", `Invalid pool type ${StoragePoolType[req.type] ?? req.type}; this node serves STORAGE_POOL_TYPE_LOCAL_DIR`);
  }
}

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

export function storageHandlers(deps: ServiceDeps): Impl {
  const hv = deps.hypervisor;
  return {
    initStoragePool: async (req) => poolToWire(await hv.initPool(poolDefinition(req, deps.poolsDir))),
    getStoragePoolInfo: async (req) => poolToWire(await getPool(deps, validatePoolId(req.poolId, "pool_id"))),
    listStoragePools: async () => create(ListStoragePoolsResponseSchema, { pools: (await hv.listPools()).map(poolToWire) }),
    async listStoragePoolFiles(req) {
      const pool = await getPool(deps, validatePoolId(req.poolId, "pool_id"));
      const entries = await listPoolFiles(pool.path, pool.id, req.path);
      return create(ListStoragePoolFilesResponseSchema, {
        entries: entries.map((e) => ({ ...e, sizeBytes: u64(e.sizeBytes) })),
        currentPath: req.path,
      });
    },
    async resizeVolume(req) {
      const poolId = req.poolId === "" ? DEFAULT_POOL_ID : validatePoolId(req.poolId, "pool_id");
      if (req.volumeId === "") throw invalidField("volume_id", "is required");
      if (req.newSizeBytes === 0n || req.newSizeBytes > BigInt(MAX_VOLUME_BYTES)) {
        throw invalidField("new_size_bytes", `must be between 1 and ${MAX_VOLUME_BYTES} (1 PiB), got ${req.newSizeBytes}`);
      }
      const v = await hv.resizeVolume(poolId, req.volumeId, Number(req.newSizeBytes));
      return create(ResizeVolumeResponseSchema, {
        volume: { volumeId: v.name, poolId: v.poolId, sizeBytes: u64(v.sizeBytes), format: v.format, path: v.path, attachedTo: v.attachedTo ?? "" },
      });
    },
  };
}
