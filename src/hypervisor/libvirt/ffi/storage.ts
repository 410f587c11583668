// Storage pool and volume wrappers: the backend's disks are volumes of one directory pool.

import { type Pointer } from "bun:ffi";
import type { Connection } from "./connection.ts";
import { fail, readLastError, toLibvirtError } from "./errors.ts";
import { cstr, takeString, toPtr } from "./memory.ts";

export function freePool(c: Connection, p: Pointer): void {
  c.lv.sym.virStoragePoolFree(p);
}

/** The pool, or null when none matches (other errors throw). */
function lookupOrNull(c: Connection, raw: Pointer | bigint | null, what: string): Pointer | null {
  const p = toPtr(raw);
  if (p !== null) return p;
  const err = toLibvirtError(readLastError(c.lv), what);
  // Drivers without lookup-by-path say "unsupported": treat as "not found that way".
  if (err.kind === "not_found" || err.kind === "unsupported") return null;
  throw err;
}

export function findPool(c: Connection, opts: { name: string; path: string }): Pointer | null {
  return (
    lookupOrNull(c, c.lv.sym.virStoragePoolLookupByTargetPath(c.ptr, cstr(opts.path)), `pool at ${opts.path}`) ??
    lookupOrNull(c, c.lv.sym.virStoragePoolLookupByName(c.ptr, cstr(opts.name)), `pool ${opts.name}`)
  );
}

/** Finds the pool for path or defines it from poolXml; then builds (mkdir), starts, autostarts. */
export function ensureDirPool(c: Connection, opts: { name: string; path: string; poolXml: string }): Pointer {
  let pool = findPool(c, opts);
  if (pool === null) {
    pool = toPtr(c.lv.sym.virStoragePoolDefineXML(c.ptr, cstr(opts.poolXml), 0)) ?? fail(c.lv, `define pool ${opts.name}`);
    // VIR_STORAGE_POOL_BUILD_NEW: creates the directory; fine when it already exists.
    if (c.lv.sym.virStoragePoolBuild(pool, 0) < 0) {
      const e = readLastError(c.lv);
      freePool(c, pool);
      throw toLibvirtError(e, `build pool ${opts.name} at ${opts.path}`);
    }
  }
  const active = c.lv.sym.virStoragePoolIsActive(pool);
  if (active < 0 || (active === 0 && c.lv.sym.virStoragePoolCreate(pool, 0) < 0)) {
    const e = readLastError(c.lv);
    freePool(c, pool);
    throw toLibvirtError(e, `start pool ${opts.name}`);
  }
  if (c.lv.sym.virStoragePoolSetAutostart(pool, 1) < 0) c.lv.sym.virResetLastError();
  return pool;
}

export function refreshPool(c: Connection, pool: Pointer): void {
  if (c.lv.sym.virStoragePoolRefresh(pool, 0) < 0) fail(c.lv, "refresh pool");
}

/** Creates a volume from XML and returns its path. */
export function createVolume(c: Connection, pool: Pointer, xml: string): string {
  const vol = toPtr(c.lv.sym.virStorageVolCreateXML(pool, cstr(xml), 0)) ?? fail(c.lv, "create volume");
  try {
    return takeString(c.lv, c.lv.sym.virStorageVolGetPath(vol)) ?? fail(c.lv, "volume path");
  } finally {
    c.lv.sym.virStorageVolFree(vol);
  }
}

/** Deletes the volume at path. False when libvirt knows no volume there. */
export function deleteVolumeByPath(c: Connection, path: string): boolean {
  const vol = lookupOrNull(c, c.lv.sym.virStorageVolLookupByPath(c.ptr, cstr(path)), `volume ${path}`);
  if (vol === null) return false;
  try {
    if (c.lv.sym.virStorageVolDelete(vol, 0) < 0) fail(c.lv, `delete volume ${path}`);
    return true;
  } finally {
    c.lv.sym.virStorageVolFree(vol);
  }
}

export function volumeExists(c: Connection, path: string): boolean {
  const vol = lookupOrNull(c, c.lv.sym.virStorageVolLookupByPath(c.ptr, cstr(path)), `volume ${path}`);
  if (vol === null) return false;
  c.lv.sym.virStorageVolFree(vol);
  return true;
}
