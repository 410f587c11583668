// Plausible, moving per-VM figures without any timer: the state advances lazily by the time
// elapsed since it was last read, in whole steps of METRICS_STEP_MS, as a sampler's figures do.
// CPU load is a mean-reverting random walk (smooth, bounded); counters only grow while the
// guest runs and start from zero with each new qemu process, as libvirt's do.

import { type VmIoCounters, zeroIoCounters } from "../types.ts";

export interface MetricState extends VmIoCounters {
  /** Load the walk reverts to, 0-100. */
  baseline: number;
  cpuPercent: number;
  memoryFraction: number;
  cpuTimeNs: number;
  /** The step the figures were last advanced to (or the time of the last reset). */
  lastAt: number;
}

/**
 * Reads within one step see the same figures: an unchanged VM then keeps one status object,
 * whose encoding the server reuses (src/server/convert/vm-status-binary.ts).
 */
export const METRICS_STEP_MS = 1000;

export type Activity = "running" | "frozen" | "off";

const MIB = 1024 * 1024;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export function createMetricState(now: number, random: () => number): MetricState {
  const baseline = 5 + random() * 45;
  return {
    baseline,
    cpuPercent: baseline,
    memoryFraction: 0.3 + random() * 0.4,
    cpuTimeNs: 0,
    ...zeroIoCounters(),
    lastAt: now,
  };
}

/** A new qemu process: counters restart from zero. */
export function resetCounters(m: MetricState, now: number): void {
  m.cpuTimeNs = 0;
  Object.assign(m, zeroIoCounters());
  m.cpuPercent = m.baseline;
  m.lastAt = now;
}

export const metricsStep = (now: number) => now - (now % METRICS_STEP_MS);

/** Advances the figures to now's step; true when they changed. */
export function advanceMetrics(m: MetricState, now: number, activity: Activity, vcpus: number, random: () => number): boolean {
  const step = metricsStep(now);
  const dtMs = step - m.lastAt;
  if (dtMs <= 0) return false;
  m.lastAt = step;
  if (activity !== "running") return false;
  const dt = dtMs / 1000;
  // Mean reversion keeps the walk near its baseline; the noise scales with sqrt(dt) so the
  // curve looks the same whether it is sampled every 100 ms or every 10 s.
  const pull = Math.min(1, 0.2 * dt) * (m.baseline - m.cpuPercent);
  const noise = (random() - 0.5) * 12 * Math.sqrt(Math.min(dt, 25));
  m.cpuPercent = clamp(m.cpuPercent + pull + noise, 0.5, 99);
  m.memoryFraction = clamp(m.memoryFraction + (random() - 0.5) * 0.02 * Math.sqrt(Math.min(dt, 25)), 0.2, 0.95);

  const load = m.cpuPercent / 100;
  m.cpuTimeNs += Math.round(dt * 1e9 * vcpus * load);
  const read = Math.round(dt * load * 8 * MIB * (0.5 + random()));
  const written = Math.round(dt * load * 4 * MIB * (0.5 + random()));
  m.diskReadBytes += read;
  m.diskWriteBytes += written;
  m.diskReadOps += Math.ceil(read / 16384);
  m.diskWriteOps += Math.ceil(written / 16384);
  const rx = Math.round(dt * load * 2 * MIB * (0.5 + random()));
  const tx = Math.round(dt * load * MIB * (0.5 + random()));
  m.networkRxBytes += rx;
  m.networkTxBytes += tx;
  m.networkRxPackets += Math.ceil(rx / 1200);
  m.networkTxPackets += Math.ceil(tx / 1200);
  return true;
}
