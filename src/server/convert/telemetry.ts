// Telemetry figures to protobuf messages. Pure functions; the only place telemetry types meet
// the generated code. proto3 has no "absent" for scalars: a figure the host did not report goes
// out as 0 and is named in the message's absent_fields (the node CPU rate, which needs two
// samples, also says so in cpu_measured).

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type CpuInfo,
  CpuInfoSchema,
  type DiskMetrics,
  DiskMetricsSchema,
  type FilesystemMetrics,
  FilesystemMetricsSchema,
  type MemoryInfo,
  MemoryInfoSchema,
  type NetworkInfo,
  NetworkInfoSchema,
  type NetworkMetrics,
  NetworkMetricsSchema,
  type NodeMetrics,
  NodeMetricsSchema,
  type OsInfo,
  OsInfoSchema,
  type PciDevice,
  PciDeviceSchema,
  type StorageInfo,
  StorageInfoSchema,
  type VMMetrics,
  VMMetricsSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { VmMetrics } from "../../hypervisor/types.ts";
import type { InterfaceFacts } from "../../telemetry/net-interfaces.ts";
import type { DiskSample, FilesystemSample, HostIdentity, HostSample, MemorySample, NetInterfaceSample } from "../../telemetry/types.ts";
import { powerState } from "./enums.ts";
import { u64 } from "./vm-status.ts";

export interface VmCounts {
  running: number;
  total: number;
}

export function vmCounts(vms: VmMetrics[]): VmCounts {
  return { running: vms.filter((v) => v.state === "running").length, total: vms.length };
}

/** free(1)'s "used": total - available; without MemAvailable (kernels < 3.14, macOS), total - free - buffers - cache. */
export function memoryUsedBytes(m: MemorySample): number {
  if (m.availableBytes !== undefined) return m.totalBytes - m.availableBytes;
  return m.totalBytes - (m.freeBytes ?? 0) - (m.buffersBytes ?? 0) - (m.cachedBytes ?? 0);
}

/** Operations per second from a counter's rate in bytes when only bytes have rates: none here. */
const perSecond = (x: number | undefined) => x ?? 0;

/**
 * NodeMetrics fields (proto names) that carry no figure in this sample. proto3 scalars cannot be
 * absent, so they go out as 0 and this list says which zeros mean "not measured".
 */
export function absentMetricsFields(tick: { host: HostSample; vmsMeasured?: boolean }): string[] {
  const { host } = tick;
  const out: string[] = [];
  if (host.cpu?.usagePercent === undefined) out.push("cpu_usage_percent");
  if (host.cpu?.perCpuUsagePercent === undefined) out.push("per_cpu_usage_percent");
  const m = host.memory;
  if (m === undefined) out.push("memory_used_bytes", "memory_total_bytes");
  if (m?.availableBytes === undefined) out.push("memory_available_bytes");
  if (m?.swapTotalBytes === undefined) out.push("swap_total_bytes");
  if (m?.swapTotalBytes === undefined || m.swapFreeBytes === undefined) out.push("swap_used_bytes");
  if (host.load === undefined) out.push("load_1m", "load_5m", "load_15m");
  if (host.uptimeSeconds === undefined) out.push("uptime_seconds");
  if (host.disks === undefined) out.push("disks");
  if (host.network === undefined) out.push("networks");
  if (tick.vmsMeasured === false) out.push("vms", "running_vms", "total_vms");
  return out;
}

// The messages of a metrics sample are written as object literals, every field given (the
// types make a missing one an error): create() fills each field through its schema, the biggest
// share of a metrics tick's conversion with 20 VMs. Tests check each equals create()'s message.

export function toNodeMetrics(tick: { host: HostSample; vms: VmMetrics[]; vmsMeasured?: boolean }, counts: VmCounts): NodeMetrics {
  const { host } = tick;
  const m = host.memory;
  // Repeated by CPU number; offline CPUs are absent, so the list follows the kernel's numbering of online CPUs.
  const perCpu = [...(host.cpu?.perCpuUsagePercent ?? new Map<string, number>())].sort((a, b) => Number(a[0]) - Number(b[0])).map(([, pct]) => pct);
  return {
    $typeName: NodeMetricsSchema.typeName,
    timestamp: timestampFromDate(host.timestamp),
    cpuUsagePercent: host.cpu?.usagePercent ?? 0,
    cpuMeasured: host.cpu?.usagePercent !== undefined,
    memoryUsedBytes: u64(m === undefined ? undefined : memoryUsedBytes(m)),
    memoryTotalBytes: u64(m?.totalBytes),
    disks: (host.disks ?? []).map(toDiskMetrics),
    networks: (host.network ?? []).map(toNetworkMetrics),
    vms: tick.vms.map(toVmMetrics),
    perCpuUsagePercent: perCpu,
    memoryAvailableBytes: u64(m?.availableBytes),
    swapTotalBytes: u64(m?.swapTotalBytes),
    swapUsedBytes: u64(m?.swapTotalBytes === undefined ? undefined : m.swapTotalBytes - (m.swapFreeBytes ?? 0)),
    load1m: host.load?.load1 ?? 0,
    load5m: host.load?.load5 ?? 0,
    load15m: host.load?.load15 ?? 0,
    uptimeSeconds: u64(host.uptimeSeconds),
    filesystems: host.filesystems.map(toFilesystemMetrics),
    runningVms: counts.running,
    totalVms: counts.total,
    absentFields: absentMetricsFields(tick),
  };
}

export function toDiskMetrics(d: DiskSample): DiskMetrics {
  return {
    $typeName: DiskMetricsSchema.typeName,
    device: d.device,
    readBytes: u64(d.readBytes),
    writeBytes: u64(d.writeBytes),
    readIops: u64(perSecond(d.readsPerSecond)),
    writeIops: u64(perSecond(d.writesPerSecond)),
    utilizationPercent: d.utilizationPercent ?? 0,
    readsCompleted: u64(d.readsCompleted),
    writesCompleted: u64(d.writesCompleted),
    ioTimeMs: u64(d.ioTimeMs),
    readBytesPerSecond: d.readBytesPerSecond ?? 0,
    writeBytesPerSecond: d.writeBytesPerSecond ?? 0,
  };
}

export function toFilesystemMetrics(f: FilesystemSample): FilesystemMetrics {
  return {
    $typeName: FilesystemMetricsSchema.typeName,
    path: f.path,
    totalBytes: u64(f.totalBytes),
    usedBytes: u64(f.usedBytes),
    availableBytes: u64(f.availableBytes),
  };
}

export function toNetworkMetrics(n: NetInterfaceSample): NetworkMetrics {
  return {
    $typeName: NetworkMetricsSchema.typeName,
    interface: n.name,
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
  };
}

export function toVmMetrics(m: VmMetrics): VMMetrics {
  return {
    $typeName: VMMetricsSchema.typeName,
    vmId: m.vmId,
    name: m.name,
    cpuUsagePercent: m.cpuUsagePercent,
    memoryUsedBytes: u64(m.memoryUsedBytes),
    diskReadBytes: u64(m.diskReadBytes),
    diskWriteBytes: u64(m.diskWriteBytes),
    networkRxBytes: u64(m.networkRxBytes),
    networkTxBytes: u64(m.networkTxBytes),
    state: powerState.toWire(m.state),
    cpuTimeNs: u64(m.cpuTimeNs),
    vcpus: Math.max(0, Math.round(m.vcpus)),
    memoryTotalBytes: u64(m.memoryTotalBytes),
    diskReadOps: u64(m.diskReadOps),
    diskWriteOps: u64(m.diskWriteOps),
    networkRxPackets: u64(m.networkRxPackets),
    networkTxPackets: u64(m.networkTxPackets),
  };
}

/** Mounted filesystems for NodeInfo. */
export function toStorageInfo(host: Pick<HostSample, "filesystems">): StorageInfo[] {
  return host.filesystems.map((f) =>
    create(StorageInfoSchema, {
      device: f.device ?? "",
      mountPoint: f.mountpoint ?? f.path,
      totalBytes: u64(f.totalBytes),
      usedBytes: u64(f.usedBytes),
      availableBytes: u64(f.availableBytes),
      filesystem: f.fstype ?? "",
    }),
  );
}

export function toNetworkInfo(interfaces: InterfaceFacts[]): NetworkInfo[] {
  return interfaces.map((i) =>
    create(NetworkInfoSchema, { name: i.name, macAddress: i.macAddress, ipAddresses: i.ipAddresses, speedMbps: u64(i.speedMbps), up: i.up }),
  );
}

export function toCpuInfo(identity: HostIdentity): CpuInfo {
  const c = identity.cpu;
  return create(CpuInfoSchema, {
    model: c.model,
    sockets: c.sockets ?? 0,
    coresPerSocket: c.coresPerSocket ?? 0,
    threadsPerCore: c.threadsPerCore ?? 0,
    totalThreads: c.totalThreads,
    frequencyMhz: u64(c.mhz),
    features: c.flags ?? [],
    virtualization: c.virtualization ?? false,
    onlineCpus: c.onlineCpus,
  });
}

export function toMemoryInfo(identity: HostIdentity): MemoryInfo {
  const m = identity.memory;
  return create(MemoryInfoSchema, {
    totalBytes: u64(m.totalBytes),
    availableBytes: u64(m.availableBytes),
    usedBytes: u64(m.availableBytes === undefined ? undefined : m.totalBytes - m.availableBytes),
    hugepages2mbTotal: u64(m.hugepages2mTotal),
    hugepages2mbFree: u64(m.hugepages2mFree),
    hugepages1gbTotal: u64(m.hugepages1gTotal),
    hugepages1gbFree: u64(m.hugepages1gFree),
  });
}

export function toOsInfo(identity: HostIdentity): OsInfo {
  return create(OsInfoSchema, { ...identity.os, version: identity.os.version ?? "" });
}

/** NodeInfoResponse fields (proto paths) this host could not report; they go out as 0 or empty. */
export function absentNodeInfoFields(identity: HostIdentity): string[] {
  const { cpu, memory: m } = identity;
  const absent: Array<[string, unknown]> = [
    ["cpu.sockets", cpu.sockets],
    ["cpu.cores_per_socket", cpu.coresPerSocket],
    ["cpu.threads_per_core", cpu.threadsPerCore],
    ["cpu.frequency_mhz", cpu.mhz],
    ["cpu.features", cpu.flags],
    ["cpu.virtualization", cpu.virtualization],
    ["memory.available_bytes", m.availableBytes],
    ["memory.used_bytes", m.availableBytes],
    ["memory.hugepages_2mb_total", m.hugepages2mTotal],
    ["memory.hugepages_2mb_free", m.hugepages2mFree],
    ["memory.hugepages_1gb_total", m.hugepages1gTotal],
    ["memory.hugepages_1gb_free", m.hugepages1gFree],
    ["os.version", identity.os.version],
    ["numa_nodes", identity.numaNodes],
    ["pci_devices", identity.pciDevices],
  ];
  return absent.filter(([, v]) => v === undefined).map(([name]) => name);
}

export function toPciDevices(identity: HostIdentity): PciDevice[] {
  return (identity.pciDevices ?? []).map((d) =>
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
