// Raw domain data from a Worker (XML, state, bulk stats) -> VmStatus (VmMetrics: vm-figures.ts). Pure, apart
// from the CPU-usage sampler, which remembers the previous cpu.time of each VM.

import { vcpuCount } from "../defaults.ts";
import type { ResourceUsage, VmStatus } from "../types.ts";
import type { TypedValue } from "./ffi/typed-params.ts";
import type { ParsedDomain } from "./domain-xml/index.ts";
import type { ParseCache } from "./parse-cache.ts";
import type { RawDomain } from "./ops.ts";
import { isActiveState, stateReasonText, vmStateOf } from "./state-map.ts";

type Stats = Record<string, TypedValue> | undefined;

const num = (stats: Stats, key: string): number | undefined => {
  const v = stats?.[key];
  return typeof v === "number" ? v : undefined;
};

/** Sum of prefix.<i>.suffix over prefix.count entries (block.0.rd.bytes, net.1.tx.pkts, ...). */
export function sumIndexed(stats: Stats, prefix: string, suffix: string): number {
  const count = num(stats, `${prefix}.count`) ?? 0;
  let total = 0;
  for (let i = 0; i < count; i++) total += num(stats, `${prefix}.${i}.${suffix}`) ?? 0;
  return total;
}

export interface CpuSampler {
  /** Percent of the VM's vCPUs busy since the previous sample of this VM (0 on the first). */
  percent(id: string, cpuTimeNs: number | undefined, vcpus: number, nowMs?: number): number;
  forget(id: string): void;
}

export function createCpuSampler(): CpuSampler {
  const last = new Map<string, { cpu: number; at: number }>();
  return {
    percent(id, cpuTimeNs, vcpus, nowMs = performance.now()) {
      if (cpuTimeNs === undefined) {
        last.delete(id);
        return 0;
      }
      const prev = last.get(id);
      last.set(id, { cpu: cpuTimeNs, at: nowMs });
      if (!prev || nowMs <= prev.at || cpuTimeNs < prev.cpu || vcpus <= 0) return 0;
      const pct = ((cpuTimeNs - prev.cpu) / ((nowMs - prev.at) * 1e6 * vcpus)) * 100;
      return Math.min(100, Math.max(0, pct));
    },
    forget: (id) => void last.delete(id),
  };
}

export interface StatusExtras {
  startedAt?: Date;
}

export function usageOf(parsed: ParsedDomain, stats: Stats, cpuPercent: number): ResourceUsage {
  const totalBytes = parsed.spec.memoryMib * 1024 * 1024;
  // Guest-reported use needs the balloon driver's stats; else the QEMU process's resident size.
  const available = num(stats, "balloon.available");
  const unused = num(stats, "balloon.unused");
  const usedKib = available !== undefined && unused !== undefined ? available - unused : (num(stats, "balloon.rss") ?? num(stats, "balloon.current"));
  return {
    cpuUsagePercent: cpuPercent,
    cpuTimeNs: num(stats, "cpu.time") ?? 0,
    memoryUsedBytes: usedKib === undefined ? 0 : Math.min(totalBytes, usedKib * 1024),
    memoryTotalBytes: totalBytes,
    diskReadBytes: sumIndexed(stats, "block", "rd.bytes"),
    diskWriteBytes: sumIndexed(stats, "block", "wr.bytes"),
    networkRxBytes: sumIndexed(stats, "net", "rx.bytes"),
    networkTxBytes: sumIndexed(stats, "net", "tx.bytes"),
  };
}

export function statusOf(raw: RawDomain, parsed: ParsedDomain, cpu: CpuSampler, extras: StatusExtras = {}): VmStatus {
  const active = isActiveState(raw.state);
  const vcpus = num(raw.stats, "vcpu.current") ?? vcpuCount(parsed.spec.cpu);
  const status: VmStatus = {
    id: raw.uuid,
    name: raw.name,
    state: vmStateOf(raw.state, raw.reason),
    stateReason: stateReasonText(raw.state, raw.reason),
    spec: parsed.spec,
    usage: usageOf(parsed, raw.stats, active ? cpu.percent(raw.uuid, num(raw.stats, "cpu.time"), vcpus) : 0),
    snapshotCount: raw.snapshotCount,
  };
  if (parsed.createdAt) status.createdAt = parsed.createdAt;
  if (active && extras.startedAt) status.startedAt = extras.startedAt;
  if (raw.currentSnapshot !== undefined) status.currentSnapshot = raw.currentSnapshot;
  return status;
}

/** Parses a domain's XML, or undefined for one this code cannot read (left out, not guessed). */
export function tryParse(cache: Pick<ParseCache, "parse">, raw: RawDomain): ParsedDomain | undefined {
  try {
    return cache.parse(raw.uuid, raw.xml);
  } catch {
    return undefined;
  }
}
