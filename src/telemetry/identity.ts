// Who the host is: CPU model and topology, memory, OS and kernel, NUMA nodes and PCI devices.
// Read when asked (GetNodeInfo, registration); nothing here changes from second to second. Each
// source is read on its own; the os module stands in for the ones it covers (os-facts.ts).

import { join } from "node:path";
import type { HostIdentity, SourceStatus } from "./types.ts";
import { type HostIo, type HostRoots, procPath, readOptional, sysPath } from "./host-io.ts";
import { parseCpuInfo, summarizeCpu, type CpuSummaryInputs, type CpuInfoEntry } from "./cpuinfo.ts";
import { parseCpuList } from "./cpu-list.ts";
import { readMeminfo, toMemorySample } from "./meminfo.ts";
import { readHugePages } from "./hugepages.ts";
import { readKernelIdentity } from "./kernel.ts";
import { osNameOf, readOsRelease } from "./os-release.ts";
import { cpuIdentityFromOs, kernelFromOs, memoryFromOs, nodeOsFacts, type OsFacts } from "./os-facts.ts";
import { attempt } from "./sources.ts";
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
      const [packageId, coreId] = await Promise.all([readUint(io, join(dir, "physical_package_id")), readUint(io, join(dir, "core_id"))]);
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

export async function readIdentity(io: HostIo, roots: HostRoots, facts: OsFacts = nodeOsFacts): Promise<HostIdentity> {
  const sources: SourceStatus[] = [];
  const [cpu, meminfo, huge, kernel, release, numaNodes, pciDevices] = await Promise.all([
    attempt(sources, procPath(roots, "cpuinfo"), "CPU model and count from the os module, topology and flags absent", () => readCpu(io, roots)),
    attempt(sources, procPath(roots, "meminfo"), "memory from the os module", () => readMeminfo(io, roots)),
    attempt(sources, sysPath(roots, "kernel/mm/hugepages"), "huge page counts absent", () => readHugePages(io, roots)),
    attempt(sources, procPath(roots, "sys/kernel"), "hostname and kernel from the os module", () => readKernelIdentity(io, roots)),
    attempt(sources, join(roots.etc, "os-release"), "OS name from the os module", () => readOsRelease(io, roots)),
    attempt(sources, sysPath(roots, "devices/system/node"), "NUMA node count absent", () => readNumaNodeCount(io, roots)),
    attempt(sources, sysPath(roots, "bus/pci/devices"), "PCI devices absent", () => readPciDevices(io, roots)),
  ]);
  const mem = toMemorySample(meminfo ?? memoryFromOs(facts), huge);
  const k = kernel ?? kernelFromOs(facts);
  // Without os-release: the kernel's name ("Linux", "Darwin"), and no version rather than a guess.
  const os = release === undefined ? { name: facts.type() } : osNameOf(release);
  const identity: HostIdentity = {
    hostname: k.hostname,
    os: { ...os, kernel: k.release, arch: k.arch },
    cpu: cpu ?? cpuIdentityFromOs(facts),
    memory: { totalBytes: mem.totalBytes },
    sources,
  };
  // Kernels before 3.14 have no MemAvailable: free + buffers + cached is what free(1) showed then.
  // Free pages alone (the os module off Linux) are not what can be given out: unknown.
  const oldKernel = mem.freeBytes !== undefined && mem.cachedBytes !== undefined;
  const available = mem.availableBytes ?? (oldKernel ? (mem.freeBytes ?? 0) + (mem.buffersBytes ?? 0) + (mem.cachedBytes ?? 0) : undefined);
  const m = identity.memory;
  if (available !== undefined) m.availableBytes = available;
  if (mem.hugepages2mTotal !== undefined) m.hugepages2mTotal = mem.hugepages2mTotal;
  if (mem.hugepages2mFree !== undefined) m.hugepages2mFree = mem.hugepages2mFree;
  if (mem.hugepages1gTotal !== undefined) m.hugepages1gTotal = mem.hugepages1gTotal;
  if (mem.hugepages1gFree !== undefined) m.hugepages1gFree = mem.hugepages1gFree;
  if (numaNodes !== undefined) identity.numaNodes = numaNodes;
  if (pciDevices !== undefined) identity.pciDevices = pciDevices;
  return identity;
}
