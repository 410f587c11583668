// The mock's storage: pools and volumes kept in memory, following the same rules as libvirt
// (storage/ plans where each disk lives; volumes only grow). Images the mock "creates" are not
// written: it records them, and a real file at a pool path counts as an existing volume too, so
// dev mode can use ISOs and images an operator put there.

import { mkdir, statfs } from "node:fs/promises";
import { posix } from "node:path";
import { HypervisorError } from "../errors.ts";
import { growOnly, nodeStorageFs, planDisk, type PoolDir, type StorageFs, volumeFileNames } from "../storage/index.ts";
import { DEFAULT_POOL_ID, type DiskSpec, type PoolDefinition, type PoolInfo, type VolumeInfo } from "../types.ts";
import { assertOpen, type MockContext } from "./context.ts";

export interface MockVolume {
  poolId: string;
  path: string;
  sizeBytes: number;
  format: "qcow2" | "raw";
}

export interface MockStorage {
  pools: Map<string, PoolDefinition>;
  /** By path. */
  volumes: Map<string, MockVolume>;
}

export function createMockStorage(storagePath: string): MockStorage {
  return {
    pools: new Map([[DEFAULT_POOL_ID, { id: DEFAULT_POOL_ID, type: "dir", path: storagePath }]]),
    volumes: new Map(),
  };
}

export const poolDirs = (ctx: MockContext): PoolDir[] => [...ctx.storage.pools.values()].map((p) => ({ id: p.id, path: p.path }));

/** Recorded volumes exist for the storage rules, beside whatever is really on disk. */
export function mockFs(ctx: MockContext): StorageFs {
  const known = ctx.storage.volumes;
  return {
    isFile: async (path) => known.has(path) || nodeStorageFs.isFile(path),
    realpath: async (path) => (known.has(path) ? path : nodeStorageFs.realpath(path)),
  };
}

/** Gives each disk its resolvedPath, recording the volumes it creates. `field(i)` names disk i. */
export async function resolveImages(ctx: MockContext, vmId: string, disks: readonly DiskSpec[], field: (i: number) => string): Promise<DiskSpec[]> {
  const fs = mockFs(ctx);
  const created: MockVolume[] = [];
  const out: DiskSpec[] = [];
  for (const [i, disk] of disks.entries()) {
    const plan = await planDisk(vmId, disk, poolDirs(ctx), fs, {
      field: field(i),
      cloudImagesDir: ctx.opts.cloudImagesDir,
      isoDirs: [ctx.opts.isoImagesDir],
    });
    const resolved = { ...disk };
    if (plan.kind === "existing") resolved.resolvedPath = plan.path;
    if (plan.kind === "create") {
      resolved.resolvedPath = plan.path;
      created.push({ poolId: plan.poolId, path: plan.path, sizeBytes: plan.image.sizeBytes, format: plan.image.format });
    }
    out.push(resolved);
  }
  // Recorded only once every disk is planned: a failure leaves nothing behind.
  for (const v of created) ctx.storage.volumes.set(v.path, v);
  return out;
}

/** The recorded volume of a VM image, if the mock made it. */
export const recordedVolume = (ctx: MockContext, path: string | undefined) => (path === undefined ? undefined : ctx.storage.volumes.get(path));

/** statfs of the folder, or of its nearest existing parent (the default pool's folder appears with its first image). */
async function filesystemOf(path: string) {
  for (let p = path; ; p = posix.dirname(p)) {
    const s = await statfs(p).catch(() => undefined);
    if (s || p === "/") return s;
  }
}

/** Figures of the pool's filesystem, as libvirt reports a dir pool's (a capacity cap is not enforced there either). */
async function poolInfo(ctx: MockContext, def: PoolDefinition): Promise<PoolInfo> {
  const fsStat = await filesystemOf(def.path);
  const total = fsStat ? fsStat.blocks * fsStat.bsize : 0;
  const available = fsStat ? fsStat.bavail * fsStat.bsize : 0;
  const volumes = [...ctx.storage.volumes.values()].filter((v) => v.poolId === def.id);
  return {
    id: def.id,
    type: def.type,
    path: def.path,
    active: true,
    totalBytes: total,
    availableBytes: available,
    usedBytes: Math.max(0, total - available),
    volumeCount: volumes.length,
  };
}

function definedPool(ctx: MockContext, id: string): PoolDefinition {
  const def = ctx.storage.pools.get(id);
  if (!def) throw new HypervisorError("not_found", `storage pool ${id} not found on this node (pools: ${[...ctx.storage.pools.keys()].join(", ")})`);
  return def;
}

export async function initPool(ctx: MockContext, def: PoolDefinition): Promise<PoolInfo> {
  assertOpen(ctx);
  const existing = ctx.storage.pools.get(def.id);
  if (existing && existing.path !== def.path) {
    throw new HypervisorError(
      "already_exists",
      `storage pool ${def.id} already exists at ${existing.path}, not ${def.path}; destroy it first to move it`,
    );
  }
  // The directory is real even in the mock, so ListStoragePoolFiles can read it.
  await mkdir(def.path, { recursive: true });
  ctx.storage.pools.set(def.id, { ...existing, ...def });
  return poolInfo(ctx, ctx.storage.pools.get(def.id)!);
}

export const getPool = (ctx: MockContext, id: string) => poolInfo(ctx, definedPool(ctx, id));
export const listPools = (ctx: MockContext) => Promise.all([...ctx.storage.pools.values()].map((p) => poolInfo(ctx, p)));

/**
 * The volume `name` of the pool, or (default pool) the unique VM disk with that id, in whatever
 * pool its image lives: the control plane sends pool "default" for every disk it resizes.
 */
function findVolume(ctx: MockContext, pool: PoolDefinition, name: string): { volume: MockVolume; vmId?: string } {
  for (const file of volumeFileNames(name)) {
    const v = ctx.storage.volumes.get(posix.join(pool.path, file));
    if (v) return { volume: v, vmId: ownerOf(ctx, v.path) };
  }
  if (pool.id === DEFAULT_POOL_ID) {
    const owners = [...ctx.vms.values()].flatMap((vm) =>
      vm.spec.disks.filter((d) => d.device === "disk" && d.id === name && recordedVolume(ctx, d.resolvedPath) !== undefined).map((d) => ({ vm, d })),
    );
    if (owners.length > 1) {
      throw new HypervisorError("invalid_state", `disk id ${name} is used by several VMs (${owners.map((o) => o.vm.id).join(", ")}); name the volume file instead`);
    }
    const owner = owners[0];
    if (owner) return { volume: recordedVolume(ctx, owner.d.resolvedPath)!, vmId: owner.vm.id };
  }
  throw new HypervisorError("not_found", `volume ${name} not found in storage pool ${pool.id}`);
}

function ownerOf(ctx: MockContext, path: string): string | undefined {
  for (const vm of ctx.vms.values()) if (vm.spec.disks.some((d) => d.resolvedPath === path)) return vm.id;
  return undefined;
}

export async function resizeVolume(ctx: MockContext, poolId: string, name: string, newSizeBytes: number): Promise<VolumeInfo> {
  assertOpen(ctx);
  const pool = definedPool(ctx, poolId);
  const { volume, vmId } = findVolume(ctx, pool, name);
  if (growOnly(name, volume.sizeBytes, newSizeBytes) === "grow") volume.sizeBytes = newSizeBytes;
  const info: VolumeInfo = { name: posix.basename(volume.path), poolId, path: volume.path, format: volume.format, sizeBytes: volume.sizeBytes };
  if (vmId !== undefined) info.attachedTo = vmId;
  return info;
}
