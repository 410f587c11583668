// Storage pools: persistent libvirt directory pools named by the pool id (uuid = the id when it is
// a UUID), built, started and autostarted, so they survive daemon and host restarts. libvirt is
// the registry; nothing is cached here. The pool id "default" is the node's own pool
// (settings.poolName at storagePath), made at start; libvirt's own pool called "default"
// (usually /var/lib/libvirt/images) is not ours and is never listed.
//
// Capacity caps: a directory pool cannot enforce one (libvirt reports the filesystem's figures
// and has no field to keep a cap in), and a cap kept only in memory would change meaning at the
// next restart. So a requested cap is accepted, logged as not enforced, and the figures stay the
// filesystem's: honest numbers over a promise nothing keeps. (The control plane never sends one,
// contract 1.5.)

import { HypervisorError } from "../errors.ts";
import { DEFAULT_POOL_ID, type PoolDefinition, type PoolInfo } from "../types.ts";
import type { PoolDir } from "../storage/index.ts";
import type { LibvirtContext } from "./context.ts";
import { buildDirPoolXml, parsePoolXml } from "./domain-xml/pool-xml.ts";
import { POOL_STATE } from "./ffi/flags-storage.ts";
import { isUuid, libvirtPoolName, poolIdOf, samePath, validatePoolDefinition } from "./pool-rules.ts";
import type { RawPool } from "./storage-ops.ts";

export function ownPoolXml(ctx: LibvirtContext): string {
  return buildDirPoolXml({ name: ctx.settings.poolName, path: ctx.settings.storagePath });
}

/** PoolInfo of a raw pool; undefined for pools that are not ours to show (libvirt's "default"). */
export function poolInfoOf(ctx: LibvirtContext, raw: RawPool): PoolInfo | undefined {
  const id = poolIdOf(raw.name, ctx.settings.poolName);
  if (id === undefined) return undefined;
  const parsed = parsePoolXml(raw.xml);
  const active = raw.state === POOL_STATE.RUNNING || raw.state === POOL_STATE.DEGRADED;
  if (raw.refreshError !== undefined) ctx.log.warn(`storage pool ${id}: refresh failed (${raw.refreshError}); libvirt reports it ${active ? "active" : "inactive"}`);
  return {
    id,
    type: "dir",
    path: parsed.targetPath ?? "",
    active,
    totalBytes: raw.capacity,
    availableBytes: raw.available,
    // As the contract computes it; libvirt's allocation leaves out blocks reserved for root.
    usedBytes: Math.max(0, raw.capacity - raw.available),
    volumeCount: raw.volumeCount ?? 0,
  };
}

export async function listPools(ctx: LibvirtContext): Promise<PoolInfo[]> {
  const raws = await ctx.pool.call("pools", true);
  return raws
    .map((r) => poolInfoOf(ctx, r))
    .filter((p): p is PoolInfo => p !== undefined)
    .sort((a, b) => (a.id === DEFAULT_POOL_ID ? -1 : b.id === DEFAULT_POOL_ID ? 1 : a.id.localeCompare(b.id)));
}

function poolNotFound(id: string): HypervisorError {
  return new HypervisorError("not_found", `storage pool ${id} not found on this node; create it with InitStoragePool`, "pool_id");
}

export async function getPool(ctx: LibvirtContext, id: string): Promise<PoolInfo> {
  // The own pool's libvirt name is not an id of its own (it is "default"), nor is libvirt's pool named default.
  const ownName = id === ctx.settings.poolName;
  if (typeof id !== "string" || id === "" || ownName) throw poolNotFound(String(id));
  const raw = await ctx.pool.call("pool", libvirtPoolName(id, ctx.settings.poolName), true);
  const info = raw && poolInfoOf(ctx, raw);
  if (!info) throw poolNotFound(id);
  return info;
}

/** Every pool's id and directory, for placing disks (no refresh: cheap). */
export async function poolDirs(ctx: LibvirtContext): Promise<PoolDir[]> {
  const raws = await ctx.pool.call("pools", false);
  const dirs: PoolDir[] = [];
  for (const raw of raws) {
    const id = poolIdOf(raw.name, ctx.settings.poolName);
    const path = id === undefined ? undefined : parsePoolXml(raw.xml).targetPath;
    if (id !== undefined && path !== undefined) dirs.push({ id, path });
  }
  // The own pool is remade when missing (createVolume ensures it): it is always a place.
  if (!dirs.some((d) => d.id === DEFAULT_POOL_ID)) dirs.unshift({ id: DEFAULT_POOL_ID, path: ctx.settings.storagePath });
  return dirs;
}

export async function initPool(ctx: LibvirtContext, def: PoolDefinition): Promise<PoolInfo> {
  const own = ctx.settings.poolName;
  if (def?.id === DEFAULT_POOL_ID) {
    if (typeof def.path !== "string" || !samePath(def.path, ctx.settings.storagePath)) {
      throw new HypervisorError(
        "already_exists",
        `storage pool ${DEFAULT_POOL_ID} is this node's own storage at ${ctx.settings.storagePath} (hypervisor.storage_path), not ${String(def.path)}; ` +
          `use another pool id, or change hypervisor.storage_path and restart the daemon`,
        "config.local.path",
      );
    }
    const found = await ctx.pool.call("ensurePool", own, ctx.settings.storagePath, ownPoolXml(ctx));
    if (found !== own) ctx.settings.poolName = found;
    return getPool(ctx, DEFAULT_POOL_ID);
  }
  validatePoolDefinition(def, own);
  const uuid = isUuid(def.id) ? def.id.toLowerCase() : undefined;
  const xml = buildDirPoolXml({ name: def.id, path: def.path, ...(uuid !== undefined ? { uuid } : {}) });
  const { pool, created } = await ctx.pool.call("initDirPool", { id: def.id, name: def.id, path: def.path, ...(uuid !== undefined ? { uuid } : {}) }, xml, own);
  if (created) ctx.log.info(`storage pool ${def.id} defined at ${def.path} (persistent, autostarted)`);
  if (def.capacityBytes !== undefined && def.capacityBytes > 0) {
    ctx.log.warn(
      `storage pool ${def.id}: a capacity of ${def.capacityBytes} bytes was asked for, but a directory pool cannot enforce one; ` +
        `it reports and offers its filesystem's space`,
    );
  }
  const info = poolInfoOf(ctx, pool);
  if (!info) throw poolNotFound(def.id);
  return info;
}
