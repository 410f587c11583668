// Pure rules for storage pools in libvirt: which libvirt pool a pool id means, what a pool
// definition may say, and whether an InitStoragePool may adopt what libvirt already has. Used on
// the API thread and inside the call Worker's initDirPool op (so a conflict is found in the same
// round trip that would define the pool).

import { posix } from "node:path";
import { HypervisorError } from "../errors.ts";
import { DEFAULT_POOL_ID, type PoolDefinition } from "../types.ts";
import { derivedSecretUuid, isUuid, validatePoolDefinition as validateNeutral } from "../storage/pool-definition.ts";
import { buildPoolXml, poolModelOf, type ParsedPool, type PoolXmlModel } from "./domain-xml/pool-xml.ts";

/** libvirt's own pool on most hosts (at /var/lib/libvirt/images); never ours, never listed. */
export const LIBVIRT_DEFAULT_POOL = "default";

const POOL_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Pools the node defines beside a pool (an iSCSI pool under a volume group) carry it in their name; no pool id has one. */
export const HELPER_POOL_MARK = "~";

export { isUuid };

/** The libvirt pool name of a pool id: the node's own pool for DEFAULT_POOL_ID, else the id. */
export const libvirtPoolName = (id: string, ownPool: string) => (id === DEFAULT_POOL_ID ? ownPool : id);

/** The pool id of a libvirt pool; undefined for libvirt's own "default" pool (its name is our default's id). */
export function poolIdOf(libvirtName: string, ownPool: string): string | undefined {
  if (libvirtName === ownPool) return DEFAULT_POOL_ID;
  if (libvirtName === LIBVIRT_DEFAULT_POOL || libvirtName.includes(HELPER_POOL_MARK)) return undefined;
  return libvirtName;
}

/** The name of the node's own pool may not be "default": that is libvirt's own pool on most hosts. */
export function checkOwnPoolName(name: string): void {
  if (name === LIBVIRT_DEFAULT_POOL || !POOL_ID_RE.test(name)) {
    throw new HypervisorError(
      "invalid_argument",
      `libvirt pool name ${JSON.stringify(name)} cannot be the node's storage pool: use a name like "limiquantix" (not "default", libvirt's own pool)`,
    );
  }
}

/** A path as libvirt compares target paths: no trailing slash, no `.` or `..` segments. */
export const samePath = (a: string, b: string) => posix.normalize(a).replace(/(.)\/+$/, "$1") === posix.normalize(b).replace(/(.)\/+$/, "$1");

export function validatePoolDefinition(def: PoolDefinition, ownPool: string): void {
  if (typeof def?.id === "string" && def.id === ownPool) {
    throw new HypervisorError(
      "invalid_argument",
      `pool_id: ${def.id} is the libvirt name of this node's own storage; use "${DEFAULT_POOL_ID}" for it, or another id`,
      "pool_id",
    );
  }
  if (def?.type === "dir" && typeof def.path === "string" && !def.path.startsWith("/")) {
    throw new HypervisorError(
      "invalid_argument",
      `config.local.path: must be an absolute directory path, got ${JSON.stringify(def.path)}`,
      "config.local.path",
    );
  }
  if (def?.type !== undefined && !["dir", "netfs", "rbd", "iscsi"].includes(def.type)) {
    throw new HypervisorError("unsupported", `type: ${JSON.stringify(def.type)} pools are not supported here`, "type");
  }
  validateNeutral(def);
}

/** One libvirt pool to define for a pool id (an iSCSI pool with a volume group needs two). */
export interface PoolWish {
  id: string;
  /** libvirt name */
  name: string;
  /** Directory of dir and netfs pools (one directory is one pool). */
  path?: string;
  uuid?: string;
  model: PoolXmlModel;
  xml: string;
}

/** The iSCSI LUN as udev names it under /dev/disk/by-path. */
export const iscsiLunPath = (host: string, port: number, target: string, lun: number) => `/dev/disk/by-path/ip-${host}:${port}-iscsi-${target}-lun-${lun}`;

/** Mount options of an NFS pool: the version, then the caller's. */
export const nfsMountOptions = (version: string, options: readonly string[]) => [`vers=${version}`, ...options];

/** The libvirt secret of an rbd pool's Ceph user, or of an iSCSI pool's CHAP password. */
export function secretUuidOf(def: PoolDefinition): string | undefined {
  if (def.type === "rbd") return def.ceph.secretUuid ?? derivedSecretUuid(def.id, def.ceph.user);
  if (def.type === "iscsi" && def.iscsi.chap) return derivedSecretUuid(def.id, def.iscsi.chap.user);
  return undefined;
}

/** The usage id of an iSCSI pool's CHAP secret (libvirt finds it by this). */
export const chapSecretUsage = (poolId: string) => `limiquantix-chap-${poolId}`;

/** The libvirt pools a definition stands for, in the order they are brought up. */
export function poolWishes(def: PoolDefinition): PoolWish[] {
  const uuid = isUuid(def.id) ? def.id.toLowerCase() : undefined;
  const named = { name: def.id, ...(uuid !== undefined ? { uuid } : {}) };
  const wish = (model: PoolXmlModel, path?: string): PoolWish => ({
    id: def.id,
    name: model.name,
    ...(path !== undefined ? { path } : {}),
    ...(model.uuid !== undefined ? { uuid: model.uuid } : {}),
    model,
    xml: buildPoolXml(model),
  });
  switch (def.type) {
    case "dir":
      return [wish({ type: "dir", ...named, path: def.path }, def.path)];
    case "netfs":
      return [
        wish(
          {
            type: "netfs",
            ...named,
            path: def.path,
            host: def.nfs.server,
            dir: def.nfs.exportPath,
            mountOptions: nfsMountOptions(def.nfs.version, def.nfs.options),
          },
          def.path,
        ),
      ];
    case "rbd":
      return [
        wish({
          type: "rbd",
          ...named,
          hosts: def.ceph.monitors.map((m) => ({ name: m.host, port: m.port })),
          pool: def.ceph.pool,
          auth: { username: def.ceph.user, secretUuid: secretUuidOf(def)! },
        }),
      ];
    case "iscsi": {
      const is = def.iscsi;
      const iscsi = (name: string, uuid?: string): PoolXmlModel => ({
        type: "iscsi",
        name,
        ...(uuid !== undefined ? { uuid } : {}),
        host: { name: is.portal.host, port: is.portal.port },
        target: is.target,
        path: "/dev/disk/by-path",
        ...(is.chap ? { auth: { username: is.chap.user, secretUsage: chapSecretUsage(def.id) } } : {}),
      });
      if (is.volumeGroup === undefined) return [wish(iscsi(def.id, uuid))];
      const lun = iscsiLunPath(is.portal.host, is.portal.port, is.target, is.lun);
      return [
        wish(iscsi(`${def.id}${HELPER_POOL_MARK}iscsi`)),
        wish({ type: "logical", ...named, vg: is.volumeGroup, devices: [lun], path: `/dev/${is.volumeGroup}` }),
      ];
    }
  }
}

/** The helper pool names of a pool id (removed with it). */
export const helperPoolNames = (id: string) => [`${id}${HELPER_POOL_MARK}iscsi`];

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
function sameModel(a: PoolXmlModel, b: PoolXmlModel): boolean {
  const strip = (m: PoolXmlModel) =>
    JSON.stringify({ ...m, uuid: undefined, path: "path" in m ? posix.normalize(m.path).replace(/(.)\/+$/, "$1") : undefined });
  return strip(a) === strip(b);
}

/** What differs between a pool and the wanted one, for people. */
function describeModel(m: PoolXmlModel): string {
  switch (m.type) {
    case "dir":
      return `a directory pool at ${m.path}`;
    case "netfs":
      return `an NFS pool of ${m.host}:${m.dir} mounted at ${m.path} with ${m.mountOptions.join(",") || "no options"}`;
    case "rbd":
      return `a Ceph pool ${m.pool} at ${m.hosts.map((h) => `${h.name}:${h.port ?? ""}`).join(",")} as ${m.auth?.username ?? "no user"}`;
    case "iscsi":
      return `an iSCSI pool of ${m.target} at ${m.host.name}:${m.host.port ?? ""}${m.auth ? ` with CHAP user ${m.auth.username}` : ""}`;
    case "logical":
      return `a volume group ${m.vg} on ${m.devices.join(",")}`;
  }
}

export function initPoolDecision(
  want: { id: string; name: string; path?: string; uuid?: string; model?: PoolXmlModel },
  found: ExistingPools,
  ownPool: string,
): "adopt" | "define" {
  const label = (name: string) => (name === ownPool ? "the node's own storage (default)" : `storage pool ${name}`);
  const p = found.byName;
  if (p && want.model !== undefined && want.model.type !== "dir") {
    const have = poolModelOf(p);
    if (have !== undefined && sameModel(have, want.model)) return "adopt";
    throw new HypervisorError(
      "already_exists",
      `storage pool ${want.id} already exists as ${have ? describeModel(have) : `a ${p.type} pool`}, not ${describeModel(want.model)}; ` +
        `to change it, destroy it first (DestroyStoragePool ${want.id}; its data stays) and initialise it again`,
      "config",
    );
  }
  if (p) {
    if (p.type !== "dir") {
      throw new HypervisorError(
        "already_exists",
        `storage pool ${want.id} already exists in libvirt as a ${p.type || "non-directory"} pool, not a directory pool; ${removeHint(p.name)}, or use another id`,
        "pool_id",
      );
    }
    if (p.targetPath === undefined || !samePath(p.targetPath, want.path ?? "")) {
      throw new HypervisorError(
        "already_exists",
        `storage pool ${want.id} already exists at ${p.targetPath ?? "(no directory)"}, not at ${want.path}; to move it, ${removeHint(p.name)} and initialise it again`,
        "config.local.path",
      );
    }
    return "adopt";
  }
  if (found.byPath !== undefined) {
    throw new HypervisorError(
      "already_exists",
      `${want.path ?? ""} is already the directory of ${label(found.byPath)}; a directory can be only one pool`,
      "config.local.path",
    );
  }
  if (found.byUuid !== undefined) {
    throw new HypervisorError(
      "already_exists",
      `libvirt already has a pool with uuid ${want.uuid} (${label(found.byUuid)}); ${removeHint(found.byUuid)}`,
      "pool_id",
    );
  }
  return "define";
}
