// Capacity of the filesystems holding the configured paths (statfs, like df), labelled with the
// mount they live on from /proc/self/mounts.

import type { FilesystemSample } from "./types.ts";
import { type HostIo, type HostRoots, isAbsent, procPath, readOptional, type StatFsResult } from "./host-io.ts";
import { fields, lines, TelemetryParseError } from "./parse-error.ts";

export interface MountEntry {
  device: string;
  mountpoint: string;
  fstype: string;
}

/** /proc/<pid>/mounts escapes space, tab, newline and backslash as octal (\040). */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

export function parseMounts(text: string, file = "/proc/self/mounts"): MountEntry[] {
  return lines(text).flatMap((line, i) => {
    const f = fields(line);
    if (f.length === 0) return [];
    if (f.length < 3) throw new TelemetryParseError(file, i + 1, `expected at least 3 fields, got ${f.length}`);
    return [{ device: unescapeMount(f[0] as string), mountpoint: unescapeMount(f[1] as string), fstype: f[2] as string }];
  });
}

/** The mount a path lives on: the longest mountpoint that is a prefix of it (the last one wins on ties, as mounts stack). */
export function mountFor(path: string, mounts: MountEntry[]): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of mounts) {
    const mp = m.mountpoint;
    const inside = mp === "/" || path === mp || path.startsWith(mp.endsWith("/") ? mp : `${mp}/`);
    if (inside && (best === undefined || mp.length >= best.mountpoint.length)) best = m;
  }
  return best;
}

/** df's arithmetic: size = blocks, used = blocks - free, avail = blocks available to non-root. */
export function toFilesystemSample(path: string, s: StatFsResult, mount: MountEntry | undefined): FilesystemSample {
  const out: FilesystemSample = {
    path,
    totalBytes: s.blocks * s.blockSize,
    usedBytes: (s.blocks - s.blocksFree) * s.blockSize,
    availableBytes: s.blocksAvailable * s.blockSize,
    freeBytes: s.blocksFree * s.blockSize,
    files: s.files,
    filesFree: s.filesFree,
  };
  if (mount !== undefined) {
    out.mountpoint = mount.mountpoint;
    out.device = mount.device;
    out.fstype = mount.fstype;
  }
  return out;
}

/**
 * Filesystems whose statfs the kernel answers from in-memory counters, without waiting on a
 * device, a transaction or a server: sampled on the API thread. Any other type (NFS and other
 * network filesystems, FUSE, and those whose statfs can wait on their own locks) goes through the
 * thread pool, so a mount that hangs costs its figures, not the daemon.
 */
const LOCAL_STATFS_TYPES: ReadonlySet<string> = new Set(["ext2", "ext3", "ext4", "xfs", "tmpfs", "overlay"]);

/**
 * Reads the capacity of the filesystems holding the given paths, for a sampler that calls it
 * every tick: the mount table is read each time (a storage mount may appear at any moment) but
 * parsed again only when its text changed. A configured path that does not exist (yet) is left
 * out rather than failing the sample.
 */
export function filesystemsReader(io: HostIo, roots: HostRoots, paths: string[]): () => Promise<FilesystemSample[]> {
  const mountsFile = procPath(roots, "self/mounts");
  let table: { text: string; mounts: MountEntry[] } | undefined;
  const mountsOf = (text: string | undefined): MountEntry[] => {
    if (text === undefined) return [];
    if (table?.text !== text) table = { text, mounts: parseMounts(text, mountsFile) };
    return table.mounts;
  };
  return async () => {
    if (paths.length === 0) return [];
    const mounts = mountsOf(await readOptional(io, mountsFile));
    const stats = await Promise.all(
      paths.map(async (p) => {
        const mount = mountFor(p, mounts);
        try {
          return { mount, stat: await io.statfs(p, { local: mount !== undefined && LOCAL_STATFS_TYPES.has(mount.fstype) }) };
        } catch (err) {
          if (isAbsent(err)) return undefined;
          throw err;
        }
      }),
    );
    return paths.flatMap((p, i) => {
      const s = stats[i];
      return s === undefined ? [] : [toFilesystemSample(p, s.stat, s.mount)];
    });
  };
}
