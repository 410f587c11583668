// Where a disk's image is, or where it is to be created: the rule both backends follow for a
// DiskSpec (path, volume, newImage, pool). Pure apart from the StorageFs it is handed.
//
//   path (absolute)          the image as given (existing)
//   volume in pool           <pool dir>/<volume>, then with .qcow2, .raw, .img appended: existing;
//                            none there and newImage given: created in the pool as <volume>
//                            (+ .qcow2 / .raw by format unless the name ends in one)
//   newImage alone           created in the pool as <vm id>-<disk id>.<format>
//   cdrom with volume        the ISO found by resolveIsoPath (every pool, then the ISO folders)
//   cdrom with neither       an empty drive
//
// The pool is disk.pool, else the node's default storage (DEFAULT_POOL_ID). A backing file
// (newImage.backingPath) given absolute must exist; given relative (the control plane sends a
// source volume id or a cloud image name) it is looked up in the disk's pool, the default pool,
// every other pool, then the cloud images folder, with the same extension rule.

import { posix } from "node:path";
import { HypervisorError } from "../errors.ts";
import { DEFAULT_POOL_ID, type DiskFormat, type DiskSpec, type NewDiskImage } from "../types.ts";
import { resolveIsoPath, type PoolDir } from "./iso-path.ts";
import { candidate, dirsOf, firstContained, unique, type Candidate } from "./lookup.ts";
import type { StorageFs } from "./storage-fs.ts";

export type { PoolDir } from "./iso-path.ts";

export type DiskPlan =
  | { kind: "existing"; path: string }
  /** A CD-ROM with no medium. */
  | { kind: "empty" }
  | {
      kind: "create";
      poolId: string;
      /** The pool's directory. */
      dir: string;
      /** File name inside dir. */
      name: string;
      /** dir + name. */
      path: string;
      image: NewDiskImage;
      /** Canonical host path of the backing image, when image.backingPath was given. */
      backingPath?: string;
    };

export interface PlanOptions {
  /** Field prefix for errors, e.g. "spec.disks[0]". */
  field?: string;
  /** The node's cloud (base) images folder, searched last for a relative backing file. */
  cloudImagesDir?: string;
  /** Extra folders searched for a CD-ROM's ISO after the pools (the node's ISO folder). */
  isoDirs?: readonly string[];
}

/** Extensions a volume name may end in; a name without one is also tried with each appended. */
export const IMAGE_EXTENSIONS = [".qcow2", ".raw", ".img"] as const;

const hasImageExtension = (name: string) => IMAGE_EXTENSIONS.some((e) => name.toLowerCase().endsWith(e));

/** File names a volume may have on disk, in the order they are tried. */
export function volumeFileNames(volume: string): string[] {
  return hasImageExtension(volume) ? [volume] : [volume, ...IMAGE_EXTENSIONS.map((e) => `${volume}${e}`)];
}

/** The file name a new volume gets: as given when it ends in an image extension, else + .<format>. */
export function newVolumeFileName(volume: string, format: DiskFormat): string {
  return hasImageExtension(volume) ? volume : `${volume}.${format}`;
}

/** Name of a new image given only as newImage (the same as before pools existed). */
export const generatedVolumeName = (vmId: string, diskId: string, format: DiskFormat) => `${vmId}-${diskId}.${format}`;

/** A volume name is one file name in the pool's directory. */
export function checkVolumeName(volume: string, field: string): void {
  const bad = volume === "" || volume === "." || volume === ".." || volume.includes("/") || volume.includes("\0") || Buffer.byteLength(volume) > 255;
  if (bad) {
    throw new HypervisorError(
      "invalid_argument",
      `${field}: ${JSON.stringify(volume.slice(0, 80))} is not a volume name (one file name in the pool, no "/")`,
      field,
    );
  }
}

export function poolById(pools: readonly PoolDir[], id: string | undefined, field: string): PoolDir {
  const want = id === undefined || id === "" ? DEFAULT_POOL_ID : id;
  const pool = pools.find((p) => p.id === want);
  if (pool) return pool;
  const known = pools.map((p) => p.id).sort();
  throw new HypervisorError(
    "not_found",
    `${field}: storage pool ${JSON.stringify(want)} not found on this node (known pools: ${known.join(", ") || "none"}); create it with InitStoragePool first`,
    field,
  );
}

function mismatchedExtension(name: string, format: DiskFormat): boolean {
  const lower = name.toLowerCase();
  return (lower.endsWith(".qcow2") && format !== "qcow2") || (lower.endsWith(".raw") && format !== "raw");
}

export async function planDisk(vmId: string, disk: DiskSpec, pools: readonly PoolDir[], fs: StorageFs, opts: PlanOptions = {}): Promise<DiskPlan> {
  const field = opts.field ?? "disk";
  if (disk.path !== undefined && disk.path !== "") return { kind: "existing", path: disk.path };
  const volume = disk.volume !== undefined && disk.volume !== "" ? disk.volume : undefined;

  if (disk.device === "cdrom") {
    if (volume === undefined) return { kind: "empty" };
    // A pool named on the CD-ROM is searched first, then every other pool.
    const first = disk.pool ? [poolById(pools, disk.pool, `${field}.pool_id`)] : [];
    const ordered = [...first, ...pools.filter((p) => !first.includes(p))];
    return { kind: "existing", path: await resolveIsoPath(volume, ordered, opts.isoDirs ?? [], fs, `${field}.iso_path`) };
  }

  const pool = poolById(pools, disk.pool, `${field}.pool_id`);
  if (volume !== undefined) {
    checkVolumeName(volume, `${field}.path`);
    const tries = volumeFileNames(volume).map((n) => candidate(pool.path, n));
    const found = await firstContained(tries, fs);
    if (found !== undefined) return { kind: "existing", path: found };
    if (disk.newImage === undefined) {
      throw new HypervisorError(
        "not_found",
        `${field}.path: volume ${JSON.stringify(volume)} not found in storage pool ${pool.id} at ${pool.path} (tried ${tries.map((t) => posix.basename(t.path)).join(", ")}) ` +
          `and no size was given to create it`,
        `${field}.path`,
      );
    }
  }
  if (disk.newImage === undefined) {
    throw new HypervisorError("invalid_argument", `${field}: a disk needs a path, a volume or a new image`, `${field}.path`);
  }
  const image = disk.newImage;
  const name = volume !== undefined ? newVolumeFileName(volume, image.format) : generatedVolumeName(vmId, disk.id, image.format);
  if (volume !== undefined && mismatchedExtension(name, image.format)) {
    throw new HypervisorError(
      "invalid_argument",
      `${field}.format: volume ${JSON.stringify(volume)} is named as another format than the ${image.format} asked for`,
      `${field}.format`,
    );
  }
  const path = posix.join(pool.path, name);
  if (await fs.isFile(path)) {
    // Only reachable for a generated name: a named volume that exists was found above.
    throw new HypervisorError(
      "already_exists",
      `${field}: image ${path} already exists (left by an earlier vm ${vmId}?); delete it, or name it as the disk's volume to use it`,
      `${field}.path`,
    );
  }
  const plan: DiskPlan = { kind: "create", poolId: pool.id, dir: pool.path, name, path, image };
  if (image.backingPath !== undefined && image.backingPath !== "") {
    plan.backingPath = await resolveBacking(image.backingPath, pool, pools, fs, opts.cloudImagesDir, `${field}.backing_file`);
  }
  return plan;
}

/** The places a relative backing name is looked for: the disk's pool, default, every pool, cloud images. */
export function backingCandidates(name: string, pool: PoolDir, pools: readonly PoolDir[], cloudImagesDir: string | undefined): Candidate[] {
  const dirs = [pool.path, ...pools.filter((p) => p.id === DEFAULT_POOL_ID).map((p) => p.path), ...pools.map((p) => p.path)];
  if (cloudImagesDir !== undefined) dirs.push(cloudImagesDir);
  return unique(dirs.flatMap((d) => volumeFileNames(name).map((n) => candidate(d, n))));
}

async function resolveBacking(
  backing: string,
  pool: PoolDir,
  pools: readonly PoolDir[],
  fs: StorageFs,
  cloudImagesDir: string | undefined,
  field: string,
): Promise<string> {
  if (backing.includes("\0")) throw new HypervisorError("invalid_argument", `${field}: contains a NUL character`, field);
  if (backing.startsWith("/")) {
    if (await fs.isFile(backing)) return backing;
    throw new HypervisorError("invalid_state", `${field}: backing file ${backing} not found (looked in ${backing})`, field);
  }
  const tries = backingCandidates(backing, pool, pools, cloudImagesDir);
  const found = await firstContained(tries, fs);
  if (found !== undefined) return found;
  throw new HypervisorError(
    "invalid_state",
    `${field}: backing file ${JSON.stringify(backing)} not found (looked in ${dirsOf(tries).join(", ")} for ${volumeFileNames(backing).join(", ")})`,
    field,
  );
}
