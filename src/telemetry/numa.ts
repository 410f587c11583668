// NUMA nodes: /sys/devices/system/node/online ("0-1"), else the node<N> directories.

import { type HostIo, type HostRoots, readDirOptional, readOptional, sysPath } from "./host-io.ts";
import { parseCpuList } from "./cpu-list.ts";

/** Node numbers from a listing of /sys/devices/system/node. */
export function nodesFromListing(names: string[]): number[] {
  return names
    .map((n) => /^node(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/**
 * Number of online NUMA nodes. A kernel built without NUMA has no such directory; the machine
 * then has one node (what lscpu prints too), so that is a figure, not a guess. Without
 * /sys/devices/system at all (no sysfs here) the count is unknown: undefined.
 */
export async function readNumaNodeCount(io: HostIo, roots: HostRoots): Promise<number | undefined> {
  const online = sysPath(roots, "devices/system/node/online");
  const text = await readOptional(io, online);
  if (text !== undefined) return Math.max(1, parseCpuList(text, online).length);
  const names = await readDirOptional(io, sysPath(roots, "devices/system/node"));
  if (names !== undefined) return Math.max(1, nodesFromListing(names).length);
  return (await readDirOptional(io, sysPath(roots, "devices/system"))) === undefined ? undefined : 1;
}
