// A CD-ROM's ISO named relative to the storage (the control plane sends `iso/debian.iso` for the
// ISOs it found by scanning a pool's `iso` folder). Contract 7.1 "CD-ROMs", done right: the same
// places are tried, but a name that resolves nowhere is an error naming what was tried (the
// reference used it as given and libvirt failed at start), and neither `..` nor a symlink may
// lead outside the directory it was looked up in.

import { posix } from "node:path";
import { HypervisorError } from "../errors.ts";
import { candidate, dirsOf, firstContained, unique, type Candidate } from "./lookup.ts";
import type { StorageFs } from "./storage-fs.ts";

export interface PoolDir {
  id: string;
  path: string;
}

/** The places a relative ISO name is looked for in dir, in order. */
export function isoCandidates(dir: string, rel: string): Candidate[] {
  const base = posix.basename(rel);
  return [candidate(dir, rel), candidate(dir, base), candidate(dir, posix.join("iso", base)), candidate(dir, posix.join("isos", base))];
}

/**
 * The canonical host path of the ISO `relative` names: for each pool directory (in the order
 * given), then each extra directory (the node's ISO folder): `<dir>/<rel>`, `<dir>/<basename>`,
 * `<dir>/iso/<basename>`, `<dir>/isos/<basename>`. An absolute or empty name is invalid_argument
 * (absolute paths are given as path, not volume); nothing found is not_found listing the tries.
 */
export async function resolveIsoPath(
  relative: string,
  pools: readonly PoolDir[],
  extraDirs: readonly string[],
  fs: StorageFs,
  field = "iso_path",
): Promise<string> {
  if (relative === "" || relative.includes("\0")) {
    throw new HypervisorError("invalid_argument", `${field}: an ISO name must be a non-empty path relative to a storage pool`, field);
  }
  if (relative.startsWith("/")) {
    throw new HypervisorError(
      "invalid_argument",
      `${field}: ${JSON.stringify(relative)} is absolute; give it as a path, or name it relative to a storage pool`,
      field,
    );
  }
  const dirs = [...pools.map((p) => p.path), ...extraDirs];
  const tries = unique(dirs.flatMap((d) => isoCandidates(d, relative)));
  const found = await firstContained(tries, fs);
  if (found !== undefined) return found;
  throw new HypervisorError(
    "not_found",
    `${field}: ISO ${JSON.stringify(relative)} not found in any storage pool or ISO folder ` +
      `(looked in ${dirsOf(tries).join(", ")} for ${[...new Set(isoCandidates("", relative).map((c) => c.path))].join(", ")})`,
    field,
  );
}
