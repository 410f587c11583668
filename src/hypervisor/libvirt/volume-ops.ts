// Volumes of a pool through libvirt's storage API: list, create (empty, a copy-on-write clone of
// a volume, an overlay on an image or on a volume snapshot), delete, full copy, point-in-time
// snapshot copy, and the <disk> that attaches one. No qemu-img, no virsh: virStorageVolCreateXML
// (with a backingStore for overlays), virStorageVolCreateXMLFrom, virStorageVolDelete.
//
// In file-based pools (dir, netfs) a volume id names a file: "<id>", else "<id>.qcow2", ".raw",
// ".img" (the storage rules' volumeFileNames), and a new one gets the format's extension, as VM
// disks do. In block and network pools (logical, iscsi, rbd) the id is the volume's name, raw.

import { posix } from "node:path";
import { HypervisorError } from "../errors.ts";
import type { DiskFormat, NewVolume, PoolInfo, VmStatus, VolumeAttachInfo, VolumeInfo } from "../types.ts";
import {
  backingCandidates,
  checkVolumeName,
  firstContained,
  MAX_VOLUME_BYTES,
  newVolumeFileName,
  nodeStorageFs,
  overlaySize,
  readImageInfo,
  SECTOR_BYTES,
  volumeFileNames,
} from "../storage/index.ts";
import { snapshotVolumeName } from "../storage/pool-definition.ts";
import type { LibvirtContext } from "./context.ts";
import { parsePoolXml } from "./domain-xml/pool-xml.ts";
import { buildVolumeXml, parseVolumeXml } from "./domain-xml/storage-xml.ts";
import { buildVolumeDiskXml, type VolumeDiskSource } from "./domain-xml/volume-disk-xml.ts";
import { listVms } from "./inventory.ts";
import { getPool, poolDirs, storageCall } from "./pools.ts";
import { libvirtPoolName } from "./pool-rules.ts";
import type { RawVolume } from "./storage-ops.ts";

const fileBased = (p: PoolInfo) => p.type === "dir" || p.type === "netfs";

interface Found {
  pool: PoolInfo;
  /** libvirt pool name */
  lvPool: string;
  raw: RawVolume;
}

function volumeInfoOf(pool: PoolInfo, raw: RawVolume, vms: readonly VmStatus[]): VolumeInfo {
  const parsed = parseVolumeXml(raw.xml);
  const info: VolumeInfo = {
    name: raw.name,
    poolId: pool.id,
    path: raw.path,
    format: parsed.format === "qcow2" ? "qcow2" : "raw",
    sizeBytes: raw.capacity,
    allocationBytes: raw.allocation,
  };
  if (parsed.backingPath !== undefined) info.backingPath = parsed.backingPath;
  const user = usersOf(sourceOf(pool, raw), vms)[0];
  if (user !== undefined) info.attachedTo = user.id;
  return info;
}

/** What a VM's disk names for the volume: "<ceph pool>/<image>" for RBD (as libvirt's RBD volume path), else its path. */
const sourceOf = (pool: PoolInfo, raw: Pick<RawVolume, "name" | "path">) => (pool.type === "rbd" ? `${pool.rbdPool ?? ""}/${raw.name}` : raw.path);

const usersOf = (path: string, vms: readonly VmStatus[]) => vms.filter((vm) => vm.spec.disks.some((d) => d.device === "disk" && d.resolvedPath === path));
const named = (vms: readonly VmStatus[]) => vms.map((vm) => `vm ${vm.name} (${vm.id})`).join(", ");

/** The volume of the pool by id (a file-based pool's extension rules apply); not_found naming what was tried. */
async function find(ctx: LibvirtContext, poolId: string, volume: string, field = "volume_id"): Promise<Found> {
  checkVolumeName(volume, field);
  const pool = await getPool(ctx, poolId);
  const lvPool = libvirtPoolName(pool.id, ctx.settings.poolName);
  const tries = fileBased(pool) ? volumeFileNames(volume) : [volume];
  for (const name of tries) {
    const raw = await storageCall(ctx, `reading volume ${name} of storage pool ${pool.id}`, "volume", lvPool, name);
    if (raw !== null) return { pool, lvPool, raw };
  }
  throw new HypervisorError("not_found", `volume ${volume} not found in storage pool ${pool.id} (tried ${tries.join(", ")})`, field);
}

export async function listVolumes(ctx: LibvirtContext, poolId: string): Promise<VolumeInfo[]> {
  const pool = await getPool(ctx, poolId);
  const [raws, vms] = await Promise.all([
    storageCall(ctx, `listing the volumes of storage pool ${pool.id}`, "volumes", libvirtPoolName(pool.id, ctx.settings.poolName)),
    listVms(ctx),
  ]);
  return raws
    .filter((r) => r.type !== 2) // directories inside a dir pool are not volumes
    .map((r) => volumeInfoOf(pool, r, vms))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A new volume's size: positive (or 0 with a source: the source's), whole sectors, at most 64 TiB. */
function checkNewSize(bytes: number, withSource: boolean): void {
  const field = "size_bytes";
  if (!Number.isSafeInteger(bytes) || bytes < 0 || (bytes === 0 && !withSource)) {
    throw new HypervisorError("invalid_argument", `${field}: must be a positive number of bytes, got ${bytes}`, field);
  }
  if (bytes > MAX_VOLUME_BYTES)
    throw new HypervisorError(
      "invalid_argument",
      `${field}: ${bytes} bytes is more than the ${MAX_VOLUME_BYTES} bytes (64 TiB) a volume may have; was GiB meant?`,
      field,
    );
  if (bytes % SECTOR_BYTES !== 0) throw new HypervisorError("invalid_argument", `${field}: must be a multiple of ${SECTOR_BYTES} bytes, got ${bytes}`, field);
}

async function refuseExisting(ctx: LibvirtContext, pool: PoolInfo, lvPool: string, volume: string): Promise<void> {
  for (const name of fileBased(pool) ? volumeFileNames(volume) : [volume]) {
    if ((await storageCall(ctx, `reading volume ${name}`, "volume", lvPool, name)) !== null) {
      throw new HypervisorError("already_exists", `volume ${volume} already exists in storage pool ${pool.id} (as ${name})`, "volume_id");
    }
  }
}

/** An image named by a CreateVolume IMAGE source: an absolute path, or a name in the pools and the cloud images folder. */
async function resolveImage(ctx: LibvirtContext, pool: PoolInfo, image: string): Promise<string> {
  const field = "source_id";
  if (image === "" || image.includes("\0")) throw new HypervisorError("invalid_argument", `${field}: an image path or name is required`, field);
  if (image.startsWith("/")) {
    if (await nodeStorageFs.isFile(image)) return image;
    throw new HypervisorError("not_found", `${field}: image ${image} not found`, field);
  }
  checkVolumeName(image, field);
  const pools = await poolDirs(ctx);
  const here = pools.find((p) => p.id === pool.id) ?? { id: pool.id, path: pool.path };
  const tries = backingCandidates(image, here, pools, ctx.settings.cloudImagesDir);
  const found = await firstContained(tries, nodeStorageFs);
  if (found === undefined)
    throw new HypervisorError("not_found", `${field}: image ${JSON.stringify(image)} not found in the storage pools or ${ctx.settings.cloudImagesDir}`, field);
  return found;
}

async function made(ctx: LibvirtContext, pool: PoolInfo, raw: RawVolume): Promise<VolumeInfo> {
  return volumeInfoOf(pool, raw, await listVms(ctx));
}

export async function createVolume(ctx: LibvirtContext, poolId: string, nv: NewVolume): Promise<VolumeInfo> {
  checkVolumeName(nv.name, "volume_id");
  checkNewSize(nv.sizeBytes, nv.source.kind !== "empty");
  const pool = await getPool(ctx, poolId);
  const lvPool = libvirtPoolName(pool.id, ctx.settings.poolName);
  await refuseExisting(ctx, pool, lvPool, nv.name);
  const files = fileBased(pool);
  // Block and network pools hold raw volumes only.
  const format: DiskFormat = files ? nv.format : "raw";
  const name = files ? newVolumeFileName(nv.name, format) : nv.name;
  const src = nv.source;
  if (src.kind === "empty") {
    const xml = buildVolumeXml({
      name,
      sizeBytes: nv.sizeBytes,
      ...(files ? { format } : {}),
      ...(pool.type === "iscsi" ? { allocationBytes: nv.sizeBytes } : {}),
    });
    const raw = await storageCall(ctx, `creating volume ${name} in storage pool ${pool.id}`, "createVolumeIn", lvPool, xml);
    ctx.log.info(`volume ${raw.path} created (${nv.sizeBytes} bytes, ${format})`);
    return made(ctx, pool, raw);
  }
  // Clones and snapshots come from a volume of this pool, images from a file.
  let base: { path: string; format: DiskFormat; size: number; volume?: string };
  if (src.kind === "image") {
    const path = await resolveImage(ctx, pool, src.image);
    const info = await readImageInfo(path);
    if (info === undefined) throw new HypervisorError("invalid_state", `source_id: ${path} cannot be read as a disk image`, "source_id");
    base = { path, format: info.format, size: info.virtualSize };
  } else {
    const from = src.kind === "clone" ? src.volume : snapshotVolumeName(src.volume, src.snapshot);
    const f = await find(ctx, pool.id, from, "source_id");
    base = { path: f.raw.path, format: parseVolumeXml(f.raw.xml).format === "qcow2" ? "qcow2" : "raw", size: f.raw.capacity, volume: f.raw.name };
  }
  const size = overlaySize(nv.sizeBytes, base.size);
  if (!files) {
    // No overlays on raw devices: a copy of the volume (rbd: libvirt clones it in Ceph).
    if (base.volume === undefined)
      throw new HypervisorError(
        "unsupported",
        `source_id: images cannot be copied into a ${pool.type} pool; create the volume empty or from a volume of the pool`,
        "source_id",
      );
    const xml = buildVolumeXml({ name, sizeBytes: size, ...(pool.type === "iscsi" ? { allocationBytes: size } : {}) });
    const raw = await storageCall(ctx, `copying volume ${base.volume} to ${name}`, "createVolumeIn", lvPool, xml, base.volume);
    return made(ctx, pool, raw);
  }
  const xml = buildVolumeXml({ name, sizeBytes: size, format: "qcow2", backingPath: base.path, backingFormat: base.format });
  const raw = await storageCall(ctx, `creating overlay ${name} in storage pool ${pool.id}`, "createVolumeIn", lvPool, xml);
  ctx.log.info(`volume ${raw.path} created on ${base.path} (${size} bytes)`);
  return made(ctx, pool, raw);
}

/** Overlays in the pool whose base is path (deleting it would break them). */
async function dependents(ctx: LibvirtContext, f: Found): Promise<string[]> {
  const all = await storageCall(ctx, `listing the volumes of storage pool ${f.pool.id}`, "volumes", f.lvPool);
  return all.filter((v) => v.name !== f.raw.name && parseVolumeXml(v.xml).backingPath === f.raw.path).map((v) => v.name);
}

export async function deleteVolume(ctx: LibvirtContext, poolId: string, volume: string): Promise<VolumeInfo> {
  const f = await find(ctx, poolId, volume);
  const vms = await listVms(ctx);
  const users = usersOf(sourceOf(f.pool, f.raw), vms);
  if (users.length > 0) {
    throw new HypervisorError("invalid_state", `volume ${volume} is a disk of ${named(users)}; detach it or delete the vm first`, "volume_id");
  }
  const bases = await dependents(ctx, f);
  if (bases.length > 0)
    throw new HypervisorError("invalid_state", `volume ${volume} is the base image of ${bases.join(", ")}; delete those first`, "volume_id");
  const info = volumeInfoOf(f.pool, f.raw, vms);
  if (!(await storageCall(ctx, `deleting volume ${f.raw.name}`, "deleteVolumeNamed", f.lvPool, f.raw.name))) {
    throw new HypervisorError("not_found", `volume ${volume} not found in storage pool ${f.pool.id}`, "volume_id");
  }
  ctx.log.info(`volume ${f.raw.path} deleted`);
  return info;
}

/** A full copy under a new name in the same pool; a volume a running VM writes to is refused. */
async function copyVolume(ctx: LibvirtContext, f: Found, dest: string, field: string): Promise<VolumeInfo> {
  const vms = await listVms(ctx);
  const running = usersOf(sourceOf(f.pool, f.raw), vms).filter((vm) => vm.state !== "stopped" && vm.state !== "crashed");
  if (running.length > 0) {
    throw new HypervisorError(
      "invalid_state",
      `volume ${f.raw.name} is a disk of running ${named(running)}: a copy now would not be consistent; stop the vm, or snapshot the vm instead`,
      "volume_id",
    );
  }
  await refuseExisting(ctx, f.pool, f.lvPool, dest);
  const files = fileBased(f.pool);
  const format: DiskFormat = parseVolumeXml(f.raw.xml).format === "qcow2" ? "qcow2" : "raw";
  const name = files ? newVolumeFileName(dest, format) : dest;
  checkVolumeName(name, field);
  const xml = buildVolumeXml({
    name,
    sizeBytes: f.raw.capacity,
    ...(files ? { format } : {}),
    ...(f.pool.type === "iscsi" ? { allocationBytes: f.raw.capacity } : {}),
  });
  const raw = await storageCall(ctx, `copying volume ${f.raw.name} to ${name}`, "createVolumeIn", f.lvPool, xml, f.raw.name);
  ctx.log.info(`volume ${f.raw.path} copied to ${raw.path}`);
  return volumeInfoOf(f.pool, raw, vms);
}

export async function cloneVolume(ctx: LibvirtContext, poolId: string, source: string, dest: string): Promise<VolumeInfo> {
  checkVolumeName(dest, "dest_volume_id");
  return copyVolume(ctx, await find(ctx, poolId, source, "source_volume_id"), dest, "dest_volume_id");
}

export async function snapshotVolume(ctx: LibvirtContext, poolId: string, volume: string, snapshot: string): Promise<VolumeInfo> {
  checkVolumeName(snapshot, "snapshot_id");
  if (snapshot.includes("@"))
    throw new HypervisorError("invalid_argument", `snapshot_id: must not contain "@", got ${JSON.stringify(snapshot)}`, "snapshot_id");
  const f = await find(ctx, poolId, volume);
  return copyVolume(ctx, f, snapshotVolumeName(posix.basename(volume), snapshot), "snapshot_id");
}

export async function volumeAttachInfo(ctx: LibvirtContext, poolId: string, volume: string): Promise<VolumeAttachInfo> {
  const f = await find(ctx, poolId, volume);
  const vms = await listVms(ctx);
  const info = volumeInfoOf(f.pool, f.raw, vms);
  let source: VolumeDiskSource;
  let path = f.raw.path;
  if (f.pool.type === "rbd") {
    const lvRaw = await storageCall(ctx, `reading storage pool ${f.pool.id}`, "pool", f.lvPool, false);
    const parsed = parsePoolXml(lvRaw?.xml ?? "<pool><name>x</name></pool>");
    path = `${parsed.sourceName ?? f.pool.rbdPool ?? ""}/${f.raw.name}`;
    const auth = parsed.auth?.secretUuid !== undefined ? { username: parsed.auth.username, secretUuid: parsed.auth.secretUuid } : undefined;
    source = { kind: "rbd", image: path, monitors: (parsed.hosts ?? []).map((h) => ({ host: h.name, port: h.port ?? 6789 })), ...(auth ? { auth } : {}) };
  } else {
    source = fileBased(f.pool) ? { kind: "file", path } : { kind: "block", path };
  }
  return { volume: info, path, diskXml: buildVolumeDiskXml({ source, format: info.format, target: "vdb" }) };
}

/**
 * The VMs with a disk in the pool: by a volume of the pool (an RBD image by "<ceph pool>/<image>",
 * a LUN or logical volume by its device path), a file under its directory, or the pool id the disk was placed by.
 */
export async function poolUsers(ctx: LibvirtContext, pool: PoolInfo): Promise<string[]> {
  const vms = await listVms(ctx);
  let paths = new Set<string>();
  if (pool.active) {
    const raws = await storageCall(ctx, `listing the volumes of storage pool ${pool.id}`, "volumes", libvirtPoolName(pool.id, ctx.settings.poolName)).catch(
      () => [],
    );
    paths = new Set(raws.map((r) => sourceOf(pool, r)));
  }
  const root = pool.path === "" ? undefined : `${posix.resolve(pool.path)}/`;
  const inPool = (p: string | undefined) => p !== undefined && (paths.has(p) || (root !== undefined && posix.resolve(p).startsWith(root)));
  // A disk placed in the pool by id counts too: an inactive RBD or iSCSI pool lists no volumes.
  const uses = (d: VmStatus["spec"]["disks"][number]) => d.device === "disk" && (inPool(d.resolvedPath) || d.pool === pool.id);
  return vms.filter((vm) => vm.spec.disks.some(uses)).map((vm) => `vm ${vm.name} (${vm.id})`);
}
