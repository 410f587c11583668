// Figures computed from two consecutive samples. Counters only grow; one that went backwards was
// reset (driver reload, interface re-created, CPU hot-plugged), and its rate over that interval is
// unknown: undefined, never negative and never a guess.

import type { CpuTimes } from "./types.ts";

/** Per-second rate of a monotonic counter; undefined on the first sample, after a reset, or for dt <= 0. */
export function counterRate(prev: number | undefined, cur: number, dtSeconds: number): number | undefined {
  if (prev === undefined || cur < prev || !(dtSeconds > 0)) return undefined;
  return (cur - prev) / dtSeconds;
}

/** Modes that make up wall time; guest and guest_nice are already counted inside user and nice. */
const WALL_MODES = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"] as const;

/**
 * Busy share of the interval in percent: everything but idle and iowait (as top and psutil do;
 * steal counts as busy since the CPU was not available to us). Undefined if no time passed or a
 * counter went backwards.
 */
export function cpuUsagePercent(prev: CpuTimes | undefined, cur: CpuTimes): number | undefined {
  if (prev === undefined) return undefined;
  // A mode the source does not split out (the os module has no iowait, steal, ...) adds nothing.
  const delta = (mode: (typeof WALL_MODES)[number]) => (cur[mode] ?? 0) - (prev[mode] ?? 0);
  let total = 0;
  for (const mode of WALL_MODES) {
    const d = delta(mode);
    if (d < 0) return undefined;
    total += d;
  }
  if (total <= 0) return undefined;
  const idle = delta("idle") + delta("iowait");
  const pct = ((total - idle) / total) * 100;
  return Math.min(100, Math.max(0, pct));
}
