// VM disks that are volumes of a Ceph RBD, iSCSI or LVM (volume group on iSCSI) pool: planned by
// the shared rule (storage/plan-pool-volume.ts), created and deleted through libvirt's storage
// API, and written into the domain in the form QEMU reads them:
//
//   rbd              <disk type='network'><source protocol='rbd' name='<ceph pool>/<image>'>
//                    with the pool's monitors and <auth> naming the pool's ceph secret
//   iscsi, logical   <disk type='block'><source dev='<volume path>'/> (/dev/disk/by-path/...-lun-N,
//                    /dev/<vg>/<lv>)
//
// Why not <disk type='volume'><source pool volume/>: libvirt refuses it for RBD pools ("using
// 'rbd' pools for backing 'volume' disks isn't yet supported"), and for iSCSI and LVM it only
// translates to the same block path at start, while needing the pool active and named the same
// on a migration's destination. The explicit forms keep one shape for the hot-plug, detach and
// in-use checks (a disk's source is its identity), and they migrate wherever the storage is
// shared: an RBD name and its monitors are the same from every node, as is a LUN's by-path name
// and a shared volume group's /dev/<vg>/<lv>. The spec reads back by our metadata (pool, volume).

import { HypervisorError } from "../errors.ts";
import type { DiskSpec } from "../types.ts";
import { isVolumePoolType, planPoolVolumeDisk, type VolumePool, type VolumePoolType } from "../storage/plan-pool-volume.ts";
import { CEPH_MONITOR_PORT, ISCSI_PORT } from "../storage/pool-definition.ts";
import { requireReachable } from "../storage/reachability.ts";
import type { LibvirtContext } from "./context.ts";
import type { NetworkDiskSourceDef } from "./domain-xml/model.ts";
import { parsePoolXml, type ParsedPool } from "./domain-xml/pool-xml.ts";
import { buildVolumeXml } from "./domain-xml/storage-xml.ts";
import { POOL_STATE } from "./ffi/flags-storage.ts";
import { helperPoolNames, poolIdOf } from "./pool-rules.ts";
import { storageCall } from "./pools.ts";
import type { RawPool, RawVolume } from "./storage-ops.ts";

export interface VolumePoolRef extends VolumePool {
  /** libvirt pool name */
  lvName: string;
  parsed: ParsedPool;
  active: boolean;
}

const isUp = (raw: RawPool) => raw.state === POOL_STATE.RUNNING || raw.state === POOL_STATE.DEGRADED;

function refOf(ctx: LibvirtContext, raw: RawPool): VolumePoolRef | undefined {
  const id = poolIdOf(raw.name, ctx.settings.poolName);
  const parsed = raw.parsed ?? parsePoolXml(raw.xml);
  if (id === undefined || !isVolumePoolType(parsed.type)) return undefined;
  return { id, type: parsed.type, lvName: raw.name, parsed, active: isUp(raw) };
}

/** Our RBD, iSCSI and LVM pools (no refresh: no server is asked). */
export async function volumePools(ctx: LibvirtContext): Promise<VolumePoolRef[]> {
  const raws = await storageCall(ctx, "listing the storage pools", "pools", false);
  return raws.map((r) => refOf(ctx, r)).filter((p): p is VolumePoolRef => p !== undefined);
}

/** The pool with this id when it is an RBD, iSCSI or LVM pool; undefined otherwise. */
export async function volumePoolOf(ctx: LibvirtContext, id: string | undefined): Promise<VolumePoolRef | undefined> {
  if (id === undefined || id === "" || id.includes("~")) return undefined;
  const raw = await storageCall(ctx, `reading storage pool ${id}`, "pool", id, false);
  return raw === null ? undefined : refOf(ctx, raw);
}

/** What a domain's <disk> names for a volume: "<ceph pool>/<image>" for RBD, the device path otherwise. */
export const diskSourceOf = (pool: VolumePoolRef, raw: Pick<RawVolume, "name" | "path">): string =>
  pool.type === "rbd" ? `${pool.parsed.sourceName ?? ""}/${raw.name}` : raw.path;

/** How QEMU reaches an RBD pool's images: its monitors and the libvirt ceph secret of its user. */
export function networkOf(pool: VolumePoolRef): NetworkDiskSourceDef | undefined {
  if (pool.type !== "rbd") return undefined;
  const net: NetworkDiskSourceDef = { protocol: "rbd", hosts: (pool.parsed.hosts ?? []).map((h) => ({ name: h.name, port: h.port ?? CEPH_MONITOR_PORT })) };
  const auth = pool.parsed.auth;
  if (auth?.secretUuid !== undefined) net.auth = { username: auth.username, secretType: "ceph", secretUuid: auth.secretUuid };
  return net;
}

/**
 * An inactive pool is started by libvirt on first use, which for a network pool means reaching
 * its servers: they are probed first, so a dead cluster or portal is "unavailable" naming each
 * endpoint in bounded time rather than a libvirt call that waits out its deadline.
 */
export async function requireUsable(ctx: LibvirtContext, pool: VolumePoolRef, field: string): Promise<void> {
  if (pool.active) return;
  let hosts = pool.parsed.hosts ?? [];
  let port = pool.type === "rbd" ? CEPH_MONITOR_PORT : ISCSI_PORT;
  if (pool.type === "logical") {
    // The volume group sits on the LUN of the iSCSI pool beside it.
    const under = await storageCall(ctx, `reading storage pool ${pool.id}`, "pool", helperPoolNames(pool.id)[0] ?? "", false);
    hosts = under === null ? [] : (parsePoolXml(under.xml).hosts ?? []);
    port = ISCSI_PORT;
  }
  const what =
    pool.type === "rbd"
      ? `Ceph monitors of storage pool ${pool.id} not reachable from this node`
      : `iSCSI portal of storage pool ${pool.id} not reachable from this node`;
  const endpoints = hosts.map((h) => ({ host: h.name, port: h.port ?? port }));
  if (endpoints.length > 0) await requireReachable(what, endpoints, { ...(ctx.settings.probe ?? {}), field });
}

export interface ResolvedPoolDisk {
  disk: DiskSpec;
  /** Set when this call created the volume (its source, for deleteImages to remove again). */
  createdPath?: string;
  network?: NetworkDiskSourceDef;
}

/** Places a disk in an RBD, iSCSI or LVM pool: the existing volume, or a new (or copied) raw one. */
export async function resolvePoolVolumeDisk(
  ctx: LibvirtContext,
  vmId: string,
  request: DiskSpec,
  pool: VolumePoolRef,
  field: string,
): Promise<ResolvedPoolDisk> {
  await requireUsable(ctx, pool, `${field}.pool_id`);
  const read = (name: string) => storageCall(ctx, `reading volume ${name} of storage pool ${pool.id}`, "volume", pool.lvName, name);
  const plan = await planPoolVolumeDisk(
    vmId,
    request,
    pool,
    async (name) => {
      const raw = await read(name);
      return raw === null ? undefined : { sizeBytes: raw.capacity };
    },
    field,
  );
  const network = networkOf(pool);
  const out = (raw: RawVolume, created: boolean): ResolvedPoolDisk => {
    const source = diskSourceOf(pool, raw);
    return { disk: { ...request, resolvedPath: source }, ...(created ? { createdPath: source } : {}), ...(network ? { network } : {}) };
  };
  if (plan.kind === "existing") {
    const raw = await read(plan.name);
    if (raw === null) throw new HypervisorError("not_found", `${field}.path: volume ${plan.name} vanished from storage pool ${pool.id}`, `${field}.path`);
    return out(raw, false);
  }
  // A logical volume gets all of its space up front (a sparse one would be an LVM snapshot).
  const xml = buildVolumeXml({ name: plan.name, sizeBytes: plan.sizeBytes, ...(pool.type === "logical" ? { allocationBytes: plan.sizeBytes } : {}) });
  const what =
    plan.copyOf === undefined
      ? `creating volume ${plan.name} in storage pool ${pool.id}`
      : `copying volume ${plan.copyOf} to ${plan.name} in storage pool ${pool.id}`;
  const raw = await storageCall(ctx, what, "createVolumeIn", pool.lvName, xml, plan.copyOf);
  ctx.log.info(
    `vm ${vmId} disk ${request.id}: volume ${raw.name} created in storage pool ${pool.id} (${plan.sizeBytes} bytes, raw${plan.copyOf ? `, copy of ${plan.copyOf}` : ""})`,
  );
  return out(raw, true);
}

/** Volumes a VM's disk sources name, by pool type: RBD names have no leading "/". */
const mayHold = (pool: VolumePoolRef, source: string) => (pool.type === "rbd" ? source.startsWith(`${pool.parsed.sourceName ?? ""}/`) : source.startsWith("/"));

/**
 * Deletes the volumes of RBD and LVM pools that these disk sources name; returns the sources
 * deleted. A plain iSCSI pool's LUNs belong to the SAN and are never deleted; an inactive pool is
 * not started for this (its volumes stay, and the log says so).
 */
export async function deletePoolVolumes(ctx: LibvirtContext, sources: readonly string[]): Promise<string[]> {
  if (sources.length === 0) return [];
  const left = new Set(sources);
  const deleted: string[] = [];
  for (const pool of await volumePools(ctx)) {
    const wanted = [...left].filter((s) => mayHold(pool, s));
    if (wanted.length === 0) continue;
    if (pool.type === "iscsi" || !pool.active) {
      const why = pool.type === "iscsi" ? "an iSCSI pool's LUNs belong to the SAN" : "the pool is not active";
      ctx.log.info(`storage pool ${pool.id}: not deleting volumes among ${wanted.join(", ")}: ${why}`);
      continue;
    }
    const raws = await storageCall(ctx, `listing the volumes of storage pool ${pool.id}`, "volumes", pool.lvName);
    for (const raw of raws) {
      const source = diskSourceOf(pool, raw);
      if (!left.has(source)) continue;
      if (await storageCall(ctx, `deleting volume ${raw.name} of storage pool ${pool.id}`, "deleteVolumeNamed", pool.lvName, raw.name)) {
        deleted.push(source);
        ctx.log.info(`volume ${raw.name} of storage pool ${pool.id} deleted`);
      }
      left.delete(source);
    }
  }
  return deleted;
}

export type { VolumePoolType };
