// The mock's VM disks in Ceph RBD and iSCSI pools, by the same rule as libvirt's
// (storage/plan-pool-volume.ts): one raw volume of the pool, existing or made (a full copy of a
// base volume of the pool for a backing file). Its path is what libvirt's disk names: an RBD
// pool's "<ceph pool>/<image>", a volume group's /dev/<vg>/<lv>.

import { posix } from "node:path";
import { planPoolVolumeDisk, type VolumePoolType } from "../storage/plan-pool-volume.ts";
import type { DiskSpec, PoolDefinition } from "../types.ts";
import type { MockContext } from "./context.ts";
import type { MockVolume } from "./storage.ts";

function volumePoolType(def: PoolDefinition): VolumePoolType | undefined {
  if (def.type === "rbd") return "rbd";
  if (def.type === "iscsi") return def.iscsi.volumeGroup !== undefined ? "logical" : "iscsi";
  return undefined;
}

/**
 * The disk placed in its RBD or iSCSI pool, and the volume made for it (recorded by the caller);
 * undefined when the disk's pool is a file pool (or unknown: planDisk names it).
 */
export async function planMockPoolVolume(
  ctx: MockContext,
  root: (def: PoolDefinition) => string,
  vmId: string,
  disk: DiskSpec,
  field: string,
): Promise<{ disk: DiskSpec; created?: MockVolume } | undefined> {
  const def = disk.pool ? ctx.storage.pools.get(disk.pool) : undefined;
  const type = def && volumePoolType(def);
  if (!def || !type) return undefined;
  const pathOf = (name: string) => posix.join(root(def), name);
  const lookup = async (name: string) => {
    const v = ctx.storage.volumes.get(pathOf(name));
    return v && { sizeBytes: v.sizeBytes };
  };
  const plan = await planPoolVolumeDisk(vmId, disk, { id: def.id, type }, lookup, field);
  const resolved: DiskSpec = { ...disk, resolvedPath: pathOf(plan.name) };
  if (plan.kind === "existing") return { disk: resolved };
  return { disk: resolved, created: { poolId: def.id, path: pathOf(plan.name), sizeBytes: plan.sizeBytes, format: "raw" } };
}
