// Telemetry figures to protobuf messages. Pure functions; the only place telemetry types meet
// the generated code. proto3 has no "absent" for scalars: a figure the kernel did not report
// (or a rate on the first sample) goes out as 0, which is the best the wire format can say.

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type CpuInfo,
  CpuInfoSchema,
  DiskIoMetricsSchema,
  FilesystemMetricsSchema,
  type MemoryInfo,
  MemoryInfoSchema,
  type MetricsSample,
  MetricsSampleSchema,
  NetworkInterfaceMetricsSchema,
  type NodeMetrics,
  NodeMetricsSchema,
  type OsInfo,
  OsInfoSchema,
  type PciDevice,
  PciDeviceSchema,
  type VMMetrics,
  VMMetricsSchema,
} from "../gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { VmMetrics } from "../hypervisor/types.ts";
import type { HostIdentity, HostSample, MemorySample } from "../telemetry/types.ts";
import { vmState } from "./convert/enums.ts";

/** uint64 fields: never negative, whole, bigint. */
export const u64 = (x: number | undefined): bigint => BigInt(Math.max(0, Math.round(x ?? 0)));

export interface VmCounts {
  running: number;
  total: number;
}

export function vmCounts(vms: VmMetrics[]): VmCounts {
  return { running: vms.filter((v) => v.state === "running").length, total: vms.length };
}

/** free(1)'s "used": total - available; without MemAvailable (kernels < 3.14), total - free - buffers - cache. */
export function memoryUsedBytes(m: MemorySample): number {
  if (m.availableBytes !== undefined) return m.totalBytes - m.availableBytes;
  return m.totalBytes - (m.freeBytes ?? 0) - (m.buffersBytes ?? 0) - (m.cachedBytes ?? 0);
}

export function toNodeMetrics(host: HostSample, counts: VmCounts): NodeMetrics {
  const m = host.memory;
  // Repeated by CPU number; offline CPUs are absent, so the list follows the kernel's numbering of online CPUs.
  const perCpu = [...(host.cpu.perCpuUsagePercent ?? new Map<string, number>())]
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([, pct]) => pct);
  return create(NodeMetricsSchema, {
    cpuUsagePercent: host.cpu.usagePercent ?? 0,
    perCpuUsagePercent: perCpu,
    memoryTotalBytes: u64(m.totalBytes),
    memoryUsedBytes: u64(memoryUsedBytes(m)),
    memoryAvailableBytes: u64(m.availableBytes),
    swapTotalBytes: u64(m.swapTotalBytes),
    swapUsedBytes: u64((m.swapTotalBytes ?? 0) - (m.swapFreeBytes ?? 0)),
    load1m: host.load.load1,
    load5m: host.load.load5,
    load15m: host.load.load15,
    uptimeSeconds: u64(host.uptimeSeconds),
    disks: host.disks.map((d) =>
      create(DiskIoMetricsSchema, {
        device: d.device,
        readBytes: u64(d.readBytes),
        writeBytes: u64(d.writeBytes),
        readsCompleted: u64(d.readsCompleted),
        writesCompleted: u64(d.writesCompleted),
        ioTimeMs: u64(d.ioTimeMs),
        readBytesPerSecond: d.readBytesPerSecond ?? 0,
        writeBytesPerSecond: d.writeBytesPerSecond ?? 0,
      }),
    ),
    filesystems: host.filesystems.map((f) =>
      create(FilesystemMetricsSchema, {
        path: f.path,
        totalBytes: u64(f.totalBytes),
        usedBytes: u64(f.usedBytes),
        availableBytes: u64(f.availableBytes),
      }),
    ),
    interfaces: host.network.map((n) =>
      create(NetworkInterfaceMetricsSchema, {
        name: n.name,
        rxBytes: u64(n.rxBytes),
        txBytes: u64(n.txBytes),
        rxPackets: u64(n.rxPackets),
        txPackets: u64(n.txPackets),
        rxErrors: u64(n.rxErrors),
        txErrors: u64(n.txErrors),
        rxDropped: u64(n.rxDropped),
        txDropped: u64(n.txDropped),
        rxBytesPerSecond: n.rxBytesPerSecond ?? 0,
        txBytesPerSecond: n.txBytesPerSecond ?? 0,
      }),
    ),
    runningVms: counts.running,
    totalVms: counts.total,
  });
}

export function toVmMetrics(m: VmMetrics): VMMetrics {
  return create(VMMetricsSchema, {
    vmId: m.vmId,
    name: m.name,
    state: vmState.toWire(m.state),
    cpuUsagePercent: m.cpuUsagePercent,
    cpuTimeNs: u64(m.cpuTimeNs),
    vcpus: Math.max(0, Math.round(m.vcpus)),
    memoryUsedBytes: u64(m.memoryUsedBytes),
    memoryTotalBytes: u64(m.memoryTotalBytes),
    diskReadBytes: u64(m.diskReadBytes),
    diskWriteBytes: u64(m.diskWriteBytes),
    diskReadOps: u64(m.diskReadOps),
    diskWriteOps: u64(m.diskWriteOps),
    networkRxBytes: u64(m.networkRxBytes),
    networkTxBytes: u64(m.networkTxBytes),
    networkRxPackets: u64(m.networkRxPackets),
    networkTxPackets: u64(m.networkTxPackets),
  });
}

export function toMetricsSample(tick: { host: HostSample; vms: VmMetrics[] }, counts: VmCounts): MetricsSample {
  return create(MetricsSampleSchema, {
    timestamp: timestampFromDate(tick.host.timestamp),
    node: toNodeMetrics(tick.host, counts),
    vms: tick.vms.map(toVmMetrics),
  });
}

export function toCpuInfo(identity: HostIdentity): CpuInfo {
  const c = identity.cpu;
  return create(CpuInfoSchema, {
    model: c.model,
    sockets: c.sockets,
    coresPerSocket: c.coresPerSocket,
    threadsPerCore: c.threadsPerCore,
    totalThreads: c.totalThreads,
    frequencyMhz: u64(c.mhz),
    features: c.flags,
    virtualization: c.virtualization,
    onlineCpus: c.onlineCpus,
  });
}

export function toMemoryInfo(identity: HostIdentity): MemoryInfo {
  const m = identity.memory;
  return create(MemoryInfoSchema, {
    totalBytes: u64(m.totalBytes),
    availableBytes: u64(m.availableBytes),
    hugepages2mbTotal: u64(m.hugepages2mTotal),
    hugepages2mbFree: u64(m.hugepages2mFree),
    hugepages1gbTotal: u64(m.hugepages1gTotal),
    hugepages1gbFree: u64(m.hugepages1gFree),
  });
}

export function toOsInfo(identity: HostIdentity): OsInfo {
  return create(OsInfoSchema, { ...identity.os });
}

export function toPciDevices(identity: HostIdentity): PciDevice[] {
  return identity.pciDevices.map((d) =>
    create(PciDeviceSchema, {
      address: d.address,
      vendorId: d.vendorId,
      deviceId: d.deviceId,
      classCode: d.classCode,
      className: d.className,
      driver: d.driver ?? "",
      // No IOMMU (or it is off): -1, since group 0 is a real group.
      iommuGroup: d.iommuGroup ?? -1,
      isGpu: d.isGpu,
      vendorName: d.vendorName ?? "",
    }),
  );
}
