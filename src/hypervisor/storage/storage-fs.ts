// The little file-system access the storage rules need, as an interface: the rules stay pure and
// table-testable (tests pass a Map-backed fake), the backends pass nodeStorageFs. Asynchronous so a
// slow mount (an NFS pool) never blocks the API thread.

import { realpath, stat } from "node:fs/promises";

export interface StorageFs {
  /** A regular file or a block device is at path (a directory is not). */
  isFile(path: string): Promise<boolean>;
  /** The canonical path (symlinks and `..` resolved); undefined when nothing is there. */
  realpath(path: string): Promise<string | undefined>;
}

export const nodeStorageFs: StorageFs = {
  async isFile(path) {
    try {
      const s = await stat(path);
      return s.isFile() || s.isBlockDevice();
    } catch {
      return false;
    }
  },
  async realpath(path) {
    try {
      return await realpath(path);
    } catch {
      return undefined;
    }
  },
};

/**
 * A fake for tests: `files` are regular files, `links` map a path to the path it points at
 * (applied to the longest matching prefix, repeatedly), `dirs` exist as directories.
 */
export function fakeStorageFs(files: Iterable<string>, links: Record<string, string> = {}, dirs: Iterable<string> = []): StorageFs {
  const fileSet = new Set(files);
  const dirSet = new Set(dirs);
  for (const f of fileSet) for (let d = parentOf(f); d !== "/"; d = parentOf(d)) dirSet.add(d);
  dirSet.add("/");
  const canonical = (path: string): string | undefined => {
    let parts: string[] = [];
    for (const seg of path.split("/")) {
      if (seg === "" || seg === ".") continue;
      if (seg === "..") parts.pop();
      else parts.push(seg);
    }
    for (let hops = 0; hops < 40; hops++) {
      const joined = `/${parts.join("/")}`;
      const hit = Object.keys(links)
        .filter((l) => joined === l || joined.startsWith(`${l}/`))
        .sort((a, b) => b.length - a.length)[0];
      if (hit === undefined) return fileSet.has(joined) || dirSet.has(joined) ? joined : undefined;
      const target = links[hit] ?? "";
      const rest = joined.slice(hit.length);
      parts = [];
      for (const seg of `${target}${rest}`.split("/")) {
        if (seg === "" || seg === ".") continue;
        if (seg === "..") parts.pop();
        else parts.push(seg);
      }
    }
    return undefined;
  };
  return {
    async isFile(path) {
      const c = canonical(path);
      return c !== undefined && fileSet.has(c);
    },
    async realpath(path) {
      return canonical(path);
    },
  };
}

function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}
