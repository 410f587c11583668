// When a listing rescans a local pool (virStoragePoolRefresh). A rescan reads every file of a
// directory pool (qcow2 headers included) or runs the LVM tools for a logical one: on an
// operator's host with many volumes it is the most expensive thing a heartbeat does, and the
// heartbeat lists every pool every 30 s. So a listing rescans a pool only when its folder changed
// (a file added, removed or renamed changes the folder's mtime) or the last rescan is old; the
// figures a heartbeat needs stay fresh without it (a directory pool's capacity is read with
// statfs, the volume count only changes with the folder). Pure: the caller stats and remembers.

/** A pool's last rescan: the folder's mtime seen just before it, and when it ran. */
export interface PoolScan {
  /** The target folder's mtime (ms) read before the rescan; undefined for pools without one (logical). */
  folderMtimeMs: number | undefined;
  /** Wall clock (ms) of the rescan. */
  at: number;
}

/** A rescan at least this often whatever the folder says (a logical pool has no folder to watch). */
export const POOL_RESCAN_MAX_AGE_MS = 5 * 60_000;

/**
 * A folder changed within this long before a rescan may change again within the same mtime
 * tick (the kernel's coarse clock): such a scan is not trusted to have seen the last change.
 */
export const FOLDER_SETTLE_MS = 2_000;

export function poolRescanDue(last: PoolScan | undefined, folderMtimeMs: number | undefined, now: number, maxAgeMs = POOL_RESCAN_MAX_AGE_MS): boolean {
  if (last === undefined) return true;
  if (now - last.at >= maxAgeMs || now < last.at) return true;
  if (folderMtimeMs === undefined || last.folderMtimeMs === undefined) return folderMtimeMs !== last.folderMtimeMs;
  if (folderMtimeMs !== last.folderMtimeMs) return true;
  return last.at - last.folderMtimeMs < FOLDER_SETTLE_MS;
}

/** statfs figures as libvirt's directory pool computes them on a refresh (storage_util.c). */
export function dirPoolFigures(fs: { blocks: number; bfree: number; bavail: number; frsize?: number; bsize: number }): {
  capacity: number;
  allocation: number;
  available: number;
} {
  const unit = fs.frsize || fs.bsize;
  return { capacity: fs.blocks * unit, allocation: (fs.blocks - fs.bfree) * unit, available: fs.bavail * unit };
}
