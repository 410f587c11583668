// The os module as the floor under /proc and /sys: what it supplies when a tree is missing, what
// stays absent, and the failures logged once. Over an empty tree and a fixed os (fake-os.ts).

import { describe, expect, test } from "bun:test";
import { cpuTimesFromOs, loadFromOs, memoryFromOs } from "../../src/telemetry/os-facts.ts";
import { createSourceLog, failureReason } from "../../src/telemetry/sources.ts";
import { createTelemetry } from "../../src/telemetry/telemetry.ts";
import { TelemetryParseError } from "../../src/telemetry/parse-error.ts";
import { fakeOs } from "./fake-os.ts";
import { createMemoryIo } from "./memory-io.ts";

describe("os facts", () => {
  test("CPU times: milliseconds to seconds, per CPU and summed; the modes only Linux splits are absent", () => {
    const { total, perCpu } = cpuTimesFromOs(fakeOs().cpus());
    expect(perCpu.get("1")).toEqual({ user: 2, nice: 0, system: 1, idle: 7, irq: 0 });
    expect(total).toEqual({ user: 3, nice: 0, system: 1.5, idle: 15.5, irq: 0 });
    expect(total.iowait).toBeUndefined();
  });
  test("free memory is MemAvailable on Linux, only the free pages elsewhere", () => {
    expect(Object.fromEntries(memoryFromOs(fakeOs({ platform: "linux" })).values)).toEqual({ MemTotal: 16 * 2 ** 30, MemAvailable: 2 * 2 ** 30 });
    expect(Object.fromEntries(memoryFromOs(fakeOs()).values)).toEqual({ MemTotal: 16 * 2 ** 30, MemFree: 2 * 2 ** 30 });
  });
  test("Windows has no load average: absent, not zeros", () => {
    expect(loadFromOs(fakeOs())).toEqual({ load1: 1.5, load5: 1.25, load15: 1 });
    expect(loadFromOs(fakeOs({ platform: "win32", loadavg: () => [0, 0, 0] }))).toBeUndefined();
  });
});

describe("an empty tree (a Mac)", () => {
  const empty = () => createTelemetry({ procRoot: "/p", sysRoot: "/s", etcRoot: "/e", filesystemPaths: [] }, { io: createMemoryIo({}), os: fakeOs() });

  test("identity: hostname, kernel, CPU model and count, memory from the os module; the rest absent", async () => {
    const id = await empty().identity();
    expect(id).toMatchObject({
      hostname: "laptop.local",
      os: { name: "Darwin", kernel: "23.4.0", arch: "arm64" },
      cpu: { model: "Apple M2", totalThreads: 2, onlineCpus: 2, mhz: 3500 },
      memory: { totalBytes: 16 * 2 ** 30 },
    });
    for (const absent of [
      id.os.version,
      id.cpu.sockets,
      id.cpu.flags,
      id.cpu.virtualization,
      id.memory.availableBytes,
      id.memory.hugepages2mTotal,
      id.numaNodes,
      id.pciDevices,
    ]) {
      expect(absent).toBeUndefined();
    }
    expect(id.sources?.find((s) => s.source === "/p/cpuinfo")).toEqual({
      source: "/p/cpuinfo",
      error: "no such file",
      effect: "CPU model and count from the os module, topology and flags absent",
    });
  });

  test("sample: CPU, memory, load, uptime and uname from the os module; disks, network, swap and kernel counters absent", async () => {
    const s = await empty().sample();
    expect(s.memory).toMatchObject({ totalBytes: 16 * 2 ** 30, freeBytes: 2 * 2 ** 30 });
    expect(s.memory?.availableBytes).toBeUndefined();
    expect(s.memory?.swapTotalBytes).toBeUndefined();
    expect(s.load).toEqual({ load1: 1.5, load5: 1.25, load15: 1 });
    expect(s.uptimeSeconds).toBe(3600);
    expect(s.cpu?.perCpu.size).toBe(2);
    expect(s.uname).toMatchObject({ sysname: "Darwin", nodename: "laptop.local", release: "23.4.0", machine: "arm64" });
    expect(s.disks).toBeUndefined();
    expect(s.network).toBeUndefined();
    expect(s.kernel).toBeUndefined();
    expect(s.sources?.filter((x) => x.error !== undefined).map((x) => x.source)).toEqual([
      "/p/stat",
      "/p/meminfo",
      "/p/loadavg",
      "/p/uptime",
      "/p/diskstats",
      "/p/net/dev",
      "/p/sys/kernel",
    ]);
  });

  test("CPU usage from the os module's times over two samples", async () => {
    let round = 0;
    const os = fakeOs({
      cpus: () => [{ model: "m", speed: 0, times: { user: 1000 + 600 * round, nice: 0, sys: 0, idle: 1000 + 400 * round, irq: 0 } }],
    });
    const t = createTelemetry({ procRoot: "/p", sysRoot: "/s", etcRoot: "/e", filesystemPaths: [] }, { io: createMemoryIo({}), os });
    expect((await t.sample()).cpu?.usagePercent).toBeUndefined();
    round = 1;
    expect((await t.sample()).cpu?.usagePercent).toBeCloseTo(60, 10);
  });
});

describe("source log", () => {
  test("a failure is logged once while it lasts, again if its reason changes, and its recovery once", () => {
    const lines: string[] = [];
    const log = createSourceLog({
      debug: () => {},
      info: (m: string) => lines.push(`info ${m}`),
      warn: (m: string) => lines.push(`warn ${m}`),
      error: () => {},
    });
    const ok = { source: "/proc/stat" };
    const gone = { source: "/proc/meminfo", error: "no such file", effect: "memory from the os module" };
    log.report([ok, gone]);
    log.report([ok, gone]);
    log.report([ok, { ...gone, error: "permission denied" }]);
    log.report([ok, { source: "/proc/meminfo" }]);
    log.report([ok, { source: "/proc/meminfo" }]);
    expect(lines).toEqual([
      "warn host figures degraded: /proc/meminfo (no such file): memory from the os module",
      "warn host figures degraded: /proc/meminfo (permission denied): memory from the os module",
      "info host figures restored: /proc/meminfo readable again",
    ]);
  });
  test("reasons: errno in words, a parse error by its line (the source names the file)", () => {
    expect(failureReason(Object.assign(new Error("ENOENT: no such file or directory"), { code: "ENOENT" }))).toBe("no such file");
    expect(failureReason(new TelemetryParseError("/proc/loadavg", 1, "empty file"))).toBe("line 1: empty file");
    expect(failureReason(new Error("boom"))).toBe("boom");
  });
});
