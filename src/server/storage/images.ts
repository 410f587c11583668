// ListImages (the Rust node's RPC, contract 3.1): disk images and ISOs in the node's image folders
// and its file-based pools, three levels deep, each once. The id is the hex MD5 of the path, as
// the reference node derives it, so the same file keeps its id. Symbolic links are not followed
// (a link could lead anywhere on the host), and the walk stops at a fixed number of entries.

import { createHash } from "node:crypto";
import { lstat, readdir } from "node:fs/promises";
import { posix } from "node:path";
import { readImageInfo } from "../../hypervisor/storage/index.ts";
import type { ImageEntry } from "../convert/storage.ts";

export const IMAGE_FORMATS = ["iso", "qcow2", "img", "raw", "vmdk", "ova"] as const;
export const MAX_DEPTH = 3;
/** Directory entries looked at, in all folders together. */
export const MAX_ENTRIES = 20_000;

export const imageId = (path: string) => createHash("md5").update(path).digest("hex");

export function imageFormat(name: string): string | undefined {
  const dot = name.lastIndexOf(".");
  const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
  return (IMAGE_FORMATS as readonly string[]).includes(ext) ? ext : undefined;
}

/** Folders without the ones inside another in the list (walked once, from the outer one). */
export function outermost(dirs: readonly { path: string; poolId?: string }[]): { path: string; poolId?: string }[] {
  const norm = dirs.filter((d) => d.path.startsWith("/")).map((d) => ({ ...d, path: posix.normalize(d.path).replace(/(.)\/$/, "$1") }));
  return norm.filter((d, i) => !norm.some((o, j) => j !== i && (d.path.startsWith(`${o.path}/`) || (o.path === d.path && j < i))));
}

export async function listImages(dirs: readonly { path: string; poolId?: string }[]): Promise<ImageEntry[]> {
  const out: ImageEntry[] = [];
  let budget = MAX_ENTRIES;
  async function walk(dir: string, depth: number, poolId: string | undefined): Promise<void> {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.sort()) {
      if (--budget < 0) return;
      const path = posix.join(dir, name);
      const st = await lstat(path).catch(() => undefined);
      if (!st || st.isSymbolicLink()) continue;
      if (st.isDirectory()) {
        if (depth < MAX_DEPTH) await walk(path, depth + 1, poolId);
        continue;
      }
      const format = imageFormat(name);
      if (!st.isFile() || format === undefined) continue;
      const info = format === "qcow2" ? await readImageInfo(path) : undefined;
      out.push({
        imageId: imageId(path),
        name,
        path,
        sizeBytes: st.size,
        format,
        virtualSizeBytes: info?.virtualSize ?? st.size,
        ...(poolId !== undefined ? { poolId } : {}),
      });
    }
  }
  for (const d of outermost(dirs)) await walk(d.path, 1, d.poolId);
  return out;
}
