// Storage pool and volume wrappers. Every handle looked up or listed here is freed by the
// function that got it, in a finally (a listing frees every handle, also when reading one fails).

import type { Pointer } from "bun:ffi";
import type { Connection } from "./connection.ts";
import { fail, readLastError, toLibvirtError } from "./errors.ts";
import { borrowString, cstr, outPointer, takeHandles, takeString, toPtr, usingAll, type RawPtr } from "./memory.ts";

export { LIST_POOLS, OUR_POOL_TYPES, POOL_STATE, POOL_XML, VOL_TYPE } from "./flags-storage.ts";

export function freePool(c: Connection, p: Pointer): void {
  c.lv.sym.virStoragePoolFree(p);
}

export function freeVolume(c: Connection, v: Pointer): void {
  c.lv.sym.virStorageVolFree(v);
}

/** The handle, or null when libvirt says there is none (other errors throw). */
function lookupOrNull(c: Connection, raw: RawPtr, what: string): Pointer | null {
  const p = toPtr(raw);
  if (p !== null) return p;
  const err = toLibvirtError(readLastError(c.lv), what);
  // Drivers without lookup-by-path say "unsupported": treat as "not found that way".
  if (err.kind === "not_found" || err.kind === "unsupported") return null;
  throw err;
}

export const lookupPoolByName = (c: Connection, name: string) => lookupOrNull(c, c.lv.sym.virStoragePoolLookupByName(c.ptr, cstr(name)), `pool ${name}`);
export const lookupPoolByTargetPath = (c: Connection, path: string) =>
  lookupOrNull(c, c.lv.sym.virStoragePoolLookupByTargetPath(c.ptr, cstr(path)), `pool at ${path}`);
export const lookupPoolByUuid = (c: Connection, uuid: string) => lookupOrNull(c, c.lv.sym.virStoragePoolLookupByUUIDString(c.ptr, cstr(uuid)), `pool ${uuid}`);

/** Runs fn with the pool and frees it; null when no pool has that name. */
export function withPoolNamed<T>(c: Connection, name: string, fn: (p: Pointer) => T): T | null {
  const p = lookupPoolByName(c, name);
  if (p === null) return null;
  try {
    return fn(p);
  } finally {
    freePool(c, p);
  }
}

/** Calls fn for each pool (flags: LIST_POOLS); every handle is freed, the array too. */
export function forEachPool(c: Connection, flags: number, fn: (p: Pointer) => void): void {
  const out = outPointer();
  const n = c.lv.sym.virConnectListAllStoragePools(c.ptr, out.addr, flags);
  if (n < 0) fail(c.lv, "list storage pools");
  usingAll(
    takeHandles(c.lv, out.value(), n),
    (p) => freePool(c, p),
    (handles) => {
      for (const p of handles) fn(p);
    },
  );
}

export function poolName(c: Connection, p: Pointer): string {
  return borrowString(c.lv.sym.virStoragePoolGetName(p)) ?? fail(c.lv, "pool name");
}

export function poolUuid(c: Connection, p: Pointer): string {
  const buf = new Uint8Array(37); // VIR_UUID_STRING_BUFLEN
  if (c.lv.sym.virStoragePoolGetUUIDString(p, buf) < 0) fail(c.lv, "pool uuid");
  return new TextDecoder().decode(buf.subarray(0, 36));
}

export interface PoolInfo {
  /** virStoragePoolState */
  state: number;
  capacity: number;
  allocation: number;
  available: number;
}

export function poolInfo(c: Connection, p: Pointer): PoolInfo {
  // struct _virStoragePoolInfo { int state; unsigned long long capacity, allocation, available; }
  const buf = new Uint8Array(32);
  if (c.lv.sym.virStoragePoolGetInfo(p, buf) < 0) fail(c.lv, "pool info");
  const dv = new DataView(buf.buffer);
  return {
    state: dv.getInt32(0, true),
    capacity: Number(dv.getBigUint64(8, true)),
    allocation: Number(dv.getBigUint64(16, true)),
    available: Number(dv.getBigUint64(24, true)),
  };
}

export function poolXml(c: Connection, p: Pointer, flags = 0): string {
  return takeString(c.lv, c.lv.sym.virStoragePoolGetXMLDesc(p, flags)) ?? fail(c.lv, "pool XML");
}

export function poolAutostart(c: Connection, p: Pointer): boolean {
  const out = new Int32Array(1);
  if (c.lv.sym.virStoragePoolGetAutostart(p, out) < 0) fail(c.lv, "pool autostart");
  return out[0] === 1;
}

export function poolIsPersistent(c: Connection, p: Pointer): boolean {
  const r = c.lv.sym.virStoragePoolIsPersistent(p);
  if (r < 0) fail(c.lv, "pool persistence");
  return r === 1;
}

export function poolIsActive(c: Connection, p: Pointer): boolean {
  const r = c.lv.sym.virStoragePoolIsActive(p);
  if (r < 0) fail(c.lv, "pool state");
  return r === 1;
}

export function poolVolumeCount(c: Connection, p: Pointer): number {
  const n = c.lv.sym.virStoragePoolNumOfVolumes(p);
  if (n < 0) fail(c.lv, "pool volume count");
  return n;
}

export function definePool(c: Connection, xml: string): Pointer {
  return toPtr(c.lv.sym.virStoragePoolDefineXML(c.ptr, cstr(xml), 0)) ?? fail(c.lv, "define pool");
}

/** VIR_STORAGE_POOL_BUILD_NEW: a dir pool's directory is created; fine when it exists. */
export function buildPool(c: Connection, p: Pointer): void {
  if (c.lv.sym.virStoragePoolBuild(p, 0) < 0) fail(c.lv, "build pool");
}

export function startPool(c: Connection, p: Pointer): void {
  if (c.lv.sym.virStoragePoolCreate(p, 0) < 0) fail(c.lv, "start pool");
}

export function setPoolAutostart(c: Connection, p: Pointer, on: boolean): void {
  if (c.lv.sym.virStoragePoolSetAutostart(p, on ? 1 : 0) < 0) fail(c.lv, "set pool autostart");
}

export function stopPool(c: Connection, p: Pointer): void {
  if (c.lv.sym.virStoragePoolDestroy(p) < 0) fail(c.lv, "stop pool");
}

export function undefinePool(c: Connection, p: Pointer): void {
  if (c.lv.sym.virStoragePoolUndefine(p) < 0) fail(c.lv, "undefine pool");
}

export function refreshPool(c: Connection, pool: Pointer): void {
  if (c.lv.sym.virStoragePoolRefresh(pool, 0) < 0) fail(c.lv, "refresh pool");
}

export function findPool(c: Connection, opts: { name: string; path: string }): Pointer | null {
  return lookupPoolByTargetPath(c, opts.path) ?? lookupPoolByName(c, opts.name);
}

/** Finds the pool for path or defines it from poolXml; then builds (mkdir), starts, autostarts. */
export function ensureDirPool(c: Connection, opts: { name: string; path: string; poolXml: string }): Pointer {
  let pool = findPool(c, opts);
  let defined = false;
  if (pool === null) {
    pool = definePool(c, opts.poolXml);
    defined = true;
  }
  try {
    if (defined) buildPool(c, pool);
    if (!poolIsActive(c, pool)) startPool(c, pool);
    if (c.lv.sym.virStoragePoolSetAutostart(pool, 1) < 0) c.lv.sym.virResetLastError();
    return pool;
  } catch (err) {
    freePool(c, pool);
    throw err;
  }
}

/** Creates a volume from XML and returns its path. */
export function createVolume(c: Connection, pool: Pointer, xml: string): string {
  const vol = toPtr(c.lv.sym.virStorageVolCreateXML(pool, cstr(xml), 0)) ?? fail(c.lv, "create volume");
  try {
    return takeString(c.lv, c.lv.sym.virStorageVolGetPath(vol)) ?? fail(c.lv, "volume path");
  } finally {
    freeVolume(c, vol);
  }
}

export const lookupVolumeByPath = (c: Connection, path: string) => lookupOrNull(c, c.lv.sym.virStorageVolLookupByPath(c.ptr, cstr(path)), `volume ${path}`);
export const lookupVolumeByName = (c: Connection, pool: Pointer, name: string) =>
  lookupOrNull(c, c.lv.sym.virStorageVolLookupByName(pool, cstr(name)), `volume ${name}`);

/** Runs fn with the volume at path and frees it; null when libvirt knows no volume there. */
export function withVolumeAt<T>(c: Connection, path: string, fn: (v: Pointer) => T): T | null {
  const v = lookupVolumeByPath(c, path);
  if (v === null) return null;
  try {
    return fn(v);
  } finally {
    freeVolume(c, v);
  }
}

export interface VolumeInfo {
  /** virStorageVolType: 0 file, 1 block, 2 dir, ... */
  type: number;
  capacity: number;
  allocation: number;
}

export function volumeInfo(c: Connection, v: Pointer): VolumeInfo {
  // struct _virStorageVolInfo { int type; unsigned long long capacity, allocation; }
  const buf = new Uint8Array(24);
  if (c.lv.sym.virStorageVolGetInfo(v, buf) < 0) fail(c.lv, "volume info");
  const dv = new DataView(buf.buffer);
  return { type: dv.getInt32(0, true), capacity: Number(dv.getBigUint64(8, true)), allocation: Number(dv.getBigUint64(16, true)) };
}

export function volumePath(c: Connection, v: Pointer): string {
  return takeString(c.lv, c.lv.sym.virStorageVolGetPath(v)) ?? fail(c.lv, "volume path");
}

/** Grows a volume to capacity bytes (flags 0: absolute size, no preallocation, no shrinking). */
export function resizeVolume(c: Connection, v: Pointer, capacity: number): void {
  if (c.lv.sym.virStorageVolResize(v, BigInt(capacity), 0) < 0) fail(c.lv, "resize volume");
}

/** Deletes the volume at path. False when libvirt knows no volume there. */
export function deleteVolumeByPath(c: Connection, path: string): boolean {
  return (
    withVolumeAt(c, path, (vol) => {
      if (c.lv.sym.virStorageVolDelete(vol, 0) < 0) fail(c.lv, `delete volume ${path}`);
      return true;
    }) ?? false
  );
}

export function volumeExists(c: Connection, path: string): boolean {
  return withVolumeAt(c, path, () => true) ?? false;
}

/** Calls fn for each volume of the pool; every handle is freed, the array too. */
export function forEachVolume(c: Connection, pool: Pointer, fn: (v: Pointer) => void): void {
  const out = outPointer();
  const n = c.lv.sym.virStoragePoolListAllVolumes(pool, out.addr, 0);
  if (n < 0) fail(c.lv, "list volumes");
  usingAll(
    takeHandles(c.lv, out.value(), n),
    (v) => freeVolume(c, v),
    (handles) => {
      for (const v of handles) fn(v);
    },
  );
}

/** Runs fn with the pool's volume of that name and frees it; null when the pool has none. */
export function withVolumeNamed<T>(c: Connection, pool: Pointer, name: string, fn: (v: Pointer) => T): T | null {
  const v = lookupVolumeByName(c, pool, name);
  if (v === null) return null;
  try {
    return fn(v);
  } finally {
    freeVolume(c, v);
  }
}

export function volumeName(c: Connection, v: Pointer): string {
  return borrowString(c.lv.sym.virStorageVolGetName(v)) ?? fail(c.lv, "volume name");
}

export function volumeXml(c: Connection, v: Pointer): string {
  return takeString(c.lv, c.lv.sym.virStorageVolGetXMLDesc(v, 0)) ?? fail(c.lv, "volume XML");
}

/** A new volume of pool from XML, its content copied from `from` (any pool); returns its path. */
export function createVolumeFrom(c: Connection, pool: Pointer, xml: string, from: Pointer): string {
  const vol = toPtr(c.lv.sym.virStorageVolCreateXMLFrom(pool, cstr(xml), from, 0)) ?? fail(c.lv, "copy volume");
  try {
    return volumePath(c, vol);
  } finally {
    freeVolume(c, vol);
  }
}

export function deleteVolume(c: Connection, v: Pointer, what: string): void {
  if (c.lv.sym.virStorageVolDelete(v, 0) < 0) fail(c.lv, `delete volume ${what}`);
}

function freeSecret(c: Connection, s: Pointer): void {
  c.lv.sym.virSecretFree(s);
}

/** The secret with this uuid, defined from xml when libvirt has none; then its value set when given. */
export function ensureSecret(c: Connection, uuid: string, xml: string, value?: Uint8Array): { defined: boolean } {
  let s = lookupOrNull(c, c.lv.sym.virSecretLookupByUUIDString(c.ptr, cstr(uuid)), `secret ${uuid}`);
  const defined = s === null;
  s ??= toPtr(c.lv.sym.virSecretDefineXML(c.ptr, cstr(xml), 0)) ?? fail(c.lv, "define secret");
  try {
    if (value !== undefined && c.lv.sym.virSecretSetValue(s, value, BigInt(value.length), 0) < 0) fail(c.lv, `set the value of secret ${uuid}`);
    return { defined };
  } finally {
    freeSecret(c, s);
  }
}

/** Undefines the secret with this uuid; false when libvirt has none. */
export function undefineSecret(c: Connection, uuid: string): boolean {
  const s = lookupOrNull(c, c.lv.sym.virSecretLookupByUUIDString(c.ptr, cstr(uuid)), `secret ${uuid}`);
  if (s === null) return false;
  try {
    if (c.lv.sym.virSecretUndefine(s) < 0) fail(c.lv, `undefine secret ${uuid}`);
    return true;
  } finally {
    freeSecret(c, s);
  }
}
