// The call Worker's storage ops: pools and volumes. Each op does all of its libvirt calls in one
// go and frees every handle it got; only plain data crosses back to the API thread.

import type { Pointer } from "bun:ffi";
import * as ffi from "./ffi/index.ts";
import { HypervisorError } from "../errors.ts";
import { parsePoolXml } from "./domain-xml/pool-xml.ts";
import { initPoolDecision, samePath, type ExistingPools } from "./pool-rules.ts";
import { growOnly } from "../storage/grow-only.ts";

import {
  type RawPool,
  type PoolWish,
  definitionXml,
  type PoolRefresh,
  type ScanMemory,
  rawPool,
  start,
  bringUp,
  type PoolModelWish,
  type RawVolume,
  rawVolume,
  activePool,
  withKnownVolume,
} from "./storage-handles.ts";
export type { PoolRefresh, PoolWish, RawPool, RawVolume, PoolModelWish } from "./storage-handles.ts";

export function createStorageOps(conn: () => ffi.Connection) {
  const scans: ScanMemory = new Map();
  return {
    /** Every directory pool, with figures; refresh rescans active pools first (volume counts). */
    pools(refresh: PoolRefresh): RawPool[] {
      const c = conn();
      const out: RawPool[] = [];
      ffi.forEachPool(c, ffi.OUR_POOL_TYPES, (p) => {
        try {
          out.push(rawPool(c, p, refresh, scans));
        } catch (err) {
          // A pool undefined between the listing and the read is simply gone.
          if (ffi.missingObject(err) !== "pool") throw err;
        }
      });
      // Forget pools that are gone (a pool defined again under the same uuid starts afresh).
      if (refresh === "changed") {
        const listed = new Set(out.map((r) => r.uuid));
        for (const uuid of scans.keys()) if (!listed.has(uuid)) scans.delete(uuid);
      }
      return out;
    },

    pool(name: string, refresh: boolean | "all"): RawPool | null {
      const c = conn();
      return ffi.withPoolNamed(c, name, (p) => rawPool(c, p, refresh));
    },

    /**
     * The node's own pool: found by directory or name, else defined; then started. Returns its
     * libvirt name (another than asked for when a pool of that name already had the directory).
     */
    ensurePool(name: string, path: string, poolXml: string): string {
      const c = conn();
      const p = ffi.ensureDirPool(c, { name, path, poolXml });
      try {
        return ffi.poolName(c, p);
      } finally {
        ffi.freePool(c, p);
      }
    },

    /**
     * InitStoragePool: adopts the pool with this name and directory (starting it when needed), or
     * defines, builds, starts and autostarts a new persistent one; conflicts are already_exists.
     */
    initDirPool(want: PoolWish, poolXml: string, ownPool: string): { pool: RawPool; created: boolean } {
      const c = conn();
      const byName = ffi.lookupPoolByName(c, want.name);
      if (byName !== null) {
        try {
          initPoolDecision(want, { byName: parsePoolXml(definitionXml(c, byName)) }, ownPool);
          bringUp(c, byName);
          return { pool: rawPool(c, byName, true), created: false };
        } finally {
          ffi.freePool(c, byName);
        }
      }
      // One listing instead of lookups by target path and uuid: not every driver has the former.
      const found: ExistingPools = {};
      ffi.forEachPool(c, 0, (p) => {
        const other = parsePoolXml(definitionXml(c, p));
        if (other.targetPath !== undefined && samePath(other.targetPath, want.path)) found.byPath = other.name;
        if (want.uuid !== undefined && other.uuid?.toLowerCase() === want.uuid.toLowerCase()) found.byUuid = other.name;
      });
      initPoolDecision(want, found, ownPool);
      const p = ffi.definePool(c, poolXml);
      try {
        try {
          ffi.buildPool(c, p);
          ffi.startPool(c, p);
          ffi.setPoolAutostart(c, p, true);
        } catch (err) {
          // Leave nothing half made: a defined pool whose directory cannot be made would stay.
          try {
            if (ffi.poolIsActive(c, p)) ffi.stopPool(c, p);
            ffi.undefinePool(c, p);
          } catch {}
          throw err;
        }
        return { pool: rawPool(c, p, true), created: true };
      } finally {
        ffi.freePool(c, p);
      }
    },

    /**
     * InitStoragePool for any pool type: each wish (libvirt pool) in order is adopted when it is
     * the same, defined otherwise, then started and autostarted; a secret (Ceph key, CHAP
     * password) is defined first when given. What this call defined is undefined again when a
     * later step fails. Returns the last pool (the one named by the id).
     */
    initPools(wishes: PoolModelWish[], ownPool: string, secret?: { uuid: string; xml: string; value?: Uint8Array }): { pool: RawPool; created: boolean } {
      const c = conn();
      if (secret) ffi.ensureSecret(c, secret.uuid, secret.xml, secret.value);
      const defined: Pointer[] = [];
      let last: { pool: RawPool; created: boolean } | undefined;
      try {
        for (const want of wishes) {
          const byName = ffi.lookupPoolByName(c, want.name);
          if (byName !== null) {
            try {
              initPoolDecision(want, { byName: parsePoolXml(definitionXml(c, byName)) }, ownPool);
              bringUp(c, byName);
              last = { pool: rawPool(c, byName, "all"), created: false };
            } finally {
              ffi.freePool(c, byName);
            }
            continue;
          }
          const found: ExistingPools = {};
          ffi.forEachPool(c, 0, (p) => {
            const other = parsePoolXml(definitionXml(c, p));
            if (want.path !== undefined && other.targetPath !== undefined && samePath(other.targetPath, want.path)) found.byPath = other.name;
            if (want.uuid !== undefined && other.uuid?.toLowerCase() === want.uuid.toLowerCase()) found.byUuid = other.name;
          });
          initPoolDecision(want, found, ownPool);
          const p = ffi.definePool(c, want.xml);
          defined.push(p);
          start(c, p, want.model.type);
          ffi.setPoolAutostart(c, p, true);
          last = { pool: rawPool(c, p, "all"), created: true };
        }
      } catch (err) {
        // Leave nothing half made: defined pools whose storage cannot be reached would stay.
        for (const p of defined.reverse()) {
          try {
            if (ffi.poolIsActive(c, p)) ffi.stopPool(c, p);
            ffi.undefinePool(c, p);
          } catch {}
        }
        throw err;
      } finally {
        for (const p of defined) ffi.freePool(c, p);
      }
      if (!last) throw new HypervisorError("internal", "no storage pool to initialise");
      return last;
    },

    /** Stops and undefines the pools with these libvirt names (missing ones are skipped), then the secret. */
    destroyPools(names: string[], secretUuid?: string): number {
      const c = conn();
      let removed = 0;
      for (const name of names) {
        ffi.withPoolNamed(c, name, (p) => {
          if (ffi.poolIsActive(c, p)) ffi.stopPool(c, p);
          ffi.undefinePool(c, p);
          removed++;
        });
      }
      if (secretUuid !== undefined) ffi.undefineSecret(c, secretUuid);
      return removed;
    },

    /** Every volume of the pool (refreshed first: files put there from outside count). */
    volumes(poolName: string): RawVolume[] {
      const c = conn();
      return activePool(c, poolName, (p) => {
        ffi.refreshPool(c, p);
        const out: RawVolume[] = [];
        ffi.forEachVolume(c, p, (v) => out.push(rawVolume(c, v)));
        return out;
      });
    },

    /** One volume by name; null when the pool has none of that name (after a refresh). */
    volume(poolName: string, name: string): RawVolume | null {
      const c = conn();
      return activePool(c, poolName, (p) => {
        const once = ffi.withVolumeNamed(c, p, name, (v) => rawVolume(c, v));
        if (once !== null) return once;
        ffi.refreshPool(c, p);
        return ffi.withVolumeNamed(c, p, name, (v) => rawVolume(c, v));
      });
    },

    /** A new volume from XML; with `from`, its content copied from that volume of the same pool. */
    createVolumeIn(poolName: string, xml: string, from?: string): RawVolume {
      const c = conn();
      return activePool(c, poolName, (p) => {
        const path =
          from === undefined
            ? ffi.createVolume(c, p, xml)
            : (ffi.withVolumeNamed(c, p, from, (src) => ffi.createVolumeFrom(c, p, xml, src)) ??
              (() => {
                throw new HypervisorError("not_found", `volume ${from} not found in storage pool ${poolName}`, "source_id");
              })());
        const made = ffi.withVolumeAt(c, path, (v) => rawVolume(c, v));
        if (made === null) throw new HypervisorError("internal", `volume ${path} vanished right after it was made`);
        return made;
      });
    },

    /** Deletes a volume by name; false when the pool has none of that name. */
    deleteVolumeNamed(poolName: string, name: string): boolean {
      const c = conn();
      return activePool(
        c,
        poolName,
        (p) =>
          ffi.withVolumeNamed(c, p, name, (v) => {
            ffi.deleteVolume(c, v, name);
            return true;
          }) ?? false,
      );
    },

    /** Grows a volume of the pool by name (growOnly); the capacity before and after. */
    resizeVolumeNamed(poolName: string, name: string, bytes: number): { before: number; after: number } {
      const c = conn();
      const r = activePool(c, poolName, (p) =>
        ffi.withVolumeNamed(c, p, name, (v) => {
          const before = ffi.volumeInfo(c, v).capacity;
          if (growOnly(name, before, bytes) === "unchanged") return { before, after: before };
          ffi.resizeVolume(c, v, bytes);
          return { before, after: ffi.volumeInfo(c, v).capacity };
        }),
      );
      if (r === null) throw new HypervisorError("not_found", `volume ${name} not found in storage pool ${poolName}`, "volume_id");
      return r;
    },

    /**
     * Creates a volume in the pool with this libvirt name and returns its path. ensure: the
     * node's own pool is (re)made when missing; other pools must exist. An inactive pool is started.
     */
    createVolume(poolName: string, volumeXml: string, ensure?: { path: string; poolXml: string }): string {
      const c = conn();
      const pool = ensure ? ffi.ensureDirPool(c, { name: poolName, path: ensure.path, poolXml: ensure.poolXml }) : ffi.lookupPoolByName(c, poolName);
      if (pool === null) throw new HypervisorError("not_found", `storage pool ${poolName} is not defined in libvirt`);
      try {
        if (!ffi.poolIsActive(c, pool)) ffi.startPool(c, pool);
        return ffi.createVolume(c, pool, volumeXml);
      } finally {
        ffi.freePool(c, pool);
      }
    },

    /** Deletes the volume at path; false when no pool holds it (nothing deleted). */
    deleteVolume(path: string): boolean {
      const c = conn();
      return (
        withKnownVolume(c, path, (v) => {
          if (c.lv.sym.virStorageVolDelete(v, 0) < 0) ffi.fail(c.lv, `delete volume ${path}`);
          return true;
        }) ?? false
      );
    },

    /**
     * Grows the volume at path (not in use by a running VM) to bytes, by libvirt's own figure of
     * its size (growOnly: never shrinks). Returns the capacity before and after.
     */
    resizeVolume(path: string, bytes: number, volume: string): { before: number; after: number } {
      const c = conn();
      const r = withKnownVolume(c, path, (v) => {
        const before = ffi.volumeInfo(c, v).capacity;
        if (growOnly(volume, before, bytes) === "unchanged") return { before, after: before };
        ffi.resizeVolume(c, v, bytes);
        return { before, after: ffi.volumeInfo(c, v).capacity };
      });
      if (r === null) throw new HypervisorError("not_found", `no storage pool holds ${path}`, "volume_id");
      return r;
    },

    /** Grows a running VM's disk (by guest device name) so the guest sees the new size. */
    blockResize(uuid: string, target: string, bytes: number): void {
      const c = conn();
      ffi.withDomain(c, uuid, (d) => ffi.blockResize(c, d, target, bytes));
    },

    /** Swaps a CD-ROM's medium, then keeps our metadata in step (same flags). */
    changeMedia(uuid: string, deviceXml: string, flags: number, metadata?: { xml: string; prefix: string; ns: string }): void {
      const c = conn();
      ffi.withDomain(c, uuid, (d) => {
        ffi.updateDevice(c, d, deviceXml, flags | (flags & ffi.AFFECT.LIVE ? ffi.DEVICE_MODIFY.FORCE : 0));
        if (metadata) ffi.setMetadataElement(c, d, metadata.xml, metadata.prefix, metadata.ns, flags);
      });
    },
  };
}
