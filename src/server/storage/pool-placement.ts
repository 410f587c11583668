// Where a storage pool may live. A pool's folder becomes a storage root: files in it can be given
// to guests as disks and CD-ROMs, and its volumes can be deleted. So a pool can never be, or
// contain, the host's system folders or the node's own state (its TLS keys, node id), and never
// sit inside the system folders. The control plane's usual places (/var/lib/limiquantix/pools,
// /data, /mnt, /srv) are all fine.

import { posix } from "node:path";
import { invalidField } from "../errors.ts";

/** Folders no pool may be, contain, or lie inside. */
export const SYSTEM_FOLDERS = [
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/proc",
  "/root",
  "/run",
  "/sbin",
  "/sys",
  "/usr",
  "/var/lib/libvirt/qemu",
  "/var/log",
] as const;

const inside = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

/**
 * Refuses a pool folder that is or lies inside a system folder, or that contains one of them or
 * the node's state folder (a pool may live below the state folder, as <state_dir>/pools does).
 */
export function checkPoolPlacement(path: string, field: string, stateDir: string): void {
  const p = posix.normalize(path).replace(/(.)\/$/, "$1");
  const system = SYSTEM_FOLDERS.find((s) => inside(p, s));
  if (system)
    throw invalidField(
      field,
      `${path} is inside the system folder ${system}: a pool's files can be handed to guests; choose a folder of its own (e.g. /data/pools/<id>)`,
    );
  const held = [...SYSTEM_FOLDERS, posix.normalize(stateDir)].find((s) => inside(s, p));
  if (held)
    throw invalidField(
      field,
      `${path} contains ${held}: a pool's files can be handed to guests and deleted; choose a folder of its own (e.g. /data/pools/<id>)`,
    );
}
