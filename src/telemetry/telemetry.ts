// The host sampler: reads every source once per sample (in parallel) and turns counters into
// usage and per-second rates against the previous sample, timed with a monotonic clock.

import type { DiskSample, HostIdentity, HostSample, NetInterfaceSample, Telemetry, TelemetryOptions } from "./types.ts";
import { type HostIo, type HostRoots, isAbsent, nodeHostIo } from "./host-io.ts";
import { readProcStat, type ProcStat } from "./proc-stat.ts";
import { readMeminfo, toMemorySample } from "./meminfo.ts";
import { readHugePages } from "./hugepages.ts";
import { readLoadAvg } from "./loadavg.ts";
import { readUptime } from "./uptime.ts";
import { readDiskSamples } from "./diskstats.ts";
import { readNetDev } from "./net-dev.ts";
import { readFilesystems } from "./filesystems.ts";
import { readIdentity } from "./identity.ts";
import { readKernelIdentity } from "./kernel.ts";
import { counterRate, cpuUsagePercent } from "./rates.ts";

export interface TelemetryDeps {
  /** File access; tests pass a counting or fixture-serving one. */
  io?: HostIo;
  /** Monotonic milliseconds for rates (performance.now by default). */
  monotonicMs?: () => number;
  /** Wall clock for sample timestamps. */
  wallClock?: () => Date;
}

interface Previous {
  atMs: number;
  stat: ProcStat;
  disks: Map<string, DiskSample>;
  network: Map<string, NetInterfaceSample>;
}

export function createTelemetry(opts: TelemetryOptions, deps: TelemetryDeps = {}): Telemetry {
  const io = deps.io ?? nodeHostIo;
  const monotonicMs = deps.monotonicMs ?? (() => performance.now());
  const wallClock = deps.wallClock ?? (() => new Date());
  const roots: HostRoots = { proc: opts.procRoot, sys: opts.sysRoot, etc: opts.etcRoot };
  let prev: Previous | undefined;

  async function sample(): Promise<HostSample> {
    const timestamp = wallClock();
    const [stat, meminfo, huge, load, uptime, disks, network, filesystems, kernel] = await Promise.all([
      readProcStat(io, roots),
      readMeminfo(io, roots),
      readHugePages(io, roots),
      readLoadAvg(io, roots),
      readUptime(io, roots),
      readDiskSamples(io, roots),
      readNetDev(io, roots),
      readFilesystems(io, roots, opts.filesystemPaths),
      // uname labels only decorate the sample: a proc tree without them must not fail it.
      readKernelIdentity(io, roots).catch((err: unknown) => {
        if (isAbsent(err)) return undefined;
        throw err;
      }),
    ]);
    const atMs = monotonicMs();
    const before = prev;
    const dt = before === undefined ? 0 : (atMs - before.atMs) / 1000;

    const perCpuUsagePercent = new Map<string, number>();
    for (const [cpu, times] of stat.perCpu) {
      const pct = cpuUsagePercent(before?.stat.perCpu.get(cpu), times);
      if (pct !== undefined) perCpuUsagePercent.set(cpu, pct);
    }
    for (const d of disks) {
      const p = before?.disks.get(d.device);
      setIfDefined(d, "readBytesPerSecond", counterRate(p?.readBytes, d.readBytes, dt));
      setIfDefined(d, "writeBytesPerSecond", counterRate(p?.writeBytes, d.writeBytes, dt));
      setIfDefined(d, "readsPerSecond", counterRate(p?.readsCompleted, d.readsCompleted, dt));
      setIfDefined(d, "writesPerSecond", counterRate(p?.writesCompleted, d.writesCompleted, dt));
      // iostat's %util: the share of the interval the device had I/O in flight.
      const busyMs = counterRate(p?.ioTimeMs, d.ioTimeMs, dt);
      if (busyMs !== undefined) d.utilizationPercent = Math.min(100, busyMs / 10);
    }
    for (const n of network) {
      const p = before?.network.get(n.name);
      setIfDefined(n, "rxBytesPerSecond", counterRate(p?.rxBytes, n.rxBytes, dt));
      setIfDefined(n, "txBytesPerSecond", counterRate(p?.txBytes, n.txBytes, dt));
    }

    // Concurrent calls: the later reading becomes the base for the next rates.
    if (prev === undefined || atMs >= prev.atMs) {
      prev = {
        atMs,
        stat,
        disks: new Map(disks.map((d) => [d.device, d])),
        network: new Map(network.map((n) => [n.name, n])),
      };
    }

    const usagePercent = cpuUsagePercent(before?.stat.total, stat.total);
    return {
      timestamp,
      cpu: {
        total: stat.total,
        perCpu: stat.perCpu,
        ...(usagePercent === undefined ? {} : { usagePercent }),
        ...(before === undefined ? {} : { perCpuUsagePercent }),
      },
      memory: toMemorySample(meminfo, huge),
      load,
      uptimeSeconds: uptime.uptimeSeconds,
      disks,
      filesystems,
      network,
      kernel: {
        bootTimeSeconds: stat.bootTimeSeconds,
        contextSwitches: stat.contextSwitches,
        interrupts: stat.interrupts,
        forks: stat.forks,
        procsRunning: stat.procsRunning,
        procsBlocked: stat.procsBlocked,
      },
      ...(kernel === undefined
        ? {}
        : {
            uname: {
              nodename: kernel.hostname,
              release: kernel.release,
              machine: kernel.arch,
              ...(kernel.version === undefined ? {} : { version: kernel.version }),
              ...(kernel.domainname === undefined ? {} : { domainname: kernel.domainname }),
            },
          }),
    };
  }

  return {
    sample,
    identity: (): Promise<HostIdentity> => readIdentity(io, roots),
  };
}

function setIfDefined<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) obj[key] = value;
}
