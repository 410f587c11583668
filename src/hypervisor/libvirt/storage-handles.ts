// What the call Worker's storage ops share: reading a pool or volume handle into plain data
// (rescanning a pool first when asked), starting a pool, and finding the active pool or the
// volume an op works on. Runs in the Worker, like storage-ops.ts.

import { posix } from "node:path";
import type { Pointer } from "bun:ffi";
import * as ffi from "./ffi/index.ts";
import { HypervisorError } from "../errors.ts";
import { parsePoolXml, type ParsedPool } from "./domain-xml/pool-xml.ts";
import { currentDirFigures, folderMtimeMs, parsedPool } from "./pool-reads.ts";
import type { PoolWish as ModelWish } from "./pool-rules.ts";
import { poolRescanDue, type PoolScan } from "./pool-rescan.ts";

export interface RawPool {
  name: string;
  /** libvirt pool type (dir, netfs, rbd, iscsi, logical), from the definition. */
  type: string;
  uuid: string;
  /** Inactive (persistent) XML: type and target path. */
  xml: string;
  /** The XML parsed (in the Worker, once per definition): the API thread need not parse it again. */
  parsed?: ParsedPool;
  /** virStoragePoolState */
  state: number;
  capacity: number;
  allocation: number;
  available: number;
  autostart: boolean;
  persistent: boolean;
  /** Volumes libvirt knows of (after the refresh, when asked for); undefined while inactive. */
  volumeCount?: number;
  /** Why the refresh failed (libvirt then stops the pool). */
  refreshError?: string;
}

export interface PoolWish {
  id: string;
  /** libvirt name */
  name: string;
  path: string;
  uuid?: string;
}

/** The persistent definition's XML; drivers without the INACTIVE flag (test) give the live one. */
export function definitionXml(c: ffi.Connection, p: Pointer): string {
  try {
    return ffi.poolXml(c, p, ffi.POOL_XML.INACTIVE);
  } catch (err) {
    if (err instanceof HypervisorError && (err.kind === "invalid_argument" || err.kind === "unsupported")) return ffi.poolXml(c, p, 0);
    throw err;
  }
}

/** Pools whose refresh touches only local storage: a network pool's refresh can wait on a dead server. */
export const LOCAL_TYPES = new Set(["dir", "logical"]);

/**
 * How a read rescans a pool first: true rescans local pools, "all" network pools too, "changed"
 * local pools whose folder changed or whose last rescan is old (pool-rescan.ts), false none.
 */
export type PoolRefresh = boolean | "all" | "changed";

/** Last rescans by pool uuid, for "changed" (this Worker's: each keeps its own). */
export type ScanMemory = Map<string, PoolScan>;

export function rawPool(c: ffi.Connection, p: Pointer, refresh: PoolRefresh, scans?: ScanMemory): RawPool {
  let refreshError: string | undefined;
  const xml = definitionXml(c, p);
  const parsed = parsedPool(xml);
  const type = parsed.type;
  const local = LOCAL_TYPES.has(type);
  let rescan = refresh === "all" || (refresh === true && local);
  let statfsPath: string | undefined;
  if (refresh === "changed" && local && scans !== undefined) {
    const uuid = ffi.poolUuid(c, p);
    const folder = type === "dir" ? parsed.targetPath : undefined;
    const mtime = folderMtimeMs(folder);
    const now = Date.now();
    rescan = poolRescanDue(scans.get(uuid), mtime, now) || (folder !== undefined && mtime === undefined);
    if (rescan) scans.set(uuid, { folderMtimeMs: mtime, at: now });
    else if (folder !== undefined) statfsPath = folder;
  }
  if (rescan && ffi.poolIsActive(c, p)) {
    try {
      ffi.refreshPool(c, p);
    } catch (err) {
      refreshError = (err as Error).message;
    }
  }
  const info = ffi.poolInfo(c, p);
  const active = info.state === ffi.POOL_STATE.RUNNING || info.state === ffi.POOL_STATE.DEGRADED;
  // Without a rescan libvirt's figures are the last rescan's; the filesystem's are current.
  const figures = active && statfsPath !== undefined ? currentDirFigures(statfsPath) : undefined;
  const raw: RawPool = {
    name: ffi.poolName(c, p),
    type,
    uuid: ffi.poolUuid(c, p),
    xml,
    parsed,
    state: info.state,
    capacity: figures?.capacity ?? info.capacity,
    allocation: figures?.allocation ?? info.allocation,
    available: figures?.available ?? info.available,
    autostart: ffi.poolAutostart(c, p),
    persistent: ffi.poolIsPersistent(c, p),
  };
  if (active) raw.volumeCount = ffi.poolVolumeCount(c, p);
  if (refreshError !== undefined) raw.refreshError = refreshError;
  return raw;
}

/** Pool types whose build only makes their directory (safe to repeat). */
export const MKDIR_TYPES = new Set(["dir", "netfs"]);

/**
 * Starts a pool: dir and netfs pools are built first (mkdir: the directory may have been removed
 * since); a logical pool is built (its volume group made on the device) only when starting it
 * fails, i.e. the group does not exist yet.
 */
export function start(c: ffi.Connection, p: Pointer, type: string): void {
  if (MKDIR_TYPES.has(type)) ffi.buildPool(c, p);
  if (type !== "logical") {
    ffi.startPool(c, p);
    return;
  }
  try {
    ffi.startPool(c, p);
  } catch {
    ffi.buildPool(c, p);
    ffi.startPool(c, p);
  }
}

/** Starts and autostarts a pool; a transient one is made persistent first. */
export function bringUp(c: ffi.Connection, p: Pointer): void {
  if (!ffi.poolIsPersistent(c, p)) ffi.freePool(c, ffi.definePool(c, definitionXml(c, p)));
  if (!ffi.poolIsActive(c, p)) start(c, p, parsePoolXml(definitionXml(c, p)).type);
  if (!ffi.poolAutostart(c, p)) ffi.setPoolAutostart(c, p, true);
}

export type PoolModelWish = Omit<ModelWish, "model"> & { model: ModelWish["model"] };

export interface RawVolume {
  name: string;
  /** virStorageVolType */
  type: number;
  path: string;
  capacity: number;
  allocation: number;
  xml: string;
}

export function rawVolume(c: ffi.Connection, v: Pointer): RawVolume {
  const info = ffi.volumeInfo(c, v);
  return {
    name: ffi.volumeName(c, v),
    type: info.type,
    path: ffi.volumePath(c, v),
    capacity: info.capacity,
    allocation: info.allocation,
    xml: ffi.volumeXml(c, v),
  };
}

/** The pool by libvirt name, active (started when not); not_found naming it otherwise. */
export function activePool<T>(c: ffi.Connection, name: string, fn: (p: Pointer) => T): T {
  const r = ffi.withPoolNamed(c, name, (p) => {
    if (!ffi.poolIsActive(c, p)) start(c, p, parsePoolXml(definitionXml(c, p)).type);
    return { value: fn(p) };
  });
  if (r === null) throw new HypervisorError("not_found", `storage pool ${name} is not defined in libvirt`, "pool_id");
  return r.value;
}

/** The volume at path, refreshing the pool of its directory once when libvirt has not seen it. */
export function withKnownVolume<T>(c: ffi.Connection, path: string, fn: (v: Pointer) => T): T | null {
  const first = ffi.withVolumeAt(c, path, fn);
  if (first !== null) return first;
  const pool = ffi.lookupPoolByTargetPath(c, posix.dirname(path));
  if (pool === null) return null;
  try {
    if (!ffi.poolIsActive(c, pool)) return null;
    ffi.refreshPool(c, pool);
  } finally {
    ffi.freePool(c, pool);
  }
  return ffi.withVolumeAt(c, path, fn);
}
