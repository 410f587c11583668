// Telemetry types to protobuf messages: every field, uint64 as bigint, absent as 0, and a
// binary round trip to prove the messages are well formed.

import { describe, expect, test } from "bun:test";
import { create, type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  DiskMetricsSchema,
  FilesystemMetricsSchema,
  NetworkMetricsSchema,
  NodeMetricsSchema,
  PowerState,
  VMMetricsSchema,
} from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { VmMetrics } from "../../src/hypervisor/types.ts";
import {
  memoryUsedBytes,
  toCpuInfo,
  toMemoryInfo,
  toNodeMetrics,
  toOsInfo,
  toPciDevices,
  toStorageInfo,
  toVmMetrics,
  vmCounts,
} from "../../src/server/convert/telemetry.ts";
import { u64 } from "../../src/server/convert/vm-status.ts";
import type { HostIdentity, HostSample } from "../../src/telemetry/types.ts";

const zeroTimes = { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0, guest: 0, guestNice: 0 };

const host: HostSample = {
  timestamp: new Date("2026-11-22T02:00:00.250Z"),
  cpu: {
    total: zeroTimes,
    perCpu: new Map(),
    usagePercent: 42.5,
    perCpuUsagePercent: new Map([
      ["10", 3],
      ["2", 1],
      ["0", 2],
    ]),
  },
  memory: { totalBytes: 1000, availableBytes: 600, freeBytes: 100, swapTotalBytes: 50, swapFreeBytes: 20, raw: new Map() },
  load: { load1: 0.5, load5: 0.25, load15: 0.125 },
  uptimeSeconds: 99.6,
  disks: [{ device: "sda", readsCompleted: 1, writesCompleted: 2, readBytes: 512, writeBytes: 1024, ioTimeMs: 7, readBytesPerSecond: 10.5 }],
  filesystems: [{ path: "/", totalBytes: 100, usedBytes: 40, availableBytes: 50 }],
  network: [
    { name: "eth0", rxBytes: 2 ** 53, rxPackets: 3, rxErrors: 4, rxDropped: 5, txBytes: 6, txPackets: 7, txErrors: 8, txDropped: 9, txBytesPerSecond: 1.5 },
  ],
};

const vm: VmMetrics = {
  vmId: "11111111-1111-4111-8111-111111111111",
  name: "db-1",
  state: "paused",
  cpuUsagePercent: 37.5,
  cpuTimeNs: 12_500_000_000,
  vcpus: 4,
  memoryUsedBytes: 3,
  memoryTotalBytes: 4,
  diskReadBytes: 5,
  diskWriteBytes: 6,
  diskReadOps: 7,
  diskWriteOps: 8,
  networkRxBytes: 9,
  networkTxBytes: 10,
  networkRxPackets: 11,
  networkTxPackets: 12,
};

describe("u64", () => {
  test.each([
    [1.4, 1n],
    [1.5, 2n],
    [-3, 0n],
    [undefined, 0n],
    [2 ** 53, 9007199254740992n],
  ])("%p", (x, expected) => {
    expect(u64(x)).toBe(expected);
  });
});

describe("toNodeMetrics", () => {
  test("every field", () => {
    const m = toNodeMetrics({ host, vms: [] }, { running: 2, total: 3 });
    expect(m.cpuUsagePercent).toBe(42.5);
    expect(m.cpuMeasured).toBe(true);
    // Ordered by CPU number, not by string.
    expect(m.perCpuUsagePercent).toEqual([2, 1, 3]);
    expect([m.memoryTotalBytes, m.memoryUsedBytes, m.memoryAvailableBytes, m.swapTotalBytes, m.swapUsedBytes]).toEqual([1000n, 400n, 600n, 50n, 30n]);
    expect([m.load1m, m.load5m, m.load15m, m.uptimeSeconds]).toEqual([0.5, 0.25, 0.125, 100n]);
    expect(m.disks[0]).toMatchObject({
      device: "sda",
      readBytes: 512n,
      writeBytes: 1024n,
      readIops: 0n,
      utilizationPercent: 0,
      readsCompleted: 1n,
      writesCompleted: 2n,
      ioTimeMs: 7n,
      readBytesPerSecond: 10.5,
      writeBytesPerSecond: 0,
    });
    expect(m.filesystems[0]).toMatchObject({ path: "/", totalBytes: 100n, usedBytes: 40n, availableBytes: 50n });
    expect(m.networks[0]).toMatchObject({
      interface: "eth0",
      rxBytes: 9007199254740992n,
      txBytes: 6n,
      rxPackets: 3n,
      txPackets: 7n,
      rxErrors: 4n,
      txErrors: 8n,
      rxDropped: 5n,
      txDropped: 9n,
      rxBytesPerSecond: 0,
      txBytesPerSecond: 1.5,
    });
    expect([m.runningVms, m.totalVms]).toEqual([2, 3]);
  });
  test("first sample: no CPU rate yet is marked as not measured (0 on the wire)", () => {
    const m = toNodeMetrics({ host: { ...host, cpu: { total: zeroTimes, perCpu: new Map() } }, vms: [] }, { running: 0, total: 0 });
    expect(m.cpuUsagePercent).toBe(0);
    expect(m.cpuMeasured).toBe(false);
    expect(m.perCpuUsagePercent).toEqual([]);
  });
  test("memory used without MemAvailable (old kernels): total - free - buffers - cached", () => {
    expect(memoryUsedBytes({ totalBytes: 1000, freeBytes: 100, buffersBytes: 50, cachedBytes: 250, raw: new Map() })).toBe(600);
  });
});

describe("VMs and samples", () => {
  test("toVmMetrics", () => {
    const p = toVmMetrics(vm);
    expect(p).toMatchObject({
      vmId: vm.vmId,
      name: "db-1",
      state: PowerState.PAUSED,
      cpuUsagePercent: 37.5,
      cpuTimeNs: 12_500_000_000n,
      vcpus: 4,
      memoryUsedBytes: 3n,
      memoryTotalBytes: 4n,
      diskReadBytes: 5n,
      diskWriteBytes: 6n,
      diskReadOps: 7n,
      diskWriteOps: 8n,
      networkRxBytes: 9n,
      networkTxBytes: 10n,
      networkRxPackets: 11n,
      networkTxPackets: 12n,
    });
  });
  // The sample's messages are object literals (not create()): each must be the message create()
  // makes of the same fields, and decode back to itself.
  test.each([
    ["NodeMetrics", NodeMetricsSchema, () => toNodeMetrics({ host, vms: [vm] }, { running: 0, total: 1 })],
    ["VMMetrics", VMMetricsSchema, () => toVmMetrics(vm)],
    ["DiskMetrics", DiskMetricsSchema, () => toNodeMetrics({ host, vms: [] }, { running: 0, total: 0 }).disks[0]!],
    ["NetworkMetrics", NetworkMetricsSchema, () => toNodeMetrics({ host, vms: [] }, { running: 0, total: 0 }).networks[0]!],
    ["FilesystemMetrics", FilesystemMetricsSchema, () => toNodeMetrics({ host, vms: [] }, { running: 0, total: 0 }).filesystems[0]!],
  ] as Array<[string, DescMessage, () => MessageShape<DescMessage>]>)("%s written as a literal is create()'s message", (_, schema, build) => {
    const built = build();
    const { $typeName: _typeName, ...fields } = built;
    expect(built).toEqual(create(schema, fields));
    expect(fromBinary(schema, toBinary(schema, built))).toEqual(built);
  });
  test("a NodeMetrics sample round-trips through the wire format", () => {
    const running = { ...vm, vmId: "22222222-2222-4222-8222-222222222222", state: "running" as const };
    const counts = vmCounts([vm, running]);
    expect(counts).toEqual({ running: 1, total: 2 });
    const msg = toNodeMetrics({ host, vms: [vm, running] }, counts);
    const back = fromBinary(NodeMetricsSchema, toBinary(NodeMetricsSchema, msg));
    expect(timestampDate(back.timestamp!).toISOString()).toBe("2026-11-22T02:00:00.250Z");
    expect(back.totalVms).toBe(2);
    expect(back.vms.map((v) => v.state)).toEqual([PowerState.PAUSED, PowerState.RUNNING]);
    expect(back.networks[0]?.rxBytes).toBe(9007199254740992n);
  });
  test("filesystems become NodeInfo storage, keyed by mount point", () => {
    const [fs] = toStorageInfo({
      ...host,
      filesystems: [{ path: "/var", mountpoint: "/var", device: "/dev/vda1", fstype: "ext4", totalBytes: 100, usedBytes: 40, availableBytes: 50 }],
    });
    expect(fs).toMatchObject({ device: "/dev/vda1", mountPoint: "/var", filesystem: "ext4", totalBytes: 100n, usedBytes: 40n, availableBytes: 50n });
  });
});

describe("identity messages", () => {
  const identity: HostIdentity = {
    hostname: "hv1",
    os: { name: "Debian GNU/Linux", version: "12", kernel: "6.1.0-18-amd64", arch: "x86_64" },
    cpu: {
      model: "AMD EPYC 7232P 8-Core Processor",
      sockets: 1,
      coresPerSocket: 8,
      threadsPerCore: 2,
      totalThreads: 16,
      onlineCpus: 16,
      mhz: 3100.4,
      flags: ["svm", "npt"],
      virtualization: true,
    },
    memory: { totalBytes: 2 ** 37, availableBytes: 2 ** 36, hugepages2mTotal: 10, hugepages2mFree: 5, hugepages1gTotal: 2, hugepages1gFree: 1 },
    numaNodes: 1,
    pciDevices: [
      {
        address: "0000:c1:00.0",
        vendorId: "0x1002",
        deviceId: "0x73a3",
        classCode: "0x030000",
        className: "VGA compatible controller",
        driver: "vfio-pci",
        iommuGroup: 0,
        isGpu: true,
        vendorName: "AMD",
      },
      { address: "0000:41:00.0", vendorId: "0x8086", deviceId: "0x1563", classCode: "0x020000", className: "Ethernet controller", isGpu: false },
    ],
  };
  test("CpuInfo, MemoryInfo, OsInfo", () => {
    expect(toCpuInfo(identity)).toMatchObject({
      model: identity.cpu.model,
      sockets: 1,
      coresPerSocket: 8,
      threadsPerCore: 2,
      totalThreads: 16,
      onlineCpus: 16,
      frequencyMhz: 3100n,
      features: ["svm", "npt"],
      virtualization: true,
    });
    expect(toMemoryInfo(identity)).toMatchObject({
      totalBytes: 2n ** 37n,
      availableBytes: 2n ** 36n,
      usedBytes: 2n ** 36n,
      hugepages2mbTotal: 10n,
      hugepages2mbFree: 5n,
      hugepages1gbTotal: 2n,
      hugepages1gbFree: 1n,
    });
    expect(toOsInfo(identity)).toMatchObject(identity.os);
  });
  test("PCI devices: group 0 is a group, no group is -1, no driver is empty", () => {
    const [gpu, nic] = toPciDevices(identity);
    expect(gpu).toMatchObject({
      address: "0000:c1:00.0",
      iommuGroup: 0,
      driver: "vfio-pci",
      isGpu: true,
      vendorName: "AMD",
      className: "VGA compatible controller",
    });
    expect(nic).toMatchObject({ iommuGroup: -1, driver: "", vendorName: "", isGpu: false });
  });
});
