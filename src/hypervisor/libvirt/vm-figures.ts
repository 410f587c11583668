// Per-VM figures from one bulk statistics call (virConnectGetAllDomainStats): a metrics tick
// reads every domain's state, CPU time, memory, disk and network counters in one libvirt RPC,
// with no domain XML fetched or parsed. figuresOf and figuresWithSize run in the call Worker
// (only these few numbers cross to the API thread); metricsOfFigures runs on the API thread,
// where the CPU sampler remembers each VM's previous CPU time and vm-sizes.ts each VM's size.
// All pure apart from that sampler and the size read passed in.

import { type VmIoCounters, type VmMetrics, zeroIoCounters } from "../types.ts";
import type { DomainSize } from "./ffi/stats.ts";
import { NAME_LENGTH, numberAt, TYPED_PARAM_SIZE, type TypedParamBytes } from "./ffi/typed-params.ts";
import { createNameMatcher, NO_MATCH } from "./param-names.ts";
import { isActiveState, LIBVIRT_STATE, vmStateOf } from "./state-map.ts";
import type { CpuSampler } from "./status.ts";

export interface VmFigures extends VmIoCounters {
  uuid: string;
  name: string;
  /** virDomainState and its reason (state.state, state.reason). */
  state: number;
  reason: number;
  /** cpu.time: ns of CPU the guest used since it started; absent while it does not run. */
  cpuTimeNs?: number;
  /** The current vCPU count (vcpu.current, or the domain's size). */
  vcpus?: number;
  /** balloon.maximum, KiB: the memory the VM is defined with (or the domain's size). */
  memoryTotalKib?: number;
  /** What the guest uses (balloon driver's figures), else the QEMU process's resident size, else its balloon. */
  memoryUsedKib?: number;
  /** The domain's size when it was read this tick (for the API thread to keep, vm-sizes.ts). */
  sizeRead?: KnownSize;
}

/** A domain's size as read in one run of it (ffi.domainRunId: a new ID each start). */
export interface KnownSize extends DomainSize {
  runId: number;
}

/** The parameters a tick keeps, in the order FIGURE below numbers them. */
const KEPT = [
  "state.state",
  "state.reason",
  "cpu.time",
  "vcpu.current",
  "vcpu.maximum",
  "balloon.available",
  "balloon.unused",
  "balloon.rss",
  "balloon.current",
  "balloon.maximum",
  "block.*.rd.bytes",
  "block.*.wr.bytes",
  "block.*.rd.reqs",
  "block.*.wr.reqs",
  "net.*.rx.bytes",
  "net.*.tx.bytes",
  "net.*.rx.pkts",
  "net.*.tx.pkts",
] as const;
const FIGURE = Object.fromEntries(KEPT.map((name, i) => [name, i])) as { [K in (typeof KEPT)[number]]: number };
const matchKept = createNameMatcher(KEPT);

/**
 * One domain's statistics (names as libvirt gives them: cpu.time, block.0.rd.bytes, ...) to
 * figures, in one pass over its parameters as libvirt lays them out: a tick keeps a dozen figures
 * out of ~30 per VM, and no name becomes a string (param-names.ts). Disk and NIC counters are
 * summed over every device listed.
 */
export function figuresOf(record: { uuid: string; name: string; params(): TypedParamBytes }): VmFigures {
  const figures: VmFigures = {
    uuid: record.uuid,
    name: record.name,
    state: LIBVIRT_STATE.NOSTATE,
    reason: 0,
    ...zeroIoCounters(),
  };
  let cpuTime: number | undefined;
  let vcpuCurrent: number | undefined;
  let vcpuMaximum: number | undefined;
  const balloon: { available?: number; unused?: number; rss?: number; current?: number; maximum?: number } = {};
  const p = record.params();
  for (let i = 0; i < p.count; i++) {
    const which = matchKept(p.bytes, i * TYPED_PARAM_SIZE, NAME_LENGTH);
    if (which === NO_MATCH) continue;
    const value = numberAt(p, i);
    if (value === undefined) continue;
    switch (which) {
      case FIGURE["state.state"]:
        figures.state = value;
        break;
      case FIGURE["state.reason"]:
        figures.reason = value;
        break;
      case FIGURE["cpu.time"]:
        cpuTime = value;
        break;
      case FIGURE["vcpu.current"]:
        vcpuCurrent = value;
        break;
      case FIGURE["vcpu.maximum"]:
        vcpuMaximum = value;
        break;
      case FIGURE["balloon.available"]:
        balloon.available = value;
        break;
      case FIGURE["balloon.unused"]:
        balloon.unused = value;
        break;
      case FIGURE["balloon.rss"]:
        balloon.rss = value;
        break;
      case FIGURE["balloon.current"]:
        balloon.current = value;
        break;
      case FIGURE["balloon.maximum"]:
        balloon.maximum = value;
        break;
      case FIGURE["block.*.rd.bytes"]:
        figures.diskReadBytes += value;
        break;
      case FIGURE["block.*.wr.bytes"]:
        figures.diskWriteBytes += value;
        break;
      case FIGURE["block.*.rd.reqs"]:
        figures.diskReadOps += value;
        break;
      case FIGURE["block.*.wr.reqs"]:
        figures.diskWriteOps += value;
        break;
      case FIGURE["net.*.rx.bytes"]:
        figures.networkRxBytes += value;
        break;
      case FIGURE["net.*.tx.bytes"]:
        figures.networkTxBytes += value;
        break;
      case FIGURE["net.*.rx.pkts"]:
        figures.networkRxPackets += value;
        break;
      case FIGURE["net.*.tx.pkts"]:
        figures.networkTxPackets += value;
        break;
    }
  }
  // libvirt 9 gives a stopped domain a cpu.time too: its cgroup's, not a guest's.
  if (cpuTime !== undefined && isActiveState(figures.state)) figures.cpuTimeNs = cpuTime;
  const vcpus = vcpuCurrent ?? vcpuMaximum;
  if (vcpus !== undefined) figures.vcpus = vcpus;
  if (balloon.maximum !== undefined) figures.memoryTotalKib = balloon.maximum;
  const { available, unused } = balloon;
  const used = available !== undefined && unused !== undefined ? available - unused : (balloon.rss ?? balloon.current);
  if (used !== undefined) figures.memoryUsedKib = used;
  return figures;
}

/**
 * Figures completed with the domain's size: the API thread's copy when it was read in this run
 * of the domain, else readSize()'s (carried back as sizeRead). A size that cannot be read (the
 * domain went away meanwhile) leaves what the statistics had.
 */
export function figuresWithSize(f: VmFigures, runId: number, known: KnownSize | undefined, readSize: () => DomainSize | undefined): VmFigures {
  if (f.vcpus !== undefined && f.memoryTotalKib !== undefined) return f;
  let size: DomainSize | undefined = known;
  if (known === undefined || known.runId !== runId) {
    size = readSize();
    if (size !== undefined) f.sizeRead = { ...size, runId };
  }
  if (size === undefined) return f;
  f.vcpus ??= size.vcpus;
  f.memoryTotalKib ??= size.maxMemKib;
  return f;
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
