// The floor under /proc and /sys: what Node's os module knows on every platform (CPU model, count
// and times, memory, load, uptime, hostname, kernel release, architecture). Used for a figure
// whose /proc file is missing or unreadable (a Mac in --dev, a proc root that is not mounted);
// what only /proc knows (disks, network, swap, CPU topology and flags) stays absent.

import * as os from "node:os";
import type { KernelIdentity } from "./kernel.ts";
import type { MemInfo } from "./meminfo.ts";
import type { CpuTimes, HostIdentity, LoadSample } from "./types.ts";

/** The parts of node:os used here; tests pass a fixed one. */
export interface OsFacts {
  platform: NodeJS.Platform;
  cpus(): Array<Pick<os.CpuInfo, "model" | "speed" | "times">>;
  totalmem(): number;
  freemem(): number;
  loadavg(): number[];
  uptime(): number;
  hostname(): string;
  release(): string;
  /** uname -m ("x86_64", "arm64"). */
  machine(): string;
  /** uname -v. */
  version(): string;
  /** uname -s ("Linux", "Darwin"). */
  type(): string;
}

export const nodeOsFacts: OsFacts = {
  platform: process.platform,
  cpus: () => os.cpus(),
  totalmem: () => os.totalmem(),
  freemem: () => os.freemem(),
  loadavg: () => os.loadavg(),
  uptime: () => os.uptime(),
  hostname: () => os.hostname(),
  release: () => os.release(),
  machine: () => os.machine(),
  version: () => os.version(),
  type: () => os.type(),
};

/** os.cpus() times (milliseconds, five modes) as CpuTimes in seconds; the Linux-only modes stay absent. */
export function cpuTimesFromOs(cpus: ReturnType<OsFacts["cpus"]>): { total: CpuTimes; perCpu: Map<string, CpuTimes> } {
  const total: CpuTimes = { user: 0, nice: 0, system: 0, idle: 0, irq: 0 };
  const perCpu = new Map<string, CpuTimes>();
  cpus.forEach((c, i) => {
    const t: CpuTimes = {
      user: c.times.user / 1000,
      nice: c.times.nice / 1000,
      system: c.times.sys / 1000,
      idle: c.times.idle / 1000,
      irq: c.times.irq / 1000,
    };
    perCpu.set(String(i), t);
    total.user += t.user;
    total.nice += t.nice;
    total.system += t.system;
    total.idle += t.idle;
    total.irq += t.irq;
  });
  return { total, perCpu };
}

/**
 * Memory as /proc/meminfo would give it. os.freemem() is MemAvailable on Linux (what the kernel
 * says can be given out without swapping) but only the free pages elsewhere (macOS), so it is
 * reported under the name it deserves.
 */
export function memoryFromOs(facts: OsFacts): MemInfo {
  const values = new Map<string, number>([["MemTotal", facts.totalmem()]]);
  values.set(facts.platform === "linux" ? "MemAvailable" : "MemFree", facts.freemem());
  return { values, countKeys: new Set() };
}

/** Load averages; Windows has none (os.loadavg() is always zeros there), so absent. */
export function loadFromOs(facts: OsFacts): LoadSample | undefined {
  if (facts.platform === "win32") return undefined;
  const [load1, load5, load15] = facts.loadavg();
  if (load1 === undefined || load5 === undefined || load15 === undefined) return undefined;
  return { load1, load5, load15 };
}

export function kernelFromOs(facts: OsFacts): KernelIdentity {
  const out: KernelIdentity = { hostname: facts.hostname(), release: facts.release(), arch: facts.machine() };
  const version = facts.version();
  if (version !== "") out.version = version;
  return out;
}

/** Model and count only: topology, flags and so virtualization support are not in the os module. */
export function cpuIdentityFromOs(facts: OsFacts): HostIdentity["cpu"] {
  const cpus = facts.cpus();
  const first = cpus[0];
  const out: HostIdentity["cpu"] = { model: first?.model.trim() || "unknown", totalThreads: cpus.length, onlineCpus: cpus.length };
  if (first !== undefined && first.speed > 0) out.mhz = first.speed;
  return out;
}
