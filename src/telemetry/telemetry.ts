// The host sampler: reads every source once per sample (in parallel) and turns counters into
// usage and per-second rates against the previous sample, timed with a monotonic clock. A
// source that cannot be read costs only its own figures: the os module stands in where it can
// (os-facts.ts), the rest stays undefined, and the sample says which source failed (logged
// once, see sources.ts). A sample never fails as a whole.

import type { Logger } from "../common/logger.ts";
import type { CpuSample, DiskSample, HostIdentity, HostSample, NetInterfaceSample, SourceStatus, Telemetry, TelemetryOptions } from "./types.ts";
import { type HostIo, type HostRoots, keptOpenHostIo, nodeHostIo, procPath, sysPath } from "./host-io.ts";
import { readProcStat, type ProcStat } from "./proc-stat.ts";
import { readMeminfo, toMemorySample } from "./meminfo.ts";
import { hugePagesReader } from "./hugepages.ts";
import { readLoadAvg } from "./loadavg.ts";
import { readUptime } from "./uptime.ts";
import { diskSamplesReader } from "./diskstats.ts";
import { readNetDev } from "./net-dev.ts";
import { filesystemsReader } from "./filesystems.ts";
import { readIdentity } from "./identity.ts";
import { kernelIdentityReader } from "./kernel.ts";
import { cpuTimesFromOs, kernelFromOs, loadFromOs, memoryFromOs, nodeOsFacts, type OsFacts } from "./os-facts.ts";
import { counterRate, cpuUsagePercent } from "./rates.ts";
import { attempt, createSourceLog } from "./sources.ts";

export interface TelemetryDeps {
  /** File access; tests pass a counting or fixture-serving one. */
  io?: HostIo;
  /** What the os module knows, for figures whose /proc file cannot be read; tests pass a fixed one. */
  os?: OsFacts;
  /** Where a source that stops (or starts again) being readable is reported, once each time. */
  log?: Logger;
  /** Monotonic milliseconds for rates (performance.now by default). */
  monotonicMs?: () => number;
  /** Wall clock for sample timestamps. */
  wallClock?: () => Date;
}

/**
 * Figures the kernel changes slowly are read again only after a while, not every sample: the
 * load averages are recomputed every 5 s (LOAD_FREQ); the host and NIS domain names change when
 * an operator changes them; uptime advances with the monotonic clock between reads (read again
 * every minute, in case the host slept). At one sample a second each read costs ~0.1 ms of CPU
 * (bench/README.md, "Where the rest of a tick goes"). A failed read is not kept.
 */
export const REREAD_AFTER_MS = { loadavg: 5000, names: 10_000, uptime: 60_000 } as const;

interface Kept<T> {
  value: T;
  /** Monotonic ms when the read started. */
  readAtMs: number;
}

function rereadAfter<T>(ms: number, now: () => number, read: () => Promise<T>): () => Promise<Kept<T>> {
  let last: { atMs: number; promise: Promise<Kept<T>> } | undefined;
  return () => {
    const t = now();
    if (last !== undefined && t - last.atMs < ms) return last.promise;
    const entry = { atMs: t, promise: read().then((value) => ({ value, readAtMs: t })) };
    entry.promise.catch(() => {
      if (last === entry) last = undefined;
    });
    last = entry;
    return entry.promise;
  };
}

interface Previous {
  atMs: number;
  cpu: Pick<ProcStat, "total" | "perCpu">;
  cpuFrom: "proc" | "os";
  disks: Map<string, DiskSample>;
  network: Map<string, NetInterfaceSample>;
}

export function createTelemetry(opts: TelemetryOptions, deps: TelemetryDeps = {}): Telemetry {
  const io = deps.io ?? nodeHostIo;
  // The files every sample reads stay open between samples (keptOpenHostIo); identity's reads
  // (os-release, PCI, NUMA: once per GetNodeInfo) open and close as usual.
  const kept = deps.io === undefined ? keptOpenHostIo([opts.procRoot, opts.sysRoot]) : undefined;
  const sampleIo = kept ?? io;
  const osFacts = deps.os ?? nodeOsFacts;
  const monotonicMs = deps.monotonicMs ?? (() => performance.now());
  const wallClock = deps.wallClock ?? (() => new Date());
  const roots: HostRoots = { proc: opts.procRoot, sys: opts.sysRoot, etc: opts.etcRoot };
  const sourceLog = createSourceLog(deps.log);
  let prev: Previous | undefined;
  const readKernelIdentity = rereadAfter(REREAD_AFTER_MS.names, monotonicMs, kernelIdentityReader(sampleIo, roots));
  const readLoad = rereadAfter(REREAD_AFTER_MS.loadavg, monotonicMs, () => readLoadAvg(sampleIo, roots));
  const readUptimeKept = rereadAfter(REREAD_AFTER_MS.uptime, monotonicMs, () => readUptime(sampleIo, roots));
  const readHugePages = hugePagesReader(sampleIo, roots);
  const readFilesystems = filesystemsReader(sampleIo, roots, opts.filesystemPaths);
  const readDisks = diskSamplesReader(sampleIo, roots);

  async function sample(): Promise<HostSample> {
    const timestamp = wallClock();
    const sources: SourceStatus[] = [];
    const read = <T>(file: string, effect: string, fn: () => Promise<T>) => attempt(sources, procPath(roots, file), effect, fn);
    const [stat, meminfo, huge, load, uptime, disks, network, filesystems, kernel] = await Promise.all([
      read("stat", "CPU times from the os module, kernel counters absent", () => readProcStat(sampleIo, roots)),
      read("meminfo", "memory from the os module, swap absent", () => readMeminfo(sampleIo, roots)),
      // Huge pages are optional (readHugePages is undefined without the sysfs folder).
      attempt(sources, sysPath(roots, "kernel/mm/hugepages"), "huge page counts absent", readHugePages),
      read("loadavg", "load from the os module", async () => (await readLoad()).value),
      read("uptime", "uptime from the os module", async () => {
        const kept = await readUptimeKept();
        // In /proc/uptime's own resolution (1/100 s).
        return Math.round((kept.value.uptimeSeconds + (monotonicMs() - kept.readAtMs) / 1000) * 100) / 100;
      }),
      read("diskstats", "disk figures absent", readDisks),
      read("net/dev", "network figures absent", () => readNetDev(sampleIo, roots)),
      attempt(sources, "statfs", "filesystem figures absent", readFilesystems),
      read("sys/kernel", "uname from the os module", async () => (await readKernelIdentity()).value),
    ]);
    sourceLog.report(sources);
    const atMs = monotonicMs();
    const before = prev;
    const dt = before === undefined ? 0 : (atMs - before.atMs) / 1000;

    const cpuFrom = stat === undefined ? "os" : "proc";
    const cpuTimes = stat ?? cpuTimesFromOs(osFacts.cpus());
    // Rates only between two readings from the same source (/proc/stat and the os module count differently).
    const cpuBefore = before?.cpuFrom === cpuFrom ? before.cpu : undefined;
    const perCpuUsagePercent = new Map<string, number>();
    for (const [cpu, times] of cpuTimes.perCpu) {
      const pct = cpuUsagePercent(cpuBefore?.perCpu.get(cpu), times);
      if (pct !== undefined) perCpuUsagePercent.set(cpu, pct);
    }
    for (const d of disks ?? []) {
      const p = before?.disks.get(d.device);
      setIfDefined(d, "readBytesPerSecond", counterRate(p?.readBytes, d.readBytes, dt));
      setIfDefined(d, "writeBytesPerSecond", counterRate(p?.writeBytes, d.writeBytes, dt));
      setIfDefined(d, "readsPerSecond", counterRate(p?.readsCompleted, d.readsCompleted, dt));
      setIfDefined(d, "writesPerSecond", counterRate(p?.writesCompleted, d.writesCompleted, dt));
      // iostat's %util: the share of the interval the device had I/O in flight.
      const busyMs = counterRate(p?.ioTimeMs, d.ioTimeMs, dt);
      if (busyMs !== undefined) d.utilizationPercent = Math.min(100, busyMs / 10);
    }
    for (const n of network ?? []) {
      const p = before?.network.get(n.name);
      setIfDefined(n, "rxBytesPerSecond", counterRate(p?.rxBytes, n.rxBytes, dt));
      setIfDefined(n, "txBytesPerSecond", counterRate(p?.txBytes, n.txBytes, dt));
    }

    // Concurrent calls: the later reading becomes the base for the next rates.
    if (prev === undefined || atMs >= prev.atMs) {
      prev = {
        atMs,
        cpu: { total: cpuTimes.total, perCpu: cpuTimes.perCpu },
        cpuFrom,
        disks: new Map((disks ?? []).map((d) => [d.device, d])),
        network: new Map((network ?? []).map((n) => [n.name, n])),
      };
    }

    const usagePercent = cpuUsagePercent(cpuBefore?.total, cpuTimes.total);
    const cpu: CpuSample = {
      total: cpuTimes.total,
      perCpu: cpuTimes.perCpu,
      ...(usagePercent === undefined ? {} : { usagePercent }),
      ...(cpuBefore === undefined ? {} : { perCpuUsagePercent }),
    };
    const uname = kernel ?? kernelFromOs(osFacts);
    const loadSample = load ?? loadFromOs(osFacts);
    const out: HostSample = {
      timestamp,
      cpu,
      memory: toMemorySample(meminfo ?? memoryFromOs(osFacts), huge),
      uptimeSeconds: uptime ?? osFacts.uptime(),
      filesystems: filesystems ?? [],
      uname: {
        sysname: kernel === undefined ? osFacts.type() : "Linux",
        nodename: uname.hostname,
        release: uname.release,
        machine: uname.arch,
        ...(uname.version === undefined ? {} : { version: uname.version }),
        ...(uname.domainname === undefined ? {} : { domainname: uname.domainname }),
      },
      sources,
    };
    if (loadSample !== undefined) out.load = loadSample;
    if (disks !== undefined) out.disks = disks;
    if (network !== undefined) out.network = network;
    if (stat !== undefined) {
      out.kernel = {
        bootTimeSeconds: stat.bootTimeSeconds,
        contextSwitches: stat.contextSwitches,
        interrupts: stat.interrupts,
        forks: stat.forks,
        procsRunning: stat.procsRunning,
        procsBlocked: stat.procsBlocked,
      };
    }
    return out;
  }

  return {
    sample,
    close: () => kept?.close(),
    identity: (): Promise<HostIdentity> =>
      readIdentity(io, roots, osFacts).then((identity) => {
        sourceLog.report(identity.sources ?? []);
        return identity;
      }),
  };
}

function setIfDefined<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) obj[key] = value;
}
