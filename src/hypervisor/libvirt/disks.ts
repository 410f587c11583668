// Disk images: new ones are volumes of the backend's directory pool (storagePath), created
// through libvirt; existing ones are probed for their format. Deletion never leaves storagePath.

import { open } from "node:fs/promises";
import { resolve, sep } from "node:path";
import type { DiskFormat, DiskSpec } from "../types.ts";
import { buildDirPoolXml, buildVolumeXml } from "./domain-xml/index.ts";
import { formatOf, type LibvirtContext } from "./context.ts";

export function poolXml(ctx: LibvirtContext): string {
  return buildDirPoolXml({ name: ctx.settings.poolName, path: ctx.settings.storagePath });
}

/** Volume file name: the VM's UUID and the disk id are both restricted to [a-z0-9_-]. */
export const volumeName = (vmId: string, disk: DiskSpec, format: DiskFormat) => `${vmId}-${disk.id}.${format}`;

async function readHeader(path: string): Promise<Uint8Array | undefined> {
  try {
    const fh = await open(path, "r");
    try {
      const buf = new Uint8Array(4);
      const { bytesRead } = await fh.read(buf, 0, 4, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}

export async function probeFormat(path: string): Promise<DiskFormat> {
  return formatOf(path, await readHeader(path));
}

export interface ResolvedDisk {
  disk: DiskSpec;
  format: DiskFormat;
  /** Set when this call created the image (so a failure can remove it again). */
  createdPath?: string;
}

/** Gives a disk its resolvedPath: a new volume for newImage, the given path otherwise. */
export async function resolveDisk(ctx: LibvirtContext, vmId: string, disk: DiskSpec): Promise<ResolvedDisk> {
  if (disk.newImage) {
    const img = disk.newImage;
    const volume = buildVolumeXml({
      name: volumeName(vmId, disk, img.format),
      sizeBytes: img.sizeBytes,
      format: img.format,
      ...(img.backingPath !== undefined ? { backingPath: img.backingPath, backingFormat: await probeFormat(img.backingPath) } : {}),
    });
    const { poolName, storagePath } = ctx.settings;
    const path = await ctx.pool.call("createVolume", poolName, storagePath, poolXml(ctx), volume);
    return { disk: { ...disk, resolvedPath: path }, format: img.format, createdPath: path };
  }
  const path = disk.path ?? disk.resolvedPath;
  if (path === undefined) return { disk, format: "raw" };
  return { disk: { ...disk, resolvedPath: path }, format: await probeFormat(path) };
}

export function insideStorage(ctx: LibvirtContext, path: string): boolean {
  const root = resolve(ctx.settings.storagePath);
  const p = resolve(path);
  return p.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** Deletes the images at paths that lie inside storagePath; returns the ones deleted. */
export async function deleteImages(ctx: LibvirtContext, paths: string[]): Promise<string[]> {
  const deleted: string[] = [];
  const { poolName, storagePath } = ctx.settings;
  for (const path of paths) {
    if (!insideStorage(ctx, path)) {
      ctx.log.info(`keeping ${path}: it is outside the storage path ${storagePath}`);
      continue;
    }
    if (await ctx.pool.call("deleteVolume", poolName, storagePath, poolXml(ctx), path)) deleted.push(path);
  }
  return deleted;
}
