// Per-VM figures from one bulk statistics call (virConnectGetAllDomainStats): a metrics tick
// reads every domain's state, CPU time, memory, disk and network counters in one libvirt RPC,
// with no domain XML fetched or parsed. figuresOf runs in the call Worker (only these few
// numbers cross to the API thread); metricsOfFigures runs on the API thread, where the CPU
// sampler remembers each VM's previous CPU time. Both pure apart from that sampler.

import type { VmIoCounters, VmMetrics } from "../types.ts";
import type { TypedValue } from "./ffi/typed-params.ts";
import { isActiveState, LIBVIRT_STATE, vmStateOf } from "./state-map.ts";
import type { CpuSampler } from "./status.ts";

type Params = Record<string, TypedValue>;

export interface VmFigures extends VmIoCounters {
  uuid: string;
  name: string;
  /** virDomainState and its reason (state.state, state.reason). */
  state: number;
  reason: number;
  /** cpu.time: ns of CPU the guest used since it started; absent while it does not run. */
  cpuTimeNs?: number;
  /** vcpu.current (the definition's count for a domain that does not run). */
  vcpus?: number;
  /** balloon.maximum, KiB: the memory the VM is defined with. */
  memoryTotalKib?: number;
  /** What the guest uses (balloon driver's figures), else the QEMU process's resident size, else its balloon. */
  memoryUsedKib?: number;
}

const num = (p: Params, key: string): number | undefined => {
  const v = p[key];
  return typeof v === "number" ? v : undefined;
};

/** Sum of prefix.<i>.suffix over the prefix.count entries (block.0.rd.bytes, net.1.tx.pkts, ...). */
function sum(p: Params, prefix: "block" | "net", suffix: string): number {
  const count = num(p, `${prefix}.count`) ?? 0;
  let total = 0;
  for (let i = 0; i < count; i++) total += num(p, `${prefix}.${i}.${suffix}`) ?? 0;
  return total;
}

/** One record of virConnectGetAllDomainStats (names as libvirt gives them) to figures. */
export function figuresOf(record: { uuid: string; name: string; params: Params }): VmFigures {
  const p = record.params;
  const available = num(p, "balloon.available");
  const unused = num(p, "balloon.unused");
  const used = available !== undefined && unused !== undefined ? available - unused : (num(p, "balloon.rss") ?? num(p, "balloon.current"));
  const figures: VmFigures = {
    uuid: record.uuid,
    name: record.name,
    state: num(p, "state.state") ?? LIBVIRT_STATE.NOSTATE,
    reason: num(p, "state.reason") ?? 0,
    diskReadBytes: sum(p, "block", "rd.bytes"),
    diskWriteBytes: sum(p, "block", "wr.bytes"),
    diskReadOps: sum(p, "block", "rd.reqs"),
    diskWriteOps: sum(p, "block", "wr.reqs"),
    networkRxBytes: sum(p, "net", "rx.bytes"),
    networkTxBytes: sum(p, "net", "tx.bytes"),
    networkRxPackets: sum(p, "net", "rx.pkts"),
    networkTxPackets: sum(p, "net", "tx.pkts"),
  };
  // libvirt 9 gives a stopped domain a cpu.time too: its cgroup's, not a guest's.
  const cpu = num(p, "cpu.time");
  if (cpu !== undefined && isActiveState(figures.state)) figures.cpuTimeNs = cpu;
  const vcpus = num(p, "vcpu.current") ?? num(p, "vcpu.maximum");
  if (vcpus !== undefined) figures.vcpus = vcpus;
  const total = num(p, "balloon.maximum");
  if (total !== undefined) figures.memoryTotalKib = total;
  if (used !== undefined) figures.memoryUsedKib = used;
  return figures;
}

/** Figures completed with the definition's size where the statistics lacked it (size absent: left as is). */
export function withSize(f: VmFigures, size: { maxMemKib: number; vcpus: number } | undefined): VmFigures {
  if (size === undefined) return f;
  return { ...f, vcpus: f.vcpus ?? size.vcpus, memoryTotalKib: f.memoryTotalKib ?? size.maxMemKib };
}

/** The API's VmMetrics; the CPU percentage is the share of the VM's vCPUs busy since its previous tick. */
export function metricsOfFigures(f: VmFigures, cpu: CpuSampler): VmMetrics {
  const active = isActiveState(f.state);
  const vcpus = f.vcpus ?? 0;
  const totalBytes = (f.memoryTotalKib ?? 0) * 1024;
  const usedBytes = active && f.memoryUsedKib !== undefined ? f.memoryUsedKib * 1024 : 0;
  return {
    vmId: f.uuid,
    name: f.name,
    state: vmStateOf(f.state, f.reason),
    cpuUsagePercent: active ? cpu.percent(f.uuid, f.cpuTimeNs, vcpus) : 0,
    cpuTimeNs: f.cpuTimeNs ?? 0,
    vcpus,
    memoryUsedBytes: totalBytes > 0 ? Math.min(totalBytes, usedBytes) : usedBytes,
    memoryTotalBytes: totalBytes,
    diskReadBytes: f.diskReadBytes,
    diskWriteBytes: f.diskWriteBytes,
    diskReadOps: f.diskReadOps,
    diskWriteOps: f.diskWriteOps,
    networkRxBytes: f.networkRxBytes,
    networkTxBytes: f.networkTxBytes,
    networkRxPackets: f.networkRxPackets,
    networkTxPackets: f.networkTxPackets,
  };
}
