// /proc/meminfo: every key, in bytes when the kernel gives kB, as a plain count otherwise
// (HugePages_Total and friends).

import type { MemorySample } from "./types.ts";
import { type HostIo, type HostRoots, procPath } from "./host-io.ts";
import { fields, lines, readWellFormedLines, TelemetryParseError, uintField } from "./parse-error.ts";

export interface MemInfo {
  /** Key → bytes (kB lines) or count (lines without a unit). */
  values: Map<string, number>;
  /** Keys whose value is a count, not bytes. */
  countKeys: Set<string>;
}

/** One well-formed line: "Key:" then spaces, a count, and " kB" or nothing. */
const WELL_FORMED_LINE = /([^:\n]+):[ \t]+(\d+)(?: (kB))?[ \t]*\n/y;

/**
 * /proc/meminfo as values in bytes (kB lines) or counts (the rest). Text made only of well-formed
 * lines is read in one pass with one regular expression; anything else goes to the line-by-line
 * reader, which says what is wrong and where.
 */
export function parseMeminfo(text: string, file = "/proc/meminfo"): MemInfo {
  const values = new Map<string, number>();
  const countKeys = new Set<string>();
  const wellFormed = readWellFormedLines(text, [WELL_FORMED_LINE], (m) => {
    const key = m[1] as string;
    const v = Number(m[2]);
    if (m[3] === undefined) {
      values.set(key, v);
      countKeys.add(key);
    } else {
      values.set(key, v * 1024);
    }
  });
  if (!wellFormed) return parseMeminfoLines(text, file);
  if (!values.has("MemTotal")) throw new TelemetryParseError(file, undefined, "no MemTotal");
  return { values, countKeys };
}

/** parseMeminfo line by line: the reference for what is accepted, and the errors. */
export function parseMeminfoLines(text: string, file = "/proc/meminfo"): MemInfo {
  const values = new Map<string, number>();
  const countKeys = new Set<string>();
  lines(text).forEach((line, i) => {
    const n = i + 1;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new TelemetryParseError(file, n, `no "key:" in ${JSON.stringify(line)}`);
    const key = line.slice(0, colon);
    const [value, unit, extra] = fields(line.slice(colon + 1));
    if (extra !== undefined) throw new TelemetryParseError(file, n, `${key}: unexpected ${JSON.stringify(extra)}`);
    const v = uintField(value, file, n, key);
    if (unit === undefined) {
      values.set(key, v);
      countKeys.add(key);
    } else if (unit === "kB") {
      values.set(key, v * 1024);
    } else {
      throw new TelemetryParseError(file, n, `${key}: unknown unit ${JSON.stringify(unit)}`);
    }
  });
  if (!values.has("MemTotal")) throw new TelemetryParseError(file, undefined, "no MemTotal");
  return { values, countKeys };
}

export interface HugePageCounts {
  /** Page size in kB → total and free pages, from /sys/kernel/mm/hugepages. */
  bySizeKb: Map<number, { total: number; free: number }>;
}

/** Builds the MemorySample; huge page counts come from sysfs (per size), else meminfo (default size). */
export function toMemorySample(info: MemInfo, huge: HugePageCounts | undefined): MemorySample {
  const v = info.values;
  const sample: MemorySample = {
    totalBytes: v.get("MemTotal") as number,
    availableBytes: v.get("MemAvailable"),
    freeBytes: v.get("MemFree"),
    buffersBytes: v.get("Buffers"),
    cachedBytes: v.get("Cached"),
    swapTotalBytes: v.get("SwapTotal"),
    swapFreeBytes: v.get("SwapFree"),
    raw: v,
    countKeys: info.countKeys,
  };
  // sysfs lists every size the CPU supports: a size it does not list has no pages (0, not unknown).
  const none = { total: 0, free: 0 };
  const h2 = huge === undefined ? undefined : (huge.bySizeKb.get(2048) ?? none);
  const h1 = huge === undefined ? undefined : (huge.bySizeKb.get(1048576) ?? none);
  if (h2 !== undefined) {
    sample.hugepages2mTotal = h2.total;
    sample.hugepages2mFree = h2.free;
  } else if (v.get("Hugepagesize") === 2048 * 1024) {
    sample.hugepages2mTotal = v.get("HugePages_Total");
    sample.hugepages2mFree = v.get("HugePages_Free");
  }
  if (h1 !== undefined) {
    sample.hugepages1gTotal = h1.total;
    sample.hugepages1gFree = h1.free;
  } else if (v.get("Hugepagesize") === 1048576 * 1024) {
    sample.hugepages1gTotal = v.get("HugePages_Total");
    sample.hugepages1gFree = v.get("HugePages_Free");
  }
  return sample;
}

export async function readMeminfo(io: HostIo, roots: HostRoots): Promise<MemInfo> {
  const file = procPath(roots, "meminfo");
  return parseMeminfo(await io.readText(file), file);
}
