// ResizeVolume: volumes only grow. The volume is a file in the pool (by name, with the extension
// rules of the storage rules); in the default pool a VM disk's id names it too, since the control
// plane's ResizeDisk sends pool "default" and its disk id. A disk of a running (or paused) VM is
// grown with virDomainBlockResize so the guest sees the new size at once; anything else through
// libvirt's volume resize (qemu-img), under the VM's lock so it cannot start meanwhile.

import { posix } from "node:path";
import { HypervisorError } from "../errors.ts";
import { DEFAULT_POOL_ID, type VmStatus, type VolumeInfo } from "../types.ts";
import {
  candidate,
  checkVolumeName,
  firstContained,
  formatOf,
  growOnly,
  inside,
  nodeStorageFs,
  poolById,
  readImageInfo,
  volumeFileNames,
  type PoolDir,
} from "../storage/index.ts";
import { vmCall, type LibvirtContext } from "./context.ts";
import { isActiveState } from "./state-map.ts";
import { listVms } from "./inventory.ts";
import { poolDirs } from "./pools.ts";
import { volumePoolOf } from "./pool-volume-disks.ts";
import { diskInVolumePool, resizePoolVolume } from "./pool-volume-resize.ts";

interface Located {
  path: string;
  /** The VM whose disk it is, and the disk's guest device name. */
  vm?: VmStatus;
  target?: string;
}

/**
 * The volume's file in the pool; with the default pool also the VM disk of that id, in whatever
 * pool its image lives: the control plane sends pool "default" for every disk it resizes.
 */
async function locate(ctx: LibvirtContext, pool: PoolDir, pools: readonly PoolDir[], volume: string): Promise<Located> {
  const tries = volumeFileNames(volume).map((n) => candidate(pool.path, n));
  const [byName, vms] = await Promise.all([firstContained(tries, nodeStorageFs), listVms(ctx)]);
  const users = (path: string) =>
    vms.flatMap((vm) => vm.spec.disks.filter((d) => d.device === "disk" && d.resolvedPath === path).map((d) => ({ vm, target: d.target })));
  let path = byName;
  if (path === undefined && pool.id === DEFAULT_POOL_ID) {
    const roots = pools.map((p) => posix.resolve(p.path));
    const inPool = (file: string) => roots.some((root) => inside(root, posix.resolve(file)));
    const owners = vms.flatMap((vm) =>
      vm.spec.disks.filter((d) => d.device === "disk" && d.id === volume && d.resolvedPath !== undefined && inPool(d.resolvedPath)).map(() => vm),
    );
    if (owners.length > 1) {
      throw new HypervisorError(
        "invalid_state",
        `volume_id: disk id ${volume} names a disk of several vms (${owners.map((v) => `${v.name} ${v.id}`).join(", ")}); resize it by its file name instead`,
        "volume_id",
      );
    }
    path = owners[0]?.spec.disks.find((d) => d.id === volume && d.device === "disk")?.resolvedPath;
  }
  if (path === undefined) {
    throw new HypervisorError(
      "not_found",
      `volume ${volume} not found in storage pool ${pool.id} at ${pool.path} (tried ${tries.map((t) => posix.basename(t.path)).join(", ")}` +
        `${pool.id === DEFAULT_POOL_ID ? `, and no vm has a disk with id ${volume} in a storage pool` : ""})`,
      "volume_id",
    );
  }
  const [use, ...more] = users(path);
  if (more.length > 0) ctx.log.warn(`volume ${path} is a disk of several vms: ${[use, ...more].map((u) => u?.vm.id).join(", ")}`);
  return use ? { path, vm: use.vm, ...(use.target !== undefined ? { target: use.target } : {}) } : { path };
}

export async function resizeVolume(ctx: LibvirtContext, poolId: string, volume: string, newSizeBytes: number): Promise<VolumeInfo> {
  if (typeof volume !== "string") throw new HypervisorError("invalid_argument", "volume_id: must be a volume name", "volume_id");
  checkVolumeName(volume, "volume_id");
  // The size's own rules (positive, whole sectors, at most 64 TiB) before anything is looked up.
  growOnly(volume, 0, newSizeBytes);
  // RBD, iSCSI and LVM pools: by volume name through libvirt (pool-volume-resize.ts).
  const volumePool = await volumePoolOf(ctx, poolId);
  if (volumePool) return resizePoolVolume(ctx, volumePool, volume, newSizeBytes);
  const pools = await poolDirs(ctx);
  const pool = poolById(pools, poolId === "" ? undefined : poolId, "pool_id");
  const at = await locate(ctx, pool, pools, volume).catch(async (err: unknown) => {
    // The control plane resizes every disk as pool "default" + disk id, wherever it was placed.
    const placed = pool.id === DEFAULT_POOL_ID ? await diskInVolumePool(ctx, volume) : undefined;
    if (placed) return placed;
    throw err;
  });
  if ("pool" in at) return resizePoolVolume(ctx, at.pool, at.volume, newSizeBytes);
  const run = <T>(fn: () => Promise<T>) => (at.vm ? ctx.locks.run(at.vm.id, fn) : fn());
  return run(async () => {
    const header = await readImageInfo(at.path);
    const info = (sizeBytes: number): VolumeInfo => ({
      name: posix.basename(at.path),
      poolId: pool.id,
      path: at.path,
      format: header?.format ?? formatOf(at.path, undefined),
      sizeBytes,
      ...(at.vm ? { attachedTo: at.vm.id } : {}),
    });
    // The state may have changed since the listing: read it again under the lock.
    const live = at.vm !== undefined && at.target !== undefined && isActiveState((await vmCall(ctx, at.vm.id, "state", at.vm.id)).state);
    if (live && at.vm && at.target) {
      if (header === undefined) throw new HypervisorError("internal", `volume ${at.path} cannot be read as a disk image`);
      if (growOnly(volume, header.virtualSize, newSizeBytes) === "unchanged") return info(header.virtualSize);
      await ctx.pool.call("blockResize", at.vm.id, at.target, newSizeBytes);
      ctx.log.info(`grew disk ${at.target} of running vm ${at.vm.id} (${at.path}) from ${header.virtualSize} to ${newSizeBytes} bytes`);
      return info((await readImageInfo(at.path))?.virtualSize ?? newSizeBytes);
    }
    const { before, after } = await ctx.pool.call("resizeVolume", at.path, newSizeBytes, volume);
    if (after !== before) ctx.log.info(`grew volume ${at.path} from ${before} to ${after} bytes`);
    return info(after);
  });
}
