// Disk images and CD-ROM media: each DiskSpec is placed by the shared storage rules (planDisk),
// new images are volumes created through libvirt in their pool (overlays with a backingStore, at
// least as big as their base), existing ones are probed for their format. Deletion never leaves
// the storage roots.

import { rm } from "node:fs/promises";
import { posix } from "node:path";
import { HypervisorError } from "../errors.ts";
import { DEFAULT_POOL_ID, type DiskFormat, type DiskSpec } from "../types.ts";
import {
  formatOf,
  inside,
  nodeStorageFs,
  overlaySize,
  planDisk,
  readHeader,
  readImageInfo,
  resolveIsoPath,
  type DiskPlan,
  type PoolDir,
  type StorageFs,
} from "../storage/index.ts";
import { buildVolumeXml } from "./domain-xml/storage-xml.ts";
import type { LibvirtContext } from "./context.ts";
import { libvirtPoolName } from "./pool-rules.ts";
import { ownPoolXml, poolDirs } from "./pools.ts";
import { deletePoolVolumes, resolvePoolVolumeDisk, volumePoolOf } from "./pool-volume-disks.ts";
import type { NetworkDiskSourceDef } from "./domain-xml/model.ts";

export async function probeFormat(path: string): Promise<DiskFormat> {
  return formatOf(path, await readHeader(path));
}

export interface ResolvedDisk {
  disk: DiskSpec;
  format: DiskFormat;
  /** Set when this call created the image (so a failure can remove it again). */
  createdPath?: string;
  /** A Ceph volume: how QEMU reaches it (DomainBuildInput.diskNetworks, buildDiskDeviceXml). */
  network?: NetworkDiskSourceDef;
}

/** Where the storage rules look: every pool, plus the node's cloud image and ISO folders. */
export function planOptions(ctx: LibvirtContext, field: string) {
  return { field, cloudImagesDir: ctx.settings.cloudImagesDir, isoDirs: [ctx.settings.isoImagesDir] };
}

async function createImage(ctx: LibvirtContext, plan: Extract<DiskPlan, { kind: "create" }>, field: string): Promise<string> {
  const { image } = plan;
  let backing: { backingPath: string; backingFormat: DiskFormat } | undefined;
  let size = image.sizeBytes;
  if (plan.backingPath !== undefined) {
    const info = await readImageInfo(plan.backingPath);
    if (info === undefined) {
      throw new HypervisorError("invalid_state", `${field}.backing_file: ${plan.backingPath} cannot be read as a disk image`, `${field}.backing_file`);
    }
    backing = { backingPath: plan.backingPath, backingFormat: info.format };
    size = overlaySize(size, info.virtualSize);
  }
  const xml = buildVolumeXml({ name: plan.name, sizeBytes: size, format: image.format, ...(backing ?? {}) });
  const own = plan.poolId === DEFAULT_POOL_ID;
  const name = libvirtPoolName(plan.poolId, ctx.settings.poolName);
  return ctx.pool.call("createVolume", name, xml, own ? { path: ctx.settings.storagePath, poolXml: ownPoolXml(ctx) } : undefined);
}

/**
 * Gives a disk its resolvedPath: the existing image or ISO, a new volume, or none (an empty
 * CD-ROM). pools: from poolDirs (one listing for all of a VM's disks).
 */
export async function resolveDisk(
  ctx: LibvirtContext,
  vmId: string,
  disk: DiskSpec,
  pools: readonly PoolDir[],
  field: string,
  fs: StorageFs = nodeStorageFs,
): Promise<ResolvedDisk> {
  // A disk read back from libvirt (attach of a known spec) already has its image.
  const { resolvedPath: _old, ...request } = disk;
  // A pool that is not a directory (RBD, iSCSI, LVM): the disk is one of its volumes, always raw
  // (a device is never probed for a format: a guest could write any header into it).
  const volumePool = pools.some((p) => p.id === (request.pool || DEFAULT_POOL_ID)) ? undefined : await volumePoolOf(ctx, request.pool);
  if (volumePool) return { ...(await resolvePoolVolumeDisk(ctx, vmId, request, volumePool, field)), format: "raw" };
  const plan = await planDisk(vmId, request, pools, fs, planOptions(ctx, field));
  switch (plan.kind) {
    case "empty":
      return { disk: request, format: "raw" };
    case "existing":
      return { disk: { ...request, resolvedPath: plan.path }, format: disk.device === "cdrom" ? "raw" : await probeFormat(plan.path) };
    case "create": {
      const path = await createImage(ctx, plan, field);
      return { disk: { ...request, resolvedPath: path }, format: plan.image.format, createdPath: path };
    }
  }
}

/** A CD-ROM medium's host path: absolute as given, relative resolved like a CD-ROM's volume. */
export async function resolveMedium(
  ctx: LibvirtContext,
  medium: { path?: string; volume?: string },
  field = "iso_path",
  fs: StorageFs = nodeStorageFs,
): Promise<string | undefined> {
  if (medium.path !== undefined && medium.path !== "") {
    if (!medium.path.startsWith("/")) return resolveMedium(ctx, { volume: medium.path }, field, fs);
    return medium.path;
  }
  if (medium.volume === undefined || medium.volume === "") return undefined;
  return resolveIsoPath(medium.volume, await poolDirs(ctx), [ctx.settings.isoImagesDir], fs, field);
}

/**
 * Folders whose images a delete may remove: the node's storage and every pool the node lists,
 * never the cloud image or ISO folders (base images and install media are shared).
 */
export async function deletableRoots(ctx: LibvirtContext): Promise<{ roots: string[]; keep: string[] }> {
  const pools = await poolDirs(ctx).catch(() => [] as PoolDir[]);
  const roots = [...new Set([ctx.settings.storagePath, ...pools.map((p) => p.path)])].map((p) => posix.resolve(p)).filter((p) => p !== "/");
  return { roots, keep: [ctx.settings.cloudImagesDir, ctx.settings.isoImagesDir].map((p) => posix.resolve(p)) };
}

export function deletable(path: string, where: { roots: string[]; keep: string[] }): boolean {
  const p = posix.resolve(path);
  return where.roots.some((r) => inside(r, p)) && !where.keep.some((k) => p === k || inside(k, p));
}

export function insideStorage(ctx: LibvirtContext, path: string): boolean {
  return inside(posix.resolve(ctx.settings.storagePath), posix.resolve(path));
}

/**
 * Deletes the images at paths that lie inside the storage roots, and the volumes of RBD and LVM
 * pools that disk sources name; returns the ones deleted.
 */
export async function deleteImages(ctx: LibvirtContext, paths: string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const where = await deletableRoots(ctx);
  // Only a volume of one of those pools matches exactly; any other path is kept below.
  const deleted: string[] = await deletePoolVolumes(
    ctx,
    paths.filter((p) => !deletable(p, where)),
  );
  for (const path of paths) {
    if (deleted.includes(path)) continue;
    if (!deletable(path, where)) {
      ctx.log.info(`keeping ${path}: it is outside the storage pools (${where.roots.join(", ")}) or in a shared image folder`);
      continue;
    }
    if (await ctx.pool.call("deleteVolume", path)) deleted.push(path);
    else ctx.log.info(`keeping ${path}: no storage pool holds it`);
  }
  return deleted;
}

/** Removes a file the node wrote itself (a cloud-init ISO), only inside its own storage. */
export async function removeNodeFile(ctx: LibvirtContext, path: string): Promise<void> {
  if (!insideStorage(ctx, path)) return;
  await rm(path, { force: true }).catch((err) => ctx.log.warn(`could not remove ${path}`, err));
}
