// ResizeVolume of a volume in a Ceph RBD, iSCSI or LVM pool (volumes.ts serves file pools). The
// volume only grows: a disk of a running (or paused) VM through virDomainBlockResize, so the
// guest sees the new size at once; anything else through virStorageVolResize (an RBD resize, an
// lvextend), under the VM's lock so it cannot start meanwhile. The control plane's ResizeDisk
// sends pool "default" and a disk id: diskInVolumePool finds such a disk placed in one of these pools.

import { HypervisorError } from "../errors.ts";
import type { VmStatus, VolumeInfo } from "../types.ts";
import { growOnly } from "../storage/index.ts";
import { generatedPoolVolumeName } from "../storage/plan-pool-volume.ts";
import { vmCall, type LibvirtContext } from "./context.ts";
import { listVms } from "./inventory.ts";
import { diskSourceOf, requireUsable, volumePoolOf, type VolumePoolRef } from "./pool-volume-disks.ts";
import { storageCall } from "./pools.ts";
import { isActiveState } from "./state-map.ts";

/** The pool and volume name of the VM disk with this id placed in an RBD, iSCSI or LVM pool. */
export async function diskInVolumePool(ctx: LibvirtContext, diskId: string): Promise<{ pool: VolumePoolRef; volume: string } | undefined> {
  const vms = await listVms(ctx);
  const owners = vms.flatMap((vm) => vm.spec.disks.filter((d) => d.device === "disk" && d.id === diskId && d.pool).map((d) => ({ vm, d })));
  for (const { vm, d } of owners) {
    const pool = await volumePoolOf(ctx, d.pool);
    if (pool) return { pool, volume: d.volume || generatedPoolVolumeName(vm.id, d.id) };
  }
  return undefined;
}

export async function resizePoolVolume(ctx: LibvirtContext, pool: VolumePoolRef, volume: string, bytes: number): Promise<VolumeInfo> {
  await requireUsable(ctx, pool, "pool_id");
  const read = () => storageCall(ctx, `reading volume ${volume} of storage pool ${pool.id}`, "volume", pool.lvName, volume);
  const found = await read();
  if (found === null) throw new HypervisorError("not_found", `volume ${volume} not found in storage pool ${pool.id}`, "volume_id");
  const source = diskSourceOf(pool, found);
  const uses = (await listVms(ctx)).flatMap((vm) =>
    vm.spec.disks.filter((d) => d.device === "disk" && d.resolvedPath === source).map((d) => ({ vm, target: d.target })),
  );
  const use: { vm: VmStatus; target: string | undefined } | undefined = uses[0];
  const info = (sizeBytes: number): VolumeInfo => ({
    name: found.name,
    poolId: pool.id,
    path: found.path,
    format: "raw",
    sizeBytes,
    ...(use ? { attachedTo: use.vm.id } : {}),
  });
  const grow = async (): Promise<VolumeInfo> => {
    const now = await read();
    if (now === null) throw new HypervisorError("not_found", `volume ${volume} vanished from storage pool ${pool.id}`, "volume_id");
    if (growOnly(volume, now.capacity, bytes) === "unchanged") return info(now.capacity);
    const live = use?.target !== undefined && isActiveState((await vmCall(ctx, use.vm.id, "state", use.vm.id)).state);
    if (live && use?.target !== undefined) {
      await ctx.pool.call("blockResize", use.vm.id, use.target, bytes);
      ctx.log.info(`grew disk ${use.target} of running vm ${use.vm.id} (${source}) from ${now.capacity} to ${bytes} bytes`);
      return info(bytes);
    }
    const { before, after } = await storageCall(ctx, `resizing volume ${volume} of storage pool ${pool.id}`, "resizeVolumeNamed", pool.lvName, now.name, bytes);
    if (after !== before) ctx.log.info(`grew volume ${volume} of storage pool ${pool.id} from ${before} to ${after} bytes`);
    return info(after);
  };
  return use ? ctx.locks.run(use.vm.id, grow) : grow();
}
