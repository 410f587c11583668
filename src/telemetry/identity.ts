// Who the host is: CPU model and topology, memory, OS and kernel, NUMA nodes and PCI devices.
// Read when asked (GetNodeInfo, registration); nothing here changes from second to second.

import { join } from "node:path";
import type { HostIdentity } from "./types.ts";
import { type HostIo, type HostRoots, procPath, readOptional, sysPath } from "./host-io.ts";
import { parseCpuInfo, summarizeCpu, type CpuSummaryInputs, type CpuInfoEntry } from "./cpuinfo.ts";
import { parseCpuList } from "./cpu-list.ts";
import { readMeminfo, toMemorySample } from "./meminfo.ts";
import { readHugePages } from "./hugepages.ts";
import { readKernelIdentity } from "./kernel.ts";
import { osNameOf, readOsRelease } from "./os-release.ts";
import { readNumaNodeCount } from "./numa.ts";
import { readPciDevices } from "./pci.ts";
import { uintField } from "./parse-error.ts";

async function readCpuList(io: HostIo, file: string): Promise<number[] | undefined> {
  const text = await readOptional(io, file);
  return text === undefined ? undefined : parseCpuList(text, file);
}

async function readUint(io: HostIo, file: string): Promise<number | undefined> {
  const text = await readOptional(io, file);
  return text === undefined ? undefined : uintField(text.trim(), file, 1, "value");
}

/** sysfs topology of each listed CPU; only read when cpuinfo has no physical/core ids (arm64). */
async function readTopology(io: HostIo, roots: HostRoots, cpus: number[]): Promise<CpuSummaryInputs["topology"]> {
  const out = new Map<number, { packageId: number; coreId: number }>();
  await Promise.all(
    cpus.map(async (cpu) => {
      const dir = sysPath(roots, `devices/system/cpu/cpu${cpu}/topology`);
      const [packageId, coreId] = await Promise.all([
        readUint(io, join(dir, "physical_package_id")),
        readUint(io, join(dir, "core_id")),
      ]);
      if (packageId !== undefined && coreId !== undefined) out.set(cpu, { packageId, coreId });
    }),
  );
  return out;
}

async function readCpu(io: HostIo, roots: HostRoots): Promise<HostIdentity["cpu"]> {
  const cpuinfoFile = procPath(roots, "cpuinfo");
  const [text, online, present] = await Promise.all([
    io.readText(cpuinfoFile),
    readCpuList(io, sysPath(roots, "devices/system/cpu/online")),
    readCpuList(io, sysPath(roots, "devices/system/cpu/present")),
  ]);
  const entries: CpuInfoEntry[] = parseCpuInfo(text, cpuinfoFile);
  const inputs: CpuSummaryInputs = { online, present };
  const hasIds = entries.length > 0 && entries.every((e) => e.physicalId !== undefined && e.coreId !== undefined);
  if (!hasIds) inputs.topology = await readTopology(io, roots, online ?? entries.map((e) => e.processor));
  if (entries[0]?.mhz === undefined) {
    const khz = await readUint(io, sysPath(roots, "devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"));
    if (khz !== undefined) inputs.maxMhz = khz / 1000;
  }
  return summarizeCpu(entries, inputs);
}

export async function readIdentity(io: HostIo, roots: HostRoots): Promise<HostIdentity> {
  const [cpu, meminfo, huge, kernel, release, numaNodes, pciDevices] = await Promise.all([
    readCpu(io, roots),
    readMeminfo(io, roots),
    readHugePages(io, roots),
    readKernelIdentity(io, roots),
    readOsRelease(io, roots),
    readNumaNodeCount(io, roots),
    readPciDevices(io, roots),
  ]);
  const mem = toMemorySample(meminfo, huge);
  const os = osNameOf(release);
  return {
    hostname: kernel.hostname,
    os: { name: os.name, version: os.version, kernel: kernel.release, arch: kernel.arch },
    cpu,
    memory: {
      totalBytes: mem.totalBytes,
      // Kernels before 3.14 have no MemAvailable: free + buffers + cached is what free(1) showed then.
      availableBytes: mem.availableBytes ?? (mem.freeBytes ?? 0) + (mem.buffersBytes ?? 0) + (mem.cachedBytes ?? 0),
      hugepages2mTotal: mem.hugepages2mTotal ?? 0,
      hugepages2mFree: mem.hugepages2mFree ?? 0,
      hugepages1gTotal: mem.hugepages1gTotal ?? 0,
      hugepages1gFree: mem.hugepages1gFree ?? 0,
    },
    numaNodes,
    pciDevices,
  };
}
