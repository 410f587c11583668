// One test per fixture tree: the whole sampler and identity reader pointed at a machine's
// captured (or faithfully modelled) /proc, /sys and /etc. See test/fixtures/host/README.md.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createTelemetry } from "../../src/telemetry/telemetry.ts";
import { complete } from "./complete-sample.ts";

const FIXTURES = join(import.meta.dir, "../fixtures/host");

function telemetryFor(machine: string) {
  const root = join(FIXTURES, machine);
  return createTelemetry({ procRoot: join(root, "proc"), sysRoot: join(root, "sys"), etcRoot: join(root, "etc"), filesystemPaths: [] });
}

const GiB = 1024 ** 3;

describe("kvm-epyc-debian12 (captured on the CI-like VM)", () => {
  const t = telemetryFor("kvm-epyc-debian12");
  test("identity", async () => {
    const id = await t.identity();
    expect(id.hostname).toBe("vm");
    expect(id.os).toEqual({ name: "Debian GNU/Linux", version: "12", kernel: "6.18.44-fc-v657", arch: "x86_64" });
    expect(id.cpu).toMatchObject({
      model: "AMD EPYC",
      sockets: 1,
      coresPerSocket: 2,
      threadsPerCore: 1,
      totalThreads: 2,
      onlineCpus: 2,
      mhz: 2596,
      virtualization: false,
    });
    expect(id.cpu.flags).toContain("avx512f");
    expect(id.memory).toEqual({
      totalBytes: 24684092 * 1024,
      availableBytes: 24266580 * 1024,
      hugepages2mTotal: 0,
      hugepages2mFree: 0,
      hugepages1gTotal: 0,
      hugepages1gFree: 0,
    });
    expect(id.numaNodes).toBe(1);
    // The host bridge is left out; virtio functions have a driver and no IOMMU group.
    expect(id.pciDevices!.map((d) => d.address)).toEqual(["0000:00:01.0", "0000:00:02.0", "0000:00:03.0", "0000:00:04.0", "0000:00:05.0"]);
    expect(id.pciDevices![2]).toMatchObject({ vendorId: "0x1af4", deviceId: "0x1041", className: "Ethernet controller", driver: "virtio-pci", isGpu: false });
    expect(id.pciDevices!.every((d) => d.iommuGroup === undefined)).toBe(true);
  });
  test("sample", async () => {
    const s = complete(await t.sample());
    expect(s.load).toEqual({ load1: 0.24, load5: 0.16, load15: 0.07, runnable: 5, threads: 108 });
    expect(s.uptimeSeconds).toBe(601.13);
    expect(s.disks.map((d) => d.device)).toEqual(["vda"]);
    expect(s.disks[0]).toMatchObject({ readsCompleted: 40867, readBytes: 2243186 * 512, writeBytes: 1719152 * 512, ioTimeMs: 4292 });
    expect(s.network.map((n) => n.name)).toEqual(["lo", "ifb0", "ifb1", "eth0"]);
    expect(s.network[3]).toMatchObject({ rxBytes: 172792525, txBytes: 319738, rxPackets: 4532 });
    expect([...s.cpu.perCpu.keys()]).toEqual(["0", "1"]);
    expect(s.kernel?.bootTimeSeconds).toBe(1795311397);
    expect(s.uname).toEqual({
      sysname: "Linux",
      nodename: "vm",
      release: "6.18.44-fc-v657",
      machine: "x86_64",
      version: "#1 SMP PREEMPT_DYNAMIC @0",
      domainname: "(none)",
    });
    // First sample: no rates yet.
    expect(s.cpu.usagePercent).toBeUndefined();
    expect(s.disks[0]?.readBytesPerSecond).toBeUndefined();
  });
});

describe("xeon-silver-2s-ht-ubuntu2204 (2 sockets, HT, 2M and 1G huge pages, GPU for passthrough)", () => {
  const t = telemetryFor("xeon-silver-2s-ht-ubuntu2204");
  test("identity", async () => {
    const id = await t.identity();
    expect(id.hostname).toBe("hv-rack3-07");
    expect(id.os).toMatchObject({ name: "Ubuntu", version: "22.04", kernel: "5.15.0-91-generic" });
    expect(id.cpu).toMatchObject({
      model: "Intel(R) Xeon(R) Silver 4110 CPU @ 2.10GHz",
      sockets: 2,
      coresPerSocket: 8,
      threadsPerCore: 2,
      totalThreads: 32,
      onlineCpus: 32,
      virtualization: true,
    });
    expect(id.memory).toMatchObject({ hugepages2mTotal: 4096, hugepages2mFree: 1024, hugepages1gTotal: 16, hugepages1gFree: 8 });
    expect(id.numaNodes).toBe(2);
    // GPUs first (the BMC's VGA and the passthrough T4), bridges left out, the rest by address.
    expect(id.pciDevices!.map((d) => d.address)).toEqual([
      "0000:02:00.0",
      "0000:3b:00.0",
      "0000:00:1f.4",
      "0000:18:00.0",
      "0000:18:00.1",
      "0000:5e:00.0",
      "0000:af:00.0",
    ]);
    expect(id.pciDevices![1]).toMatchObject({ vendorId: "0x10de", className: "3D controller", driver: "vfio-pci", iommuGroup: 42, isGpu: true });
    expect(id.pciDevices![6]?.driver).toBeUndefined();
  });
  test("sample", async () => {
    const s = complete(await t.sample());
    expect(s.cpu.perCpu.size).toBe(32);
    expect(s.memory.totalBytes).toBe(395939308 * 1024);
    expect(s.memory.raw.get("HugePages_Rsvd")).toBe(12);
    // Partitions (sda1, nvme0n1p2) and loop devices are out; dm, md and the CD drive are whole devices.
    expect(s.disks.map((d) => d.device)).toEqual(["sda", "sdb", "nvme0n1", "dm-0", "dm-1", "md0", "sr0"]);
    const names = s.network.map((n) => n.name);
    expect(names).toContain("veth9f8e7d6c5b4");
    expect(names).toContain("enp175s0f1np1");
    expect(s.network.find((n) => n.name === "eno1")?.rxBytes).toBe(987654321098765);
  });
});

describe("epyc-7232p-rocky9 (AMD with svm, GPU and its audio function in one IOMMU group)", () => {
  const t = telemetryFor("epyc-7232p-rocky9");
  test("identity", async () => {
    const id = await t.identity();
    expect(id.cpu).toMatchObject({
      model: "AMD EPYC 7232P 8-Core Processor",
      sockets: 1,
      coresPerSocket: 8,
      threadsPerCore: 2,
      totalThreads: 16,
      virtualization: true,
    });
    expect(id.cpu.flags).toContain("svm");
    expect(id.os).toMatchObject({ name: "Rocky Linux", version: "9.3", kernel: "5.14.0-362.8.1.el9_3.x86_64" });
    expect(id.pciDevices![0]).toMatchObject({ address: "0000:c1:00.0", isGpu: true, iommuGroup: 45, vendorName: "Advanced Micro Devices, Inc. [AMD/ATI]" });
    expect(id.pciDevices!.find((d) => d.address === "0000:c1:00.1")).toMatchObject({ className: "Audio device", iommuGroup: 45 });
  });
  test("sample: zram is not a disk", async () => {
    const s = complete(await t.sample());
    expect(s.disks.map((d) => d.device)).toEqual(["nvme0n1", "dm-0", "dm-1"]);
    expect(s.memory.swapFreeBytes).toBe(4194300 * 1024);
  });
});

describe("arm64-altra-ubuntu2404 (no model name, topology from sysfs, several huge page sizes)", () => {
  const t = telemetryFor("arm64-altra-ubuntu2404");
  test("identity", async () => {
    const id = await t.identity();
    expect(id.os.arch).toBe("aarch64");
    expect(id.cpu).toMatchObject({ model: "Neoverse-N1", sockets: 1, coresPerSocket: 8, threadsPerCore: 1, totalThreads: 8, mhz: 3000, virtualization: false });
    expect(id.cpu.flags).toContain("asimd");
    expect(id.memory).toMatchObject({ totalBytes: 32817280 * 1024, hugepages2mTotal: 512, hugepages1gTotal: 2, hugepages1gFree: 1 });
    expect(id.pciDevices!.map((d) => [d.address, d.isGpu])).toEqual([
      ["0002:01:00.0", true],
      ["0002:02:00.0", false],
    ]);
  });
  test("sample", async () => {
    const s = complete(await t.sample());
    expect(s.disks.map((d) => d.device)).toEqual(["nvme0n1"]);
    expect(s.network.map((n) => n.name)).toEqual(["lo", "enP2p1s0"]);
    expect(s.memory.hugepages1gTotal).toBe(2);
  });
});

describe("offline-cpus-centos6 (2.6.32: CPUs 6-7 offline, no MemAvailable, no os-release, glued net/dev)", () => {
  const t = telemetryFor("offline-cpus-centos6");
  test("identity", async () => {
    const id = await t.identity();
    expect(id.cpu).toMatchObject({ sockets: 1, coresPerSocket: 4, totalThreads: 8, onlineCpus: 6 });
    // No os-release: the kernel's name, and no version rather than a made-up one.
    expect(id.os).toEqual({ name: "Linux", kernel: "2.6.32-754.35.1.el6.x86_64", arch: "x86_64" });
    // No MemAvailable on this kernel: free + buffers + cached.
    expect(id.memory.availableBytes).toBe((1234567 + 234567 + 8765432) * 1024);
    // No node/online file: counted from the node directories.
    expect(id.numaNodes).toBe(1);
    // This tree has no /sys/bus/pci: the devices are unknown, not none.
    expect(id.pciDevices).toBeUndefined();
  });
  test("sample", async () => {
    const s = complete(await t.sample());
    expect([...s.cpu.perCpu.keys()]).toEqual(["0", "1", "2", "3", "4", "5"]);
    expect(s.cpu.total.guestNice).toBe(0);
    expect(s.memory.availableBytes).toBeUndefined();
    expect(s.memory.totalBytes).toBeGreaterThan(15 * GiB);
    // sysfs lists every huge page size the CPU has: no 1 GiB folder is 0 such pages, not unknown.
    expect(s.memory.hugepages1gTotal).toBe(0);
    expect(s.disks.map((d) => d.device)).toEqual(["sda", "dm-0", "dm-1"]);
    expect(s.network.find((n) => n.name === "eth0")).toMatchObject({ rxBytes: 4294967295123, rxPackets: 4567890123, txBytes: 987654321 });
    expect(s.uname).toMatchObject({ nodename: "legacy-db01", release: "2.6.32-754.35.1.el6.x86_64", domainname: "corp.example" });
  });
});
