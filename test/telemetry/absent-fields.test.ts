// absent_fields: which zeros of NodeMetrics and NodeInfoResponse mean "not measured", from the
// telemetry figures that are undefined. Everything measured: an empty list.

import { describe, expect, test } from "bun:test";
import { absentMetricsFields, absentNodeInfoFields, toNodeMetrics } from "../../src/server/convert/telemetry.ts";
import type { HostIdentity, HostSample } from "../../src/telemetry/types.ts";

const times = { user: 1, nice: 0, system: 1, idle: 8, irq: 0 };
const full: HostSample = {
  timestamp: new Date(0),
  cpu: { total: times, perCpu: new Map([["0", times]]), usagePercent: 20, perCpuUsagePercent: new Map([["0", 20]]) },
  memory: { totalBytes: 1000, availableBytes: 600, swapTotalBytes: 50, swapFreeBytes: 20, raw: new Map() },
  load: { load1: 1, load5: 1, load15: 1 },
  uptimeSeconds: 10,
  disks: [],
  filesystems: [],
  network: [],
};

describe("NodeMetrics", () => {
  test("a complete sample: nothing absent; empty device lists are measured (no disks), not absent", () => {
    expect(absentMetricsFields({ host: full })).toEqual([]);
  });
  test("a host without /proc (memory from the os module, no swap, disks or network) and a hypervisor that failed", () => {
    const host: HostSample = {
      timestamp: new Date(0),
      filesystems: [],
      cpu: { total: times, perCpu: new Map() },
      memory: { totalBytes: 1000, freeBytes: 100, raw: new Map() },
    };
    const m = toNodeMetrics({ host, vms: [], vmsMeasured: false }, { running: 0, total: 0 });
    expect(m.absentFields).toEqual([
      "cpu_usage_percent",
      "per_cpu_usage_percent",
      "memory_available_bytes",
      "swap_total_bytes",
      "swap_used_bytes",
      "load_1m",
      "load_5m",
      "load_15m",
      "uptime_seconds",
      "disks",
      "networks",
      "vms",
      "running_vms",
      "total_vms",
    ]);
    // The figures it has are still there: used = total - free.
    expect([m.memoryTotalBytes, m.memoryUsedBytes]).toEqual([1000n, 900n]);
  });
  test("no host figures at all (the sampler failed): memory too", () => {
    expect(absentMetricsFields({ host: { timestamp: new Date(0), filesystems: [] } })).toContain("memory_total_bytes");
  });
});

describe("NodeInfoResponse", () => {
  test("what the os module cannot tell is named by its proto path", () => {
    const identity: HostIdentity = {
      hostname: "mac",
      os: { name: "Darwin", kernel: "23.4.0", arch: "arm64" },
      cpu: { model: "M2", totalThreads: 8, onlineCpus: 8, mhz: 3500 },
      memory: { totalBytes: 1 },
    };
    expect(absentNodeInfoFields(identity)).toEqual([
      "cpu.sockets",
      "cpu.cores_per_socket",
      "cpu.threads_per_core",
      "cpu.features",
      "cpu.virtualization",
      "memory.available_bytes",
      "memory.used_bytes",
      "memory.hugepages_2mb_total",
      "memory.hugepages_2mb_free",
      "memory.hugepages_1gb_total",
      "memory.hugepages_1gb_free",
      "os.version",
      "numa_nodes",
      "pci_devices",
    ]);
  });
});
