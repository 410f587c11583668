// Finding a file by a caller-given relative name inside a set of directories, without letting
// `..` or a symlink lead outside the directory it was looked up in.

import { posix } from "node:path";
import type { StorageFs } from "./storage-fs.ts";

export interface Candidate {
  /** The directory the name was looked up in. */
  dir: string;
  /** dir joined with the name. */
  path: string;
}

export function candidate(dir: string, rel: string): Candidate {
  return { dir, path: posix.join(dir, rel) };
}

export function inside(root: string, path: string): boolean {
  const r = root.endsWith("/") ? root : `${root}/`;
  return path.startsWith(r);
}

/**
 * The canonical path of the first candidate that is a file whose canonical path lies inside its
 * directory's canonical path; undefined when none is. Candidates that escape are skipped, as if
 * they did not exist (they may be a stray symlink; the next directory may still have the file).
 */
export async function firstContained(candidates: readonly Candidate[], fs: StorageFs): Promise<string | undefined> {
  const roots = new Map<string, string | undefined>();
  for (const c of candidates) {
    if (!(await fs.isFile(c.path))) continue;
    const real = await fs.realpath(c.path);
    if (!roots.has(c.dir)) roots.set(c.dir, await fs.realpath(c.dir));
    const root = roots.get(c.dir);
    if (real !== undefined && root !== undefined && inside(root, real)) return real;
  }
  return undefined;
}

/** Candidates in order, each path once. */
export function unique(candidates: readonly Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return candidates.filter((c) => {
    if (seen.has(c.path)) return false;
    seen.add(c.path);
    return true;
  });
}

/** The directories of candidates, each once, in order (for error messages). */
export function dirsOf(candidates: readonly Candidate[]): string[] {
  return [...new Set(candidates.map((c) => c.dir))];
}
