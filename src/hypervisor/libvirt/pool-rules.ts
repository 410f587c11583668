// Pure rules for storage pools in libvirt: which libvirt pool a pool id means, what a pool
// definition may say, and whether an InitStoragePool may adopt what libvirt already has. Used on
// the API thread and inside the call Worker's initDirPool op (so a conflict is found in the same
// round trip that would define the pool).

import { posix } from "node:path";
import { HypervisorError } from "../errors.ts";
import { DEFAULT_POOL_ID, type PoolDefinition } from "../types.ts";
import type { ParsedPool } from "./domain-xml/pool-xml.ts";

/** libvirt's own pool on most hosts (at /var/lib/libvirt/images); never ours, never listed. */
export const LIBVIRT_DEFAULT_POOL = "default";

const POOL_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

export const isUuid = (s: string) => UUID_RE.test(s);

/** The libvirt pool name of a pool id: the node's own pool for DEFAULT_POOL_ID, else the id. */
export const libvirtPoolName = (id: string, ownPool: string) => (id === DEFAULT_POOL_ID ? ownPool : id);

/** The pool id of a libvirt pool; undefined for libvirt's own "default" pool (its name is our default's id). */
export function poolIdOf(libvirtName: string, ownPool: string): string | undefined {
  if (libvirtName === ownPool) return DEFAULT_POOL_ID;
  if (libvirtName === LIBVIRT_DEFAULT_POOL) return undefined;
  return libvirtName;
}

/** The name of the node's own pool may not be "default": that is libvirt's own pool on most hosts. */
export function checkOwnPoolName(name: string): void {
  if (name === LIBVIRT_DEFAULT_POOL || !POOL_ID_RE.test(name)) {
    throw new HypervisorError("invalid_argument", `libvirt pool name ${JSON.stringify(name)} cannot be the node's storage pool: use a name like "limiquantix" (not "default", libvirt's own pool)`);
  }
}

/** A path as libvirt compares target paths: no trailing slash, no `.` or `..` segments. */
export const samePath = (a: string, b: string) => posix.normalize(a).replace(/(.)\/+$/, "$1") === posix.normalize(b).replace(/(.)\/+$/, "$1");

export function validatePoolDefinition(def: PoolDefinition, ownPool: string): void {
  if (typeof def.id !== "string" || !POOL_ID_RE.test(def.id)) {
    throw new HypervisorError("invalid_argument", `pool_id: must be 1-128 characters of A-Z a-z 0-9 . _ - starting with a letter or digit, got ${JSON.stringify(String(def.id).slice(0, 40))}`, "pool_id");
  }
  if (def.id === ownPool) {
    throw new HypervisorError("invalid_argument", `pool_id: ${def.id} is the libvirt name of this node's own storage; use "${DEFAULT_POOL_ID}" for it, or another id`, "pool_id");
  }
  if (def.type !== "dir") throw new HypervisorError("unsupported", `type: only directory pools are supported here, got ${JSON.stringify(def.type)}`, "type");
  const field = "config.local.path";
  const path = def.path;
  if (typeof path !== "string" || !path.startsWith("/") || CONTROL_RE.test(path) || path.length > 4096) {
    throw new HypervisorError("invalid_argument", `${field}: must be an absolute directory path, got ${JSON.stringify(String(path).slice(0, 80))}`, field);
  }
  if (posix.normalize(path) !== path.replace(/(.)\/+$/, "$1") || path.split("/").includes("..")) {
    throw new HypervisorError("invalid_argument", `${field}: must be a plain path without ., .. or //, got ${JSON.stringify(path)}`, field);
  }
  if (path === "/") throw new HypervisorError("invalid_argument", `${field}: the root directory cannot be a pool`, field);
  if (def.capacityBytes !== undefined && (!Number.isSafeInteger(def.capacityBytes) || def.capacityBytes < 0)) {
    throw new HypervisorError("invalid_argument", `config.local.capacity_gib: must be a whole positive size, got ${def.capacityBytes}`, "config.local.capacity_gib");
  }
}

export interface ExistingPools {
  /** The pool with the wanted libvirt name, read from its XML. */
  byName?: ParsedPool;
  /** libvirt name of the pool whose directory is the wanted path. */
  byPath?: string;
  /** libvirt name of the pool with the wanted uuid. */
  byUuid?: string;
}

const removeHint = (name: string) => `remove it first (virsh pool-destroy ${name}; virsh pool-undefine ${name}; its files stay)`;

/**
 * What InitStoragePool may do given what libvirt has: "adopt" the pool with the same name and
 * directory, "define" a new one, or an already_exists error naming both sides and the fix.
 * Never silently ignored: a pool id that exists with another directory is an error.
 */
export function initPoolDecision(want: { id: string; name: string; path: string; uuid?: string }, found: ExistingPools, ownPool: string): "adopt" | "define" {
  const label = (name: string) => (name === ownPool ? "the node's own storage (default)" : `storage pool ${name}`);
  const p = found.byName;
  if (p) {
    if (p.type !== "dir") {
      throw new HypervisorError("already_exists", `storage pool ${want.id} already exists in libvirt as a ${p.type || "non-directory"} pool, not a directory pool; ${removeHint(p.name)}, or use another id`, "pool_id");
    }
    if (p.targetPath === undefined || !samePath(p.targetPath, want.path)) {
      throw new HypervisorError(
        "already_exists",
        `storage pool ${want.id} already exists at ${p.targetPath ?? "(no directory)"}, not at ${want.path}; to move it, ${removeHint(p.name)} and initialise it again`,
        "config.local.path",
      );
    }
    return "adopt";
  }
  if (found.byPath !== undefined) {
    throw new HypervisorError("already_exists", `${want.path} is already the directory of ${label(found.byPath)}; a directory can be only one pool`, "config.local.path");
  }
  if (found.byUuid !== undefined) {
    throw new HypervisorError("already_exists", `libvirt already has a pool with uuid ${want.uuid} (${label(found.byUuid)}); ${removeHint(found.byUuid)}`, "pool_id");
  }
  return "define";
}
