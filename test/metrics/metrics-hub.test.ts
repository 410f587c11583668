// The shared sampler: one host read per tick whatever the number of subscribers.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { VmMetrics } from "../../src/hypervisor/types.ts";
import { createMetricsHub, DEFAULT_INTERVAL_MS, MAX_INTERVAL_MS, MIN_INTERVAL_MS, resolveIntervalMs, type MetricsTick } from "../../src/metrics/metrics-hub.ts";
import { createTelemetry } from "../../src/telemetry/telemetry.ts";
import { fakeOs } from "../telemetry/fake-os.ts";
import { createMemoryIo } from "../telemetry/memory-io.ts";

const vm: VmMetrics = {
  vmId: "0b7c1f9e-0000-4000-8000-000000000001",
  name: "web-1",
  state: "running",
  cpuUsagePercent: 12.5,
  cpuTimeNs: 5e9,
  vcpus: 2,
  memoryUsedBytes: 1 << 30,
  memoryTotalBytes: 2 << 30,
  diskReadBytes: 1,
  diskWriteBytes: 2,
  diskReadOps: 3,
  diskWriteOps: 4,
  networkRxBytes: 5,
  networkTxBytes: 6,
  networkRxPackets: 7,
  networkTxPackets: 8,
};

function setup(vmMetrics: () => Promise<VmMetrics[]> = async () => [vm], clock?: ManualClock) {
  const io = createMemoryIo({
    "/p/stat": "cpu  1 0 1 8 0 0 0 0 0 0\ncpu0 1 0 1 8 0 0 0 0 0 0\n",
    "/p/meminfo": "MemTotal: 1000 kB\n",
    "/p/loadavg": "0.00 0.00 0.00 1/1 1\n",
    "/p/uptime": "10.00 5.00\n",
    "/p/diskstats": "",
    "/p/net/dev": "",
  });
  const telemetry = createTelemetry({ procRoot: "/p", sysRoot: "/s", etcRoot: "/e", filesystemPaths: [] }, { io, os: fakeOs() });
  const hub = createMetricsHub({ telemetry, hypervisor: { vmMetrics }, ...(clock ? { now: clock.now, timers: clock.timers } : {}) });
  return { io, hub };
}

/** Interval timers driven by hand: advanceTo fires every due timer in time order. */
interface ManualClock {
  now(): number;
  timers: { setInterval(fn: () => void, ms: number): unknown; clearInterval(h: unknown): void };
  advanceTo(t: number): Promise<void>;
  active(): number;
}

function manualClock(): ManualClock {
  let current = 0;
  let nextId = 0;
  const timers = new Map<number, { fn: () => void; ms: number; due: number }>();
  const settle = () => new Promise((r) => setImmediate(r));
  return {
    now: () => current,
    timers: {
      setInterval(fn, ms) {
        timers.set(++nextId, { fn, ms, due: current + ms });
        return nextId;
      },
      clearInterval(h) {
        timers.delete(h as number);
      },
    },
    async advanceTo(t) {
      await settle();
      for (;;) {
        const due = [...timers.values()].filter((x) => x.due <= t).sort((a, b) => a.due - b.due)[0];
        if (due === undefined) break;
        current = due.due;
        due.due += due.ms;
        due.fn();
        await settle();
      }
      current = t;
    },
    active: () => timers.size,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, limitMs = 5000): Promise<void> {
  const end = performance.now() + limitMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error("condition not met in time");
    await sleep(10);
  }
}

describe("interval bounds", () => {
  test("constants and resolution", () => {
    expect([MIN_INTERVAL_MS, MAX_INTERVAL_MS, DEFAULT_INTERVAL_MS]).toEqual([250, 3_600_000, 5000]);
    expect(resolveIntervalMs(0)).toBe(5000);
    expect(resolveIntervalMs(250)).toBe(250);
    expect(resolveIntervalMs(3_600_000)).toBe(3_600_000);
    for (const bad of [1, 249, 3_600_001, 1.5, -5, Number.NaN]) expect(() => resolveIntervalMs(bad)).toThrow(RangeError);
    expect(() => resolveIntervalMs(100)).toThrow("between 250 and 3600000");
  });
  test("subscribe refuses an interval out of bounds", () => {
    const { hub } = setup();
    expect(() => hub.subscribe(10, () => {})).toThrow(RangeError);
    hub.close();
  });
});

describe("sharing", () => {
  test("50 subscribers at one interval: /proc/stat is read once per tick", async () => {
    const { io, hub } = setup();
    const received = Array.from({ length: 50 }, () => [] as MetricsTick[]);
    const unsubs = received.map((list) => hub.subscribe(250, (tick) => list.push(tick)));
    await until(() => received.every((l) => l.length >= 3));
    unsubs.forEach((u) => u());

    const distinct = new Set(received.flat());
    expect(io.readsOf("/p/stat")).toBe(distinct.size);
    expect(hub.readCount()).toBe(distinct.size);
    // Every subscriber saw the same tick objects, in the same order.
    const firstThree = received[0]?.slice(0, 3);
    for (const l of received) expect(l.slice(0, 3)).toEqual(firstThree as MetricsTick[]);
    expect(firstThree?.[0]?.vms).toEqual([vm]);
    hub.close();
  });

  test("50 subscribers (manual clock): exactly one /proc/stat read per tick", async () => {
    const clock = manualClock();
    const { io, hub } = setup(undefined, clock);
    const counts = new Array<number>(50).fill(0);
    const unsubs = counts.map((_, i) =>
      hub.subscribe(1000, () => {
        counts[i] = (counts[i] ?? 0) + 1;
      }),
    );
    await clock.advanceTo(10_000);
    // The first tick at subscription, then one per second.
    expect(io.readsOf("/p/stat")).toBe(11);
    expect(counts.every((c) => c === 11)).toBe(true);
    unsubs.forEach((u) => u());
    hub.close();
  });

  test("different intervals share samples (real timers): every read is shared", async () => {
    const { io, hub } = setup();
    let deliveries = 0;
    const seen = new Set<MetricsTick>();
    const unsubs = [250, 300, 350, 400, 500, 250, 300].map((ms) =>
      hub.subscribe(ms, (tick) => {
        deliveries++;
        seen.add(tick);
      }),
    );
    await until(() => deliveries >= 20);
    unsubs.forEach((u) => u());
    expect(io.readsOf("/p/stat")).toBe(seen.size);
    expect(hub.readCount()).toBe(seen.size);
    expect(seen.size).toBeLessThan(deliveries);
    hub.close();
  });

  test("different intervals (manual clock): a sample younger than half the smallest interval is reused", async () => {
    const clock = manualClock();
    const { io, hub } = setup(undefined, clock);
    const got = new Map<string, number[]>();
    const sub = (name: string, ms: number) => hub.subscribe(ms, () => got.set(name, [...(got.get(name) ?? []), clock.now()]));
    const unsubs = [sub("a", 250), sub("b", 250), sub("c", 400), sub("d", 400), sub("e", 1000)];
    await clock.advanceTo(1000);
    // Reads at 0 (the first ticks), 250, 400 (150 ms after 250), 750, 1000. The 400-group's tick
    // at 800 reuses 750's sample, the 250-group's at 500 reuses 400's, and the 1000-group's at
    // 1000 shares the 250-group's read at the same instant.
    expect(hub.readCount()).toBe(5);
    expect(io.readsOf("/p/stat")).toBe(5);
    expect(got.get("a")).toEqual([0, 250, 500, 750, 1000]);
    expect(got.get("c")).toEqual([0, 400, 800]);
    expect(got.get("e")).toEqual([0, 1000]);
    unsubs.forEach((u) => u());
    expect(clock.active()).toBe(0);
    hub.close();
  });

  test("the last unsubscribe stops the timer", async () => {
    const clock = manualClock();
    const { hub } = setup(undefined, clock);
    const a = hub.subscribe(250, () => {});
    const b = hub.subscribe(250, () => {});
    const c = hub.subscribe(1000, () => {});
    expect(clock.active()).toBe(2);
    a();
    await clock.advanceTo(500);
    expect(hub.readCount()).toBe(3);
    b();
    b(); // twice is harmless
    expect(clock.active()).toBe(1);
    c();
    expect(clock.active()).toBe(0);
    await clock.advanceTo(5000);
    expect(hub.readCount()).toBe(3);
    hub.close();
  });

  test("sampleNow shares a read in flight", async () => {
    const { hub } = setup();
    const [x, y] = await Promise.all([hub.sampleNow(), hub.sampleNow()]);
    expect(x).toBe(y as MetricsTick);
    expect(hub.readCount()).toBe(1);
    hub.close();
  });

  test("timers are unref'd: a process with a live subscription still exits", async () => {
    const src = join(import.meta.dir, "../../src");
    const script = `
      import { createMetricsHub } from ${JSON.stringify(join(src, "metrics/metrics-hub.ts"))};
      import { createTelemetry } from ${JSON.stringify(join(src, "telemetry/telemetry.ts"))};
      const telemetry = createTelemetry({ procRoot: "/proc", sysRoot: "/sys", etcRoot: "/etc", filesystemPaths: [] });
      const hub = createMetricsHub({ telemetry, hypervisor: { vmMetrics: async () => [] } });
      hub.subscribe(250, () => {});
    `;
    const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "ignore", stderr: "pipe" });
    const code = await Promise.race([proc.exited, sleep(5000).then(() => "still running")]);
    if (code === "still running") proc.kill();
    expect(code).toBe(0);
  });
});

describe("failures", () => {
  test("a hypervisor failure still delivers the host, with the error and no VMs", async () => {
    const { hub } = setup(async () => {
      throw new Error("libvirt gone");
    });
    const tick = await hub.sampleNow();
    expect(tick.vms).toEqual([]);
    expect(String(tick.vmsError)).toContain("libvirt gone");
    expect(tick.host.memory?.totalBytes).toBe(1024000);
    hub.close();
  });

  test("a host file that cannot be read costs its own figures only: the tick still goes out, VMs included", async () => {
    const { io, hub } = setup();
    io.files.delete("/p/meminfo");
    io.files.delete("/p/diskstats");
    const errors: unknown[] = [];
    const ticks: MetricsTick[] = [];
    const unsub = hub.subscribe(
      250,
      (t) => ticks.push(t),
      (e) => errors.push(e),
    );
    await until(() => ticks.length >= 1);
    const first = ticks[0] as MetricsTick;
    expect(first.vms).toEqual([vm]);
    // Memory from the os module, disks absent (not an empty list), the rest from the tree.
    expect(first.host.memory?.totalBytes).toBe(16 * 2 ** 30);
    expect(first.host.disks).toBeUndefined();
    expect(first.host.uptimeSeconds).toBe(10);
    // (This tree never had /proc/sys/kernel.)
    expect(first.host.sources?.filter((s) => s.error !== undefined).map((s) => s.source)).toEqual(["/p/meminfo", "/p/diskstats", "/p/sys/kernel"]);
    io.files.set("/p/meminfo", "MemTotal: 2000 kB\n");
    await until(() => ticks.some((t) => t.host.memory?.totalBytes === 2048000));
    expect(errors).toEqual([]);
    unsub();
    hub.close();
  });

  test("a sampler that fails as a whole still delivers the VMs, and is not cached", async () => {
    let broken = true;
    const telemetry = {
      identity: () => Promise.reject(new Error("unused")),
      close: () => undefined,
      sample: async () => {
        if (broken) throw new Error("sampler bug");
        return { timestamp: new Date(), filesystems: [] };
      },
    };
    const hub = createMetricsHub({ telemetry, hypervisor: { vmMetrics: async () => [vm] } });
    const tick = await hub.sampleNow();
    expect(tick.vms).toEqual([vm]);
    expect(tick.host.sources).toEqual([{ source: "host", error: "sampler bug", effect: "no host figures" }]);
    broken = false;
    expect((await hub.sampleNow()).host.sources).toBeUndefined();
    hub.close();
  });

  test("a listener that throws does not stop the others", async () => {
    const { hub } = setup();
    const errors: unknown[] = [];
    let good = 0;
    const u1 = hub.subscribe(
      250,
      () => {
        throw new Error("bad listener");
      },
      (e) => errors.push(e),
    );
    const u2 = hub.subscribe(250, () => good++);
    await until(() => good >= 2);
    expect(String(errors[0])).toContain("bad listener");
    u1();
    u2();
    hub.close();
  });

  test("closed hub: no more subscriptions", () => {
    const { hub } = setup();
    hub.close();
    expect(() => hub.subscribe(1000, () => {})).toThrow("closed");
  });
});
