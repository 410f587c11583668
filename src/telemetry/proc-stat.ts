// /proc/stat: CPU time per mode (total and per online CPU) and the kernel's activity counters.

import type { CpuTimes } from "./types.ts";
import { type HostIo, type HostRoots, procPath } from "./host-io.ts";
import { fields, lines, readWellFormedLines, TelemetryParseError, uintField } from "./parse-error.ts";

/** USER_HZ: /proc/stat counts in 1/100 s on every architecture Linux exports it for (x86, arm64). */
export const USER_HZ = 100;

const MODES = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guestNice"] as const;

export interface ProcStat {
  total: CpuTimes;
  perCpu: Map<string, CpuTimes>;
  bootTimeSeconds?: number;
  contextSwitches?: number;
  interrupts?: number;
  forks?: number;
  procsRunning?: number;
  procsBlocked?: number;
}

/** A well-formed CPU line: "cpu" or "cpuN", then 4 to 10 counts. */
const CPU_LINE = /cpu(\d*) +(\d+) (\d+) (\d+) (\d+)(?: (\d+))?(?: (\d+))?(?: (\d+))?(?: (\d+))?(?: (\d+))?(?: (\d+))?[ \t]*\n/y;
/** A counter line: its first number is the figure (intr's per-IRQ counts after it are not read). */
const COUNTER_LINE = /(intr|ctxt|btime|processes|procs_running|procs_blocked) (\d+)(?: [^\n]*)?\n/y;
/** A line of a kind the figures do not use (softirq, page, swap...). */
const OTHER_LINE = /(?!cpu|intr|ctxt|btime|processes|procs_)[a-z_]+(?: [^\n]*)?\n/y;
const COUNTERS = {
  intr: "interrupts",
  ctxt: "contextSwitches",
  btime: "bootTimeSeconds",
  processes: "forks",
  procs_running: "procsRunning",
  procs_blocked: "procsBlocked",
} as const;

/**
 * /proc/stat, in one pass when well formed (readWellFormedLines; a host's intr line holds
 * thousands of counts, of which only the first is read), else line by line.
 */
export function parseProcStat(text: string, file = "/proc/stat"): ProcStat {
  let total: CpuTimes | undefined;
  const perCpu = new Map<string, CpuTimes>();
  const out: Omit<ProcStat, "total" | "perCpu"> = {};
  const wellFormed = readWellFormedLines(text, [CPU_LINE, COUNTER_LINE, OTHER_LINE], (m, which) => {
    if (which === 0) {
      const times = {} as CpuTimes;
      MODES.forEach((mode, i) => {
        const v = m[i + 2];
        times[mode] = v === undefined ? 0 : Number(v) / USER_HZ;
      });
      if (m[1] === "") total = times;
      else perCpu.set(m[1] as string, times);
    } else if (which === 1) {
      out[COUNTERS[m[1] as keyof typeof COUNTERS]] = Number(m[2]);
    }
  });
  if (!wellFormed) return parseProcStatLines(text, file);
  if (total === undefined) return parseProcStatLines(text, file);
  return { total, perCpu, ...out };
}

/** parseProcStat line by line: the reference for what is accepted, and the errors. */
export function parseProcStatLines(text: string, file = "/proc/stat"): ProcStat {
  let total: CpuTimes | undefined;
  const perCpu = new Map<string, CpuTimes>();
  const out: Omit<ProcStat, "total" | "perCpu"> = {};
  lines(text).forEach((line, i) => {
    const n = i + 1;
    const [key, ...values] = fields(line);
    if (key === undefined) return;
    if (key === "cpu") total = cpuTimes(values, file, n);
    else if (/^cpu\d+$/.test(key)) perCpu.set(key.slice(3), cpuTimes(values, file, n));
    else if (key === "btime") out.bootTimeSeconds = uintField(values[0], file, n, "btime");
    else if (key === "ctxt") out.contextSwitches = uintField(values[0], file, n, "ctxt");
    else if (key === "intr") out.interrupts = uintField(values[0], file, n, "intr");
    else if (key === "processes") out.forks = uintField(values[0], file, n, "processes");
    else if (key === "procs_running") out.procsRunning = uintField(values[0], file, n, "procs_running");
    else if (key === "procs_blocked") out.procsBlocked = uintField(values[0], file, n, "procs_blocked");
    // Unknown keys (softirq, future additions) are ignored.
  });
  if (total === undefined) throw new TelemetryParseError(file, undefined, 'no aggregate "cpu" line');
  return { total, perCpu, ...out };
}

function cpuTimes(values: string[], file: string, line: number): CpuTimes {
  // Kernels before 2.6.33 omit guest_nice, before 2.6.24 guest, before 2.6.11 steal: a mode the
  // kernel does not count has had no time, so trailing columns default to 0. Fewer than the
  // four original columns is not /proc/stat.
  if (values.length < 4) throw new TelemetryParseError(file, line, `cpu line has ${values.length} fields, expected at least 4`);
  const t = {} as CpuTimes;
  MODES.forEach((mode, i) => {
    t[mode] = values[i] === undefined ? 0 : uintField(values[i], file, line, mode) / USER_HZ;
  });
  return t;
}

export async function readProcStat(io: HostIo, roots: HostRoots): Promise<ProcStat> {
  const file = procPath(roots, "stat");
  return parseProcStat(await io.readText(file), file);
}
