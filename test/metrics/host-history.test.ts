// The dashboard's history ring: points from host samples (absent figures are null), a ring
// that keeps the newest N, and the hub subscription that feeds it.

import { expect, test } from "bun:test";
import { createHostHistory, createRing, HISTORY_INTERVAL_MS, historyPoint } from "../../src/metrics/host-history.ts";
import type { MetricsTick } from "../../src/metrics/metrics-hub.ts";
import type { HostSample } from "../../src/telemetry/types.ts";

const host = (t: number, extra: Partial<HostSample> = {}): HostSample => ({
  timestamp: new Date(t),
  cpu: { total: {} as never, perCpu: new Map(), usagePercent: 25 },
  memory: { totalBytes: 1000, availableBytes: 300, freeBytes: 100, raw: new Map() },
  load: { load1: 1.5, load5: 1, load15: 0.5 },
  filesystems: [
    { path: "/", totalBytes: 50, usedBytes: 10, availableBytes: 40 },
    { path: "/var/lib/limiquantix/vms", totalBytes: 500, usedBytes: 200, availableBytes: 300 },
  ],
  ...extra,
});

test("a point: used memory is total minus available (free without it); the disk is the storage path's", () => {
  expect(historyPoint(host(5), "/var/lib/limiquantix/vms")).toEqual({
    t: 5,
    cpuPercent: 25,
    memoryUsedBytes: 700,
    memoryTotalBytes: 1000,
    load1: 1.5,
    diskUsedBytes: 200,
    diskTotalBytes: 500,
  });
  expect(historyPoint(host(5, { memory: { totalBytes: 1000, freeBytes: 100, raw: new Map() } })).memoryUsedBytes).toBe(900);
  expect(historyPoint(host(5)).diskTotalBytes).toBe(50); // no storage path: the first filesystem
});

test("absent figures are null, never 0", () => {
  expect(historyPoint({ timestamp: new Date(7), filesystems: [] })).toEqual({
    t: 7,
    cpuPercent: null,
    memoryUsedBytes: null,
    memoryTotalBytes: null,
    load1: null,
    diskUsedBytes: null,
    diskTotalBytes: null,
  });
});

test("the ring keeps the newest N, oldest first", () => {
  const ring = createRing<number>(3);
  expect(ring.toArray()).toEqual([]);
  ring.push(1);
  ring.push(2);
  expect(ring.toArray()).toEqual([1, 2]);
  for (const n of [3, 4, 5]) ring.push(n);
  expect(ring.toArray()).toEqual([3, 4, 5]);
  expect(ring.size).toBe(3);
});

test("fed by one hub subscription at 10 s; a sample delivered twice is one point; close unsubscribes", () => {
  let listener: ((tick: MetricsTick) => void) | undefined;
  let interval = 0;
  let unsubscribed = false;
  const hub = {
    subscribe(ms: number, l: (tick: MetricsTick) => void) {
      interval = ms;
      listener = l;
      return () => {
        unsubscribed = true;
      };
    },
  };
  const history = createHostHistory(hub, { points: 4 });
  expect(interval).toBe(HISTORY_INTERVAL_MS);
  for (const t of [10, 20, 20, 30, 40, 50]) listener?.({ host: host(t), vms: [] });
  const snap = history.snapshot();
  expect(snap.intervalSeconds).toBe(10);
  expect(snap.points.map((p) => p.t)).toEqual([20, 30, 40, 50]);
  history.close();
  expect(unsubscribed).toBe(true);
});
