// The mock's storage: pools and volumes kept in memory, following the same rules as libvirt
// (storage/ plans where each disk lives; volumes only grow). Images the mock "creates" are not
// written: it records them, and a real file at a pool path counts as an existing volume too, so
// dev mode can use ISOs and images an operator put there.

import { mkdir, statfs } from "node:fs/promises";
import { posix } from "node:path";
import { HypervisorError } from "../errors.ts";
import {
  checkVolumeName,
  growOnly,
  MAX_VOLUME_BYTES,
  newVolumeFileName,
  nodeStorageFs,
  overlaySize,
  planDisk,
  SECTOR_BYTES,
  type PoolDir,
  type StorageFs,
  volumeFileNames,
} from "../storage/index.ts";
import { poolSourceText, snapshotVolumeName, validatePoolDefinition } from "../storage/pool-definition.ts";
import { buildVolumeDiskXml } from "../libvirt/domain-xml/volume-disk-xml.ts";
import { DEFAULT_POOL_ID, type DiskSpec, type NewVolume, type PoolDefinition, type PoolInfo, type VolumeAttachInfo, type VolumeInfo } from "../types.ts";
import { assertOpen, type MockContext } from "./context.ts";
import { planMockPoolVolume } from "./pool-volume-disks.ts";

export interface MockVolume {
  poolId: string;
  path: string;
  sizeBytes: number;
  format: "qcow2" | "raw";
  backingPath?: string;
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

/** Where a pool's volumes live: a directory (dir, netfs), the Ceph pool (an RBD volume is "<pool>/<image>", as in libvirt), or a device folder. */
export function poolRoot(def: PoolDefinition): string {
  switch (def.type) {
    case "dir":
    case "netfs":
      return def.path;
    case "rbd":
      return def.ceph.pool;
    case "iscsi":
      return def.iscsi.volumeGroup !== undefined
        ? `/dev/${def.iscsi.volumeGroup}`
        : `/dev/disk/by-path/ip-${def.iscsi.portal.host}:${def.iscsi.portal.port}-iscsi-${def.iscsi.target}`;
  }
}

const fileBased = (def: PoolDefinition) => def.type === "dir" || def.type === "netfs";

export const poolDirs = (ctx: MockContext): PoolDir[] => [...ctx.storage.pools.values()].filter(fileBased).map((p) => ({ id: p.id, path: poolRoot(p) }));

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
    const inVolumePool = await planMockPoolVolume(ctx, poolRoot, vmId, disk, field(i));
    if (inVolumePool) {
      if (inVolumePool.created) created.push(inVolumePool.created);
      out.push(inVolumePool.disk);
      continue;
    }
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

const typeOfVolumes = (def: PoolDefinition) => (fileBased(def) ? "file" : "device");
/** A network or block pool in the mock: 1 TiB, as the reference node assumes for Ceph without figures. */
const VIRTUAL_POOL_BYTES = 1024 ** 4;

/** Figures of the pool's filesystem, as libvirt reports a dir pool's (a capacity cap is not enforced there either). */
async function poolInfo(ctx: MockContext, def: PoolDefinition): Promise<PoolInfo> {
  const volumes = [...ctx.storage.volumes.values()].filter((v) => v.poolId === def.id);
  let total = VIRTUAL_POOL_BYTES;
  let available = Math.max(0, VIRTUAL_POOL_BYTES - volumes.reduce((n, v) => n + v.sizeBytes, 0));
  if (typeOfVolumes(def) === "file") {
    const fsStat = await filesystemOf(poolRoot(def));
    total = fsStat ? fsStat.blocks * fsStat.bsize : 0;
    available = fsStat ? fsStat.bavail * fsStat.bsize : 0;
  }
  const info: PoolInfo = {
    id: def.id,
    type: def.type,
    path: fileBased(def) ? poolRoot(def) : "",
    active: true,
    totalBytes: total,
    availableBytes: available,
    usedBytes: Math.max(0, total - available),
    volumeCount: volumes.length,
  };
  if (def.type === "iscsi") info.devicePath = poolRoot(def);
  if (def.type === "rbd") info.rbdPool = def.ceph.pool;
  const source = poolSourceText(def);
  if (source !== undefined) info.source = source;
  return info;
}

function definedPool(ctx: MockContext, id: string): PoolDefinition {
  const def = ctx.storage.pools.get(id);
  if (!def)
    throw new HypervisorError(
      "not_found",
      `storage pool ${id} not found on this node; create it with InitStoragePool (pools: ${[...ctx.storage.pools.keys()].join(", ")})`,
      "pool_id",
    );
  return def;
}

const sameDefinition = (a: PoolDefinition, b: PoolDefinition) => JSON.stringify(a) === JSON.stringify(b);

export async function initPool(ctx: MockContext, def: PoolDefinition): Promise<PoolInfo> {
  assertOpen(ctx);
  validatePoolDefinition(def);
  const existing = ctx.storage.pools.get(def.id);
  if (
    existing &&
    !sameDefinition(
      { ...existing, ...(existing.type === "dir" ? { capacityBytes: undefined } : {}) } as PoolDefinition,
      { ...def, ...(def.type === "dir" ? { capacityBytes: undefined } : {}) } as PoolDefinition,
    )
  ) {
    throw new HypervisorError(
      "already_exists",
      `storage pool ${def.id} already exists as a ${existing.type} pool at ${poolSourceText(existing) ?? poolRoot(existing)}, not ${poolSourceText(def) ?? poolRoot(def)}; destroy it first to change it`,
      "config",
    );
  }
  // The directory is real even in the mock, so ListStoragePoolFiles can read it.
  if (fileBased(def)) await mkdir(poolRoot(def), { recursive: true });
  ctx.storage.pools.set(def.id, def);
  return poolInfo(ctx, def);
}

export const getPool = (ctx: MockContext, id: string) => poolInfo(ctx, definedPool(ctx, id));
export const listPools = (ctx: MockContext) => Promise.all([...ctx.storage.pools.values()].map((p) => poolInfo(ctx, p)));

function ownerOf(ctx: MockContext, path: string): string | undefined {
  for (const vm of ctx.vms.values()) if (vm.spec.disks.some((d) => d.device === "disk" && d.resolvedPath === path)) return vm.id;
  return undefined;
}

const usersOf = (ctx: MockContext, pred: (path: string) => boolean) =>
  [...ctx.vms.values()].filter((vm) => vm.spec.disks.some((d) => d.device === "disk" && d.resolvedPath !== undefined && pred(d.resolvedPath)));

function infoOf(ctx: MockContext, v: MockVolume): VolumeInfo {
  const info: VolumeInfo = { name: posix.basename(v.path), poolId: v.poolId, path: v.path, format: v.format, sizeBytes: v.sizeBytes, allocationBytes: 0 };
  if (v.backingPath !== undefined) info.backingPath = v.backingPath;
  const owner = ownerOf(ctx, v.path);
  if (owner !== undefined) info.attachedTo = owner;
  return info;
}

/** The pool's volume by id (file pools: with the extension rules); undefined when none. */
function lookup(ctx: MockContext, def: PoolDefinition, name: string): MockVolume | undefined {
  const names = fileBased(def) ? volumeFileNames(name) : [name];
  for (const n of names) {
    const v = ctx.storage.volumes.get(posix.join(poolRoot(def), n));
    if (v) return v;
  }
  return undefined;
}

function mustFind(ctx: MockContext, def: PoolDefinition, name: string, field = "volume_id"): MockVolume {
  checkVolumeName(name, field);
  const v = lookup(ctx, def, name);
  if (!v) throw new HypervisorError("not_found", `volume ${name} not found in storage pool ${def.id}`, field);
  return v;
}

/**
 * The volume `name` of the pool, or (default pool) the unique VM disk with that id, in whatever
 * pool its image lives: the control plane sends pool "default" for every disk it resizes.
 */
function findForResize(ctx: MockContext, pool: PoolDefinition, name: string): MockVolume {
  const v = lookup(ctx, pool, name);
  if (v) return v;
  if (pool.id === DEFAULT_POOL_ID) {
    const owners = [...ctx.vms.values()].flatMap((vm) =>
      vm.spec.disks.filter((d) => d.device === "disk" && d.id === name && recordedVolume(ctx, d.resolvedPath) !== undefined).map((d) => ({ vm, d })),
    );
    if (owners.length > 1) {
      throw new HypervisorError(
        "invalid_state",
        `disk id ${name} is used by several VMs (${owners.map((o) => o.vm.id).join(", ")}); name the volume file instead`,
        "volume_id",
      );
    }
    const owner = owners[0];
    if (owner) return recordedVolume(ctx, owner.d.resolvedPath)!;
  }
  throw new HypervisorError("not_found", `volume ${name} not found in storage pool ${pool.id}`, "volume_id");
}

export async function resizeVolume(ctx: MockContext, poolId: string, name: string, newSizeBytes: number): Promise<VolumeInfo> {
  assertOpen(ctx);
  const pool = definedPool(ctx, poolId);
  const volume = findForResize(ctx, pool, name);
  if (growOnly(name, volume.sizeBytes, newSizeBytes) === "grow") volume.sizeBytes = newSizeBytes;
  return infoOf(ctx, volume);
}

export async function destroyPool(ctx: MockContext, id: string): Promise<void> {
  assertOpen(ctx);
  if (id === DEFAULT_POOL_ID)
    throw new HypervisorError(
      "invalid_state",
      `storage pool ${DEFAULT_POOL_ID} is this node's own storage (hypervisor.storage_path); it cannot be destroyed`,
      "pool_id",
    );
  const def = definedPool(ctx, id);
  const root = `${poolRoot(def)}/`;
  const users = usersOf(ctx, (p) => p.startsWith(root));
  if (users.length > 0) {
    throw new HypervisorError(
      "invalid_state",
      `storage pool ${id} holds disks of ${users.map((vm) => `vm ${vm.spec.name} (${vm.id})`).join(", ")}; delete those vms or their disks first`,
      "pool_id",
    );
  }
  ctx.storage.pools.delete(id);
  // Like libvirt, the data stays; the mock forgets the pool's volumes with it.
  for (const [path, v] of ctx.storage.volumes) if (v.poolId === id) ctx.storage.volumes.delete(path);
}

export async function listVolumes(ctx: MockContext, poolId: string): Promise<VolumeInfo[]> {
  assertOpen(ctx);
  definedPool(ctx, poolId);
  return [...ctx.storage.volumes.values()]
    .filter((v) => v.poolId === poolId)
    .map((v) => infoOf(ctx, v))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function checkNewSize(bytes: number, withSource: boolean): void {
  const field = "size_bytes";
  if (!Number.isSafeInteger(bytes) || bytes < 0 || (bytes === 0 && !withSource))
    throw new HypervisorError("invalid_argument", `${field}: must be a positive number of bytes, got ${bytes}`, field);
  if (bytes > MAX_VOLUME_BYTES)
    throw new HypervisorError(
      "invalid_argument",
      `${field}: ${bytes} bytes is more than the ${MAX_VOLUME_BYTES} bytes (64 TiB) a volume may have; was GiB meant?`,
      field,
    );
  if (bytes % SECTOR_BYTES !== 0) throw new HypervisorError("invalid_argument", `${field}: must be a multiple of ${SECTOR_BYTES} bytes, got ${bytes}`, field);
}

function add(ctx: MockContext, def: PoolDefinition, name: string, v: Omit<MockVolume, "poolId" | "path">): VolumeInfo {
  if (lookup(ctx, def, name)) throw new HypervisorError("already_exists", `volume ${name} already exists in storage pool ${def.id}`, "volume_id");
  const file = fileBased(def) ? newVolumeFileName(name, v.format) : name;
  const vol: MockVolume = { poolId: def.id, path: posix.join(poolRoot(def), file), ...v };
  ctx.storage.volumes.set(vol.path, vol);
  return infoOf(ctx, vol);
}

export async function createVolume(ctx: MockContext, poolId: string, nv: NewVolume): Promise<VolumeInfo> {
  assertOpen(ctx);
  checkVolumeName(nv.name, "volume_id");
  checkNewSize(nv.sizeBytes, nv.source.kind !== "empty");
  const def = definedPool(ctx, poolId);
  const format = fileBased(def) ? nv.format : "raw";
  const src = nv.source;
  if (src.kind === "empty") return add(ctx, def, nv.name, { sizeBytes: nv.sizeBytes, format });
  if (src.kind === "image") {
    if (src.image === "") throw new HypervisorError("invalid_argument", "source_id: an image path or name is required", "source_id");
    if (!fileBased(def))
      throw new HypervisorError(
        "unsupported",
        `source_id: images cannot be copied into a ${def.type} pool; create the volume empty or from a volume of the pool`,
        "source_id",
      );
    return add(ctx, def, nv.name, { sizeBytes: nv.sizeBytes, format: "qcow2", backingPath: src.image });
  }
  const base = mustFind(ctx, def, src.kind === "clone" ? src.volume : snapshotVolumeName(src.volume, src.snapshot), "source_id");
  const size = overlaySize(nv.sizeBytes, base.sizeBytes);
  return fileBased(def)
    ? add(ctx, def, nv.name, { sizeBytes: size, format: "qcow2", backingPath: base.path })
    : add(ctx, def, nv.name, { sizeBytes: size, format: "raw" });
}

export async function deleteVolume(ctx: MockContext, poolId: string, name: string): Promise<VolumeInfo> {
  assertOpen(ctx);
  const def = definedPool(ctx, poolId);
  const v = mustFind(ctx, def, name);
  const users = usersOf(ctx, (p) => p === v.path);
  if (users.length > 0)
    throw new HypervisorError(
      "invalid_state",
      `volume ${name} is a disk of ${users.map((vm) => `vm ${vm.spec.name} (${vm.id})`).join(", ")}; detach it or delete the vm first`,
      "volume_id",
    );
  const bases = [...ctx.storage.volumes.values()].filter((o) => o.backingPath === v.path).map((o) => posix.basename(o.path));
  if (bases.length > 0) throw new HypervisorError("invalid_state", `volume ${name} is the base image of ${bases.join(", ")}; delete those first`, "volume_id");
  const info = infoOf(ctx, v);
  ctx.storage.volumes.delete(v.path);
  return info;
}

function copy(ctx: MockContext, def: PoolDefinition, v: MockVolume, dest: string, field: string): VolumeInfo {
  checkVolumeName(dest, field);
  const running = usersOf(ctx, (p) => p === v.path).filter((vm) => vm.state !== "stopped" && vm.state !== "crashed");
  if (running.length > 0)
    throw new HypervisorError(
      "invalid_state",
      `volume ${posix.basename(v.path)} is a disk of running ${running.map((vm) => `vm ${vm.spec.name} (${vm.id})`).join(", ")}: a copy now would not be consistent; stop the vm, or snapshot the vm instead`,
      "volume_id",
    );
  return add(ctx, def, dest, { sizeBytes: v.sizeBytes, format: v.format });
}

export async function cloneVolume(ctx: MockContext, poolId: string, source: string, dest: string): Promise<VolumeInfo> {
  assertOpen(ctx);
  const def = definedPool(ctx, poolId);
  return copy(ctx, def, mustFind(ctx, def, source, "source_volume_id"), dest, "dest_volume_id");
}

export async function snapshotVolume(ctx: MockContext, poolId: string, volume: string, snapshot: string): Promise<VolumeInfo> {
  assertOpen(ctx);
  checkVolumeName(snapshot, "snapshot_id");
  if (snapshot.includes("@"))
    throw new HypervisorError("invalid_argument", `snapshot_id: must not contain "@", got ${JSON.stringify(snapshot)}`, "snapshot_id");
  const def = definedPool(ctx, poolId);
  return copy(ctx, def, mustFind(ctx, def, volume), snapshotVolumeName(volume, snapshot), "snapshot_id");
}

export async function volumeAttachInfo(ctx: MockContext, poolId: string, volume: string): Promise<VolumeAttachInfo> {
  assertOpen(ctx);
  const def = definedPool(ctx, poolId);
  const v = mustFind(ctx, def, volume);
  const info = infoOf(ctx, v);
  if (def.type === "rbd") {
    const path = `${def.ceph.pool}/${info.name}`;
    const monitors = def.ceph.monitors;
    return { volume: info, path, diskXml: buildVolumeDiskXml({ source: { kind: "rbd", image: path, monitors }, format: "raw", target: "vdb" }) };
  }
  const source = fileBased(def) ? ({ kind: "file", path: v.path } as const) : ({ kind: "block", path: v.path } as const);
  return { volume: info, path: v.path, diskXml: buildVolumeDiskXml({ source, format: info.format, target: "vdb" }) };
}
