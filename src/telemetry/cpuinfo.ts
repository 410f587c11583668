// /proc/cpuinfo (one block per online CPU) and the CPU summary the node reports: model,
// topology (sockets, cores per socket, threads per core), frequency and flags.

import type { HostIdentity } from "./types.ts";
import { lines, TelemetryParseError, uintField } from "./parse-error.ts";
import { armModelName } from "./arm-parts.ts";

export interface CpuInfoEntry {
  processor: number;
  vendorId?: string;
  modelName?: string;
  physicalId?: number;
  coreId?: number;
  siblings?: number;
  cpuCores?: number;
  mhz?: number;
  flags: string[];
  /** arm64: "CPU implementer" and "CPU part" (hex strings), used when there is no model name. */
  implementer?: string;
  part?: string;
}

export function parseCpuInfo(text: string, file = "/proc/cpuinfo"): CpuInfoEntry[] {
  const out: CpuInfoEntry[] = [];
  let cur: CpuInfoEntry | undefined;
  lines(text).forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === "") return;
    const colon = line.indexOf(":");
    // Lines without a colon (e.g. the "power management:" line has one; bare text does not) are
    // not key/value pairs; a few kernels print such lines, ignore them.
    if (colon < 0) return;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === "processor") {
      cur = { processor: uintField(value, file, n, "processor"), flags: [] };
      out.push(cur);
      return;
    }
    if (cur === undefined) {
      // Hardware-wide lines (arm32 "Hardware", s390 headers) before the first processor.
      return;
    }
    switch (key) {
      case "vendor_id":
        cur.vendorId = value;
        break;
      case "model name":
      case "Processor": // arm32 kernels
        cur.modelName ??= value;
        break;
      case "physical id":
        cur.physicalId = uintField(value, file, n, key);
        break;
      case "core id":
        cur.coreId = uintField(value, file, n, key);
        break;
      case "siblings":
        cur.siblings = uintField(value, file, n, key);
        break;
      case "cpu cores":
        cur.cpuCores = uintField(value, file, n, key);
        break;
      case "cpu MHz": {
        const mhz = Number(value);
        if (value === "" || !Number.isFinite(mhz)) throw new TelemetryParseError(file, n, `cpu MHz: not a number ${JSON.stringify(value)}`);
        cur.mhz = mhz;
        break;
      }
      case "flags":
      case "Features": // arm64
        cur.flags = value === "" ? [] : value.split(/\s+/);
        break;
      case "CPU implementer":
        cur.implementer = value;
        break;
      case "CPU part":
        cur.part = value;
        break;
    }
  });
  return out;
}

export interface CpuSummaryInputs {
  /** /sys/devices/system/cpu/online; undefined when absent. */
  online?: number[];
  /** /sys/devices/system/cpu/present; undefined when absent. */
  present?: number[];
  /** sysfs topology per CPU (physical_package_id, core_id), used when cpuinfo has none (arm64). */
  topology?: Map<number, { packageId: number; coreId: number }>;
  /** cpufreq's cpuinfo_max_freq of cpu0 in MHz, used when cpuinfo has no "cpu MHz" (arm64). */
  maxMhz?: number;
}

export function summarizeCpu(entries: CpuInfoEntry[], inputs: CpuSummaryInputs): HostIdentity["cpu"] {
  const first = entries[0];
  const online = inputs.online?.length ?? entries.length;
  const totalThreads = inputs.present?.length ?? Math.max(online, entries.length);
  const flags = first?.flags ?? [];
  const model = first?.modelName ?? (first?.implementer !== undefined ? armModelName(first.implementer, first.part) : undefined) ?? "unknown";
  const { sockets, coresPerSocket, threadsPerCore } = topologyOf(entries, inputs.topology, online);
  const out: HostIdentity["cpu"] = {
    model,
    sockets,
    coresPerSocket,
    threadsPerCore,
    totalThreads,
    onlineCpus: online,
    flags,
    virtualization: flags.includes("vmx") || flags.includes("svm"),
  };
  // cpuinfo's "cpu MHz" is the current clock of the first CPU; on arm64 only cpufreq knows.
  const mhz = first?.mhz ?? inputs.maxMhz;
  if (mhz !== undefined) out.mhz = Math.round(mhz);
  return out;
}

function topologyOf(
  entries: CpuInfoEntry[],
  sysfs: CpuSummaryInputs["topology"],
  online: number,
): { sockets: number; coresPerSocket: number; threadsPerCore: number } {
  let pairs: Array<{ packageId: number; coreId: number }> | undefined;
  if (entries.length > 0 && entries.every((e) => e.physicalId !== undefined && e.coreId !== undefined)) {
    pairs = entries.map((e) => ({ packageId: e.physicalId as number, coreId: e.coreId as number }));
  } else if (sysfs !== undefined && sysfs.size > 0) {
    pairs = [...sysfs.values()];
  }
  if (pairs === undefined) return { sockets: 1, coresPerSocket: Math.max(online, 1), threadsPerCore: 1 };
  const sockets = new Set(pairs.map((p) => p.packageId)).size;
  const cores = new Set(pairs.map((p) => `${p.packageId}/${p.coreId}`)).size;
  return {
    sockets,
    coresPerSocket: Math.round(cores / sockets),
    threadsPerCore: Math.max(1, Math.round(pairs.length / cores)),
  };
}
