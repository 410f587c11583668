// The start-up check that QEMU can reach the storage path. libvirt's system QEMU driver runs QEMU
// as its own user (libvirt-qemu on Debian): that user must be able to enter every folder above
// the images. A folder it cannot enter (a state folder created 0700, say) would make every StartVM
// fail later with "Cannot access storage file ... Permission denied"; the backend refuses to start
// instead, naming the folder and the fix. Only the local qemu:///system driver is checked: other
// drivers run no QEMU as another user (test:///, qemu:///session), or run it on another machine.

import { realpath, stat } from "node:fs/promises";
import { resolve, sep } from "node:path";
import type { Logger } from "../../common/logger.ts";
import { HypervisorError } from "../errors.ts";
import { qemuRunDir } from "./qemu-process.ts";
import { type QemuUser, readQemuUser } from "./qemu-user.ts";

export interface FolderMode {
  path: string;
  /** st_mode's permission bits. */
  mode: number;
  uid: number;
  gid: number;
}

/** "/", "/var", "/var/lib", ... path: every folder a process opening a file below path walks through. */
export function foldersToCross(path: string): string[] {
  const parts = resolve(path)
    .split(sep)
    .filter((p) => p !== "");
  return ["/", ...parts.map((_, i) => `/${parts.slice(0, i + 1).join("/")}`)];
}

export type PermissionClass = "u" | "g" | "o";

export interface BlockedFolder {
  folder: FolderMode;
  /** The class of the mode that applies to QEMU's user here (the kernel uses only that one). */
  applies: PermissionClass;
}

/** The class of permission bits the kernel checks for this user: owner, else group (any held), else other. */
export function permissionClass(folder: FolderMode, user: Pick<QemuUser, "uid" | "groups">): PermissionClass {
  if (folder.uid === user.uid) return "u";
  return user.groups.includes(folder.gid) ? "g" : "o";
}

const EXECUTE: Record<PermissionClass, number> = { u: 0o100, g: 0o010, o: 0o001 };

/** The first folder (from the root down) whose mode does not let the user search it; undefined when all do. */
export function blockedFolder(folders: readonly FolderMode[], user: Pick<QemuUser, "uid" | "groups">): BlockedFolder | undefined {
  for (const folder of folders) {
    const applies = permissionClass(folder, user);
    if ((folder.mode & EXECUTE[applies]) === 0) return { folder, applies };
  }
  return undefined;
}

export const describeUser = (u: QemuUser) =>
  `${u.name !== undefined ? `${u.name} (uid ${u.uid}, ` : `uid ${u.uid} (`}gid ${u.gid}, groups ${u.groups.join(",")}; from ${u.source})`;

/** As chmod takes it: 0700, 2755. */
const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, "0");

/** The start-up error: the folder, its mode and owner, QEMU's user, and the chmod that fixes it. */
export function storageAccessError(storagePath: string, blocked: BlockedFolder, user: QemuUser): HypervisorError {
  const { folder, applies } = blocked;
  return new HypervisorError(
    "invalid_argument",
    `QEMU cannot reach the storage path ${storagePath}: libvirt runs it as ${describeUser(user)}, and ${folder.path} ` +
      `(mode ${octal(folder.mode)}, owner uid ${folder.uid}, group gid ${folder.gid}) does not let that user through, ` +
      `so every VM disk under it would fail to open ("Permission denied") when the VM starts. ` +
      `Fix: chmod ${applies}+x ${folder.path} (or chmod 755 ${folder.path}), or set hypervisor.storage_path to a folder QEMU can reach.`,
    "hypervisor.storage_path",
  );
}

async function folderModes(paths: readonly string[]): Promise<FolderMode[]> {
  return Promise.all(
    paths.map(async (path) => {
      const st = await stat(path);
      return { path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    }),
  );
}

export interface StorageAccessOptions {
  /** The connection's URI as libvirt reports it (virConnectGetURI). */
  uri: string;
  storagePath: string;
  /** virConnectGetCapabilities: its DAC base label says who QEMU runs as. */
  capabilitiesXml: string;
  /** Where passwd, group and libvirt/qemu.conf are; default /etc. */
  etcRoot?: string;
  log: Logger;
}

/**
 * Throws a start-up error when QEMU's user cannot reach storagePath. Other URIs are skipped, and
 * so (with a warning) is a check that cannot tell who QEMU runs as or read the folders.
 */
export async function checkStorageAccess(opts: StorageAccessOptions): Promise<void> {
  const { uri, storagePath, log } = opts;
  // The rule that says "libvirt's system QEMU driver on this machine" lives there.
  if (qemuRunDir(uri) === undefined) {
    log.debug(`storage path ${storagePath} not checked for QEMU access: ${uri} is not the local qemu:///system driver`);
    return;
  }
  let user: QemuUser | undefined;
  let folders: FolderMode[];
  try {
    user = await readQemuUser({ capabilitiesXml: opts.capabilitiesXml, ...(opts.etcRoot !== undefined ? { etcRoot: opts.etcRoot } : {}) });
    // The folders as named and, when a symlink leads elsewhere, the ones QEMU really walks through.
    const real = await realpath(storagePath);
    folders = await folderModes([...new Set([...foldersToCross(storagePath), ...foldersToCross(real)])]);
  } catch (err) {
    log.warn(`cannot check that QEMU can reach the storage path ${storagePath}: ${(err as Error).message}`);
    return;
  }
  if (user === undefined) {
    log.warn(`cannot check that QEMU can reach the storage path ${storagePath}: neither libvirt nor qemu.conf says which user QEMU runs as`);
    return;
  }
  const blocked = blockedFolder(folders, user);
  if (blocked) throw storageAccessError(storagePath, blocked, user);
  log.debug(`storage path ${storagePath} is reachable for QEMU, which runs as ${describeUser(user)}`);
}
