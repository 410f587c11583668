// Usage and rates between samples: deltas over a monotonic clock, resets never negative.

import { describe, expect, test } from "bun:test";
import { type } from "node:os";
import fc from "fast-check";
import { counterRate, cpuUsagePercent } from "../../src/telemetry/rates.ts";
import { createTelemetry, REREAD_AFTER_MS } from "../../src/telemetry/telemetry.ts";
import { complete } from "./complete-sample.ts";
import type { CpuTimes } from "../../src/telemetry/types.ts";
import { createMemoryIo } from "./memory-io.ts";

const times = (over: Partial<CpuTimes>): CpuTimes => ({
  user: 0,
  nice: 0,
  system: 0,
  idle: 0,
  iowait: 0,
  irq: 0,
  softirq: 0,
  steal: 0,
  guest: 0,
  guestNice: 0,
  ...over,
});

describe("counterRate", () => {
  test.each([
    ["growth", 100, 300, 2, 100],
    ["no change", 5, 5, 1, 0],
    ["first sample", undefined, 300, 2, undefined],
    ["reset (went backwards)", 1_000_000, 10, 1, undefined],
    ["no time passed", 1, 2, 0, undefined],
  ])("%s", (_n, prev, cur, dt, expected) => {
    expect(counterRate(prev, cur, dt)).toBe(expected);
  });
  test("never negative", () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.double({ min: -10, max: 10, noNaN: true }), (a, b, dt) => {
        const r = counterRate(a, b, dt);
        return r === undefined || r >= 0;
      }),
    );
  });
});

describe("cpuUsagePercent", () => {
  test("busy share of the interval; guest is inside user and not counted twice", () => {
    const prev = times({ user: 10, system: 5, idle: 80, iowait: 5, guest: 3 });
    const cur = times({ user: 16, system: 7, idle: 90, iowait: 7, guest: 6 });
    // busy 6 + 2 = 8 of 20
    expect(cpuUsagePercent(prev, cur)).toBeCloseTo(40, 10);
  });
  test("first sample, no time, or a counter that went backwards: undefined", () => {
    expect(cpuUsagePercent(undefined, times({ idle: 1 }))).toBeUndefined();
    expect(cpuUsagePercent(times({ idle: 1 }), times({ idle: 1 }))).toBeUndefined();
    expect(cpuUsagePercent(times({ idle: 10, user: 5 }), times({ idle: 12, user: 1 }))).toBeUndefined();
  });
  test("always within 0..100", () => {
    const arb = fc.record({
      user: fc.nat(1e6),
      nice: fc.nat(1e6),
      system: fc.nat(1e6),
      idle: fc.nat(1e6),
      iowait: fc.nat(1e6),
      irq: fc.nat(1e6),
      softirq: fc.nat(1e6),
      steal: fc.nat(1e6),
    });
    fc.assert(
      fc.property(arb, arb, (a, d) => {
        const prev = times(a);
        const cur = times(Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v + d[k as keyof typeof d]])));
        const pct = cpuUsagePercent(prev, cur);
        return pct === undefined || (pct >= 0 && pct <= 100);
      }),
    );
  });
});

describe("createTelemetry rates over two samples", () => {
  const header =
    "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n";
  const nic = (name: string, rx: number, tx: number) => `${name}: ${rx} 1 0 0 0 0 0 0 ${tx} 1 0 0 0 0 0 0\n`;
  const disk = (name: string, readSectors: number, writeSectors: number) => ` 8 0 ${name} 1 0 ${readSectors} 0 1 0 ${writeSectors} 0 0 0 0\n`;

  function host() {
    const io = createMemoryIo({
      "/p/stat": "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n",
      "/p/meminfo": "MemTotal: 1000 kB\n",
      "/p/loadavg": "0.00 0.00 0.00 1/1 1\n",
      "/p/uptime": "10.00 5.00\n",
      "/p/diskstats": disk("sda", 0, 0),
      "/p/net/dev": header + nic("eth0", 1000, 5000) + nic("wg-tunnel-long0", 10, 10),
      "/s/block/sda/dev": "8:0\n",
    });
    let clock = 0;
    const t = createTelemetry({ procRoot: "/p", sysRoot: "/s", etcRoot: "/e", filesystemPaths: [] }, { io, monotonicMs: () => clock });
    return { io, t, advance: (ms: number) => (clock += ms) };
  }

  test("per-second rates from the monotonic clock; a reset counter has no rate", async () => {
    const { io, t, advance } = host();
    const first = complete(await t.sample());
    expect(first.network[0]?.rxBytesPerSecond).toBeUndefined();
    expect(first.cpu.usagePercent).toBeUndefined();
    // This tree has no /proc/sys/kernel: the sample goes on, uname from the os module, and says so.
    expect(first.uname?.sysname).toBe(type());
    expect(first.sources).toContainEqual({ source: "/p/sys/kernel", error: "no such file", effect: "uname from the os module" });

    advance(2000);
    io.files.set("/p/stat", "cpu  150 0 110 840 0 0 0 0 0 0\ncpu0 150 0 110 840 0 0 0 0 0 0\n");
    io.files.set("/p/diskstats", disk("sda", 8, 16));
    // eth0 grows; the tunnel was re-created and its counters restarted.
    io.files.set("/p/net/dev", header + nic("eth0", 3000, 5400) + nic("wg-tunnel-long0", 2, 3));
    const second = complete(await t.sample());
    expect(second.network[0]).toMatchObject({ rxBytesPerSecond: 1000, txBytesPerSecond: 200 });
    expect(second.network[1]?.rxBytesPerSecond).toBeUndefined();
    expect(second.network[1]?.txBytesPerSecond).toBeUndefined();
    expect(second.disks[0]).toMatchObject({ readBytesPerSecond: (8 * 512) / 2, writeBytesPerSecond: (16 * 512) / 2 });
    // 0.5 + 0.1 s busy of 1.0 s
    expect(second.cpu.usagePercent).toBeCloseTo(60, 10);
    expect(second.cpu.perCpuUsagePercent?.get("0")).toBeCloseTo(60, 10);

    // After the reset, the next interval has a rate again, from the new base.
    advance(1000);
    io.files.set("/p/net/dev", header + nic("eth0", 3000, 5400) + nic("wg-tunnel-long0", 502, 3));
    const third = complete(await t.sample());
    expect(third.network[1]?.rxBytesPerSecond).toBe(500);
    expect(third.network[0]?.rxBytesPerSecond).toBe(0);
  });

  test("an interface that appears has no rate on its first sample; a CPU that goes offline drops out", async () => {
    const { io, t, advance } = host();
    await t.sample();
    advance(1000);
    io.files.set("/p/net/dev", header + nic("eth0", 1000, 5000) + nic("vnet7", 50, 50));
    io.files.set("/p/stat", "cpu  100 0 100 900 0 0 0 0 0 0\ncpu1 1 0 1 1 0 0 0 0 0 0\n");
    const s = complete(await t.sample());
    expect(s.network.find((n) => n.name === "vnet7")?.rxBytesPerSecond).toBeUndefined();
    expect(s.cpu.perCpuUsagePercent?.has("0")).toBe(false);
    expect(s.cpu.perCpuUsagePercent?.has("1")).toBe(false);
  });

  test("one read of each /proc file per sample, but the slow ones (load, uptime, names) only after a while", async () => {
    const { io, t, advance } = host();
    const readsOf = (files: string[]) => files.map((f) => io.readsOf(f));
    const everySample = ["/p/stat", "/p/meminfo", "/p/diskstats", "/p/net/dev"];
    const slow = ["/p/loadavg", "/p/uptime"];
    await t.sample();
    advance(1000);
    const second = await t.sample();
    expect(readsOf(everySample)).toEqual([2, 2, 2, 2]);
    expect(readsOf(slow)).toEqual([1, 1]);
    // Uptime runs on with the monotonic clock meanwhile (the tree says 10 s).
    expect(second.uptimeSeconds).toBe(11);
    advance(REREAD_AFTER_MS.loadavg);
    await t.sample();
    expect(readsOf(slow)).toEqual([2, 1]);
    advance(REREAD_AFTER_MS.uptime);
    io.files.set("/p/uptime", "100.00 50.00\n");
    expect((await t.sample()).uptimeSeconds).toBe(100);
    expect(readsOf(slow)).toEqual([3, 2]);
  });

  test("a slow source that failed is read again at the next sample", async () => {
    const { io, t, advance } = host();
    io.files.set("/p/loadavg", "garbage\n");
    expect((await t.sample()).sources?.find((x) => x.source === "/p/loadavg")?.error).toStartWith("line 1: ");
    io.files.set("/p/loadavg", "0.50 0.40 0.30 2/300 4000\n");
    advance(1000);
    expect((await t.sample()).load?.load1).toBe(0.5);
  });

  test("a parse error names the file under the configured root and costs only its figures", async () => {
    const { io, t } = host();
    io.files.set("/p/loadavg", "garbage\n");
    const s = complete(await t.sample());
    expect(s.sources?.find((x) => x.source === "/p/loadavg")?.error).toStartWith("line 1: ");
    // Everything else was read from the tree.
    expect(s.memory.totalBytes).toBe(1024000);
    expect(s.uptimeSeconds).toBe(10);
    expect(s.disks.map((d) => d.device)).toEqual(["sda"]);
  });
});
