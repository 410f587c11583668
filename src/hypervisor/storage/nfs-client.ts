// Whether this host can mount NFS at all, asked before libvirt is. libvirt's netfs pool runs
// `mount -t nfs`, which needs the kernel's NFS client (built in, loaded, or a module the kernel
// can load on demand) and the mount.nfs helper (Debian's nfs-common). Without either, libvirt
// reports "mount.nfs: No such device" or "wrong fs type" after its own retries, which reads like
// a server problem; this says what the host lacks and how to fix it.

import { access, readFile } from "node:fs/promises";
import { release } from "node:os";

export interface NfsClientFacts {
  /** /proc/filesystems, or undefined when it cannot be read. */
  filesystems: string | undefined;
  /** The kernel has an nfs module file it can load (modules.dep names it). */
  loadableModule: boolean;
  /** modules.builtin names nfs (built in, though not yet listed in /proc/filesystems). */
  builtin: boolean;
  /** mount.nfs exists (nfs-common). */
  mountHelper: boolean;
}

const NFS_MODULE = /(^|\/)nfs\.ko(\.[a-z]+)?:?/m;

/** Filesystem names of /proc/filesystems ("nodev\tnfs" and "\text4" lines). */
export function filesystemNames(text: string): Set<string> {
  return new Set(
    text
      .split("\n")
      .map((line) => line.trim().split(/\s+/).at(-1) ?? "")
      .filter((name) => name !== "" && name !== "nodev"),
  );
}

/** What keeps this host from mounting NFS, or undefined when nothing does. */
export function nfsClientProblem(facts: NfsClientFacts): string | undefined {
  const kernel = facts.filesystems !== undefined && (filesystemNames(facts.filesystems).has("nfs") || filesystemNames(facts.filesystems).has("nfs4"));
  if (!kernel && !facts.loadableModule && !facts.builtin) {
    return (
      `this host's kernel (${release()}) has no NFS client: nfs is not in /proc/filesystems and no nfs module can be loaded; ` +
      `NFS pools need a kernel with CONFIG_NFS_FS (or the nfs module installed: modprobe nfs)`
    );
  }
  if (!facts.mountHelper) return "this host has no mount.nfs helper: install nfs-common (Debian/Ubuntu) or nfs-utils";
  return undefined;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

const readOrUndefined = (path: string) => readFile(path, "utf8").catch(() => undefined);

export async function readNfsClientFacts(): Promise<NfsClientFacts> {
  const modules = `/lib/modules/${release()}`;
  const [filesystems, dep, builtin, helpers] = await Promise.all([
    readOrUndefined("/proc/filesystems"),
    readOrUndefined(`${modules}/modules.dep`),
    readOrUndefined(`${modules}/modules.builtin`),
    Promise.all(["/sbin/mount.nfs", "/usr/sbin/mount.nfs"].map(exists)),
  ]);
  return {
    filesystems,
    loadableModule: dep !== undefined && NFS_MODULE.test(dep),
    builtin: builtin !== undefined && NFS_MODULE.test(builtin),
    mountHelper: helpers.some(Boolean),
  };
}
