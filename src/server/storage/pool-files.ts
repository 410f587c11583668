// ListStoragePoolFiles: one directory of a pool, as the control plane reads it (contract 7.7):
// paths relative to the pool root, directories first then by name ignoring case, RFC 3339 UTC
// times, octal permission bits. The path a client names can never leave the pool: '..' and
// absolute paths are refused, and a symlink that resolves outside the pool root is refused too.

import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { posix } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { invalidField } from "../errors.ts";

export interface PoolFileEntry {
  name: string;
  path: string;
  isDirectory: boolean;
  sizeBytes: number;
  modifiedAt: string;
  fileType: string;
  permissions: string;
}

const inside = (path: string, root: string) => path === root || path.startsWith(root === "/" ? "/" : `${root}/`);

/** "directory", or the lower-cased text after the last dot (the whole name when it has none). */
export function fileTypeOf(name: string, isDirectory: boolean): string {
  if (isDirectory) return "directory";
  const dot = name.lastIndexOf(".");
  return (dot >= 0 ? name.slice(dot + 1) : name).toLowerCase();
}

/** Directories first, then by name ignoring case (ties by exact name, so the order is total). */
export function sortEntries(entries: PoolFileEntry[]): PoolFileEntry[] {
  return entries.sort((a, b) => {
    if (a.isDirectory !== b.isDirectory) return a.isDirectory ? -1 : 1;
    const x = a.name.toLowerCase();
    const y = b.name.toLowerCase();
    return x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

/** The request path, relative to the pool root; rejects what could leave it. */
export function relativePoolPath(path: string): string {
  if (path.includes("\0")) throw invalidField("path", "must not contain NUL");
  if (path.startsWith("/")) throw invalidField("path", `must be relative to the pool root (e.g. "iso"), got ${JSON.stringify(path)}`);
  if (path.split("/").includes("..")) throw invalidField("path", "must not contain '..' segments");
  return posix.normalize(path === "" ? "." : path).replace(/\/$/, "");
}

const notFound = (what: string) => new ConnectError(`${what} not found`, Code.NotFound);

export async function listPoolFiles(poolRoot: string, poolId: string, path: string): Promise<PoolFileEntry[]> {
  const rel = relativePoolPath(path);
  const root = await realpath(poolRoot).catch(() => {
    throw new ConnectError(`pool ${poolId} has no mount path on this node (${poolRoot} does not exist); re-initialise the pool`, Code.FailedPrecondition);
  });
  const target = await realpath(posix.join(root, rel)).catch(() => {
    throw notFound(`Path ${JSON.stringify(path)} in pool ${poolId}`);
  });
  if (!inside(target, root)) throw invalidField("path", "resolves outside the pool through a symlink");
  if (!(await stat(target)).isDirectory()) throw invalidField("path", `${JSON.stringify(path)} is a file, not a directory`);
  const names = await readdir(target);
  const entries: PoolFileEntry[] = [];
  for (const name of names) {
    const full = posix.join(target, name);
    // lstat then stat: a symlink is listed as what it points to, and skipped when that is outside the pool.
    const link = await lstat(full).catch(() => undefined);
    if (!link) continue;
    let st = link;
    if (link.isSymbolicLink()) {
      const real = await realpath(full).catch(() => undefined);
      if (real === undefined || !inside(real, root)) continue;
      st = await stat(real);
    }
    const isDirectory = st.isDirectory();
    entries.push({
      name,
      path: posix.relative(root, full),
      isDirectory,
      sizeBytes: isDirectory ? 0 : st.size,
      modifiedAt: st.mtime.toISOString().replace(/\.\d{3}Z$/, "Z"),
      fileType: fileTypeOf(name, isDirectory),
      permissions: (st.mode & 0o777).toString(8),
    });
  }
  return sortEntries(entries);
}
