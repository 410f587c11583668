// /sys/kernel/mm/hugepages/hugepages-<size>kB/{nr_hugepages,free_hugepages}: huge pages of every
// size (meminfo only shows the default size, so 1 GiB pages are only visible here).

import { join } from "node:path";
import type { HugePageCounts } from "./meminfo.ts";
import { type HostIo, type HostRoots, readDirOptional, sysPath } from "./host-io.ts";
import { TelemetryParseError, uintField } from "./parse-error.ts";

/** "hugepages-2048kB" → 2048; undefined for other names. */
export function parseHugePageDirName(name: string): number | undefined {
  const m = /^hugepages-(\d+)kB$/.exec(name);
  return m === null ? undefined : Number(m[1]);
}

export function parseHugePageCount(text: string, file: string): number {
  const value = text.trim();
  if (value.includes("\n")) throw new TelemetryParseError(file, 2, "expected one line");
  return uintField(value, file, 1, "page count");
}

export async function readHugePages(io: HostIo, roots: HostRoots, listing?: string[]): Promise<HugePageCounts | undefined> {
  const dir = sysPath(roots, "kernel/mm/hugepages");
  const names = listing ?? (await readDirOptional(io, dir));
  if (names === undefined) return undefined;
  const bySizeKb = new Map<number, { total: number; free: number }>();
  await Promise.all(
    names.map(async (name) => {
      const sizeKb = parseHugePageDirName(name);
      if (sizeKb === undefined) return;
      const totalFile = join(dir, name, "nr_hugepages");
      const freeFile = join(dir, name, "free_hugepages");
      const [total, free] = await Promise.all([io.readText(totalFile), io.readText(freeFile)]);
      bySizeKb.set(sizeKb, { total: parseHugePageCount(total, totalFile), free: parseHugePageCount(free, freeFile) });
    }),
  );
  return { bySizeKb };
}

/**
 * readHugePages for a sampler that runs every second: the page sizes the CPU and kernel support
 * (the folder's listing) are fixed from boot, so the folder is listed once; the counts are read
 * every time.
 */
export function hugePagesReader(io: HostIo, roots: HostRoots): () => Promise<HugePageCounts | undefined> {
  let listing: string[] | undefined;
  return async () => {
    listing ??= await readDirOptional(io, sysPath(roots, "kernel/mm/hugepages"));
    return listing === undefined ? undefined : readHugePages(io, roots, listing);
  };
}
