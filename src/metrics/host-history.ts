// The dashboard's last hour: a ring of host figures fed by the metrics hub (the one sampler;
// this adds a 10 s subscriber, whose reads the hub shares with every other consumer). 360
// points of 10 s, a fixed array: memory stays the same after the first hour. A figure the
// host could not give is null (a gap in the chart), never 0.

import type { HostSample } from "../telemetry/types.ts";
import type { MetricsHub } from "./metrics-hub.ts";

export const HISTORY_INTERVAL_MS = 10_000;
export const HISTORY_POINTS = 360;

export interface HistoryPoint {
  /** Unix milliseconds of the sample. */
  t: number;
  cpuPercent: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  load1: number | null;
  /** The filesystem of hypervisor.storage_path (the VMs' disks). */
  diskUsedBytes: number | null;
  diskTotalBytes: number | null;
}

export interface HostHistorySnapshot {
  intervalSeconds: number;
  /** Oldest first. */
  points: HistoryPoint[];
}

/** One point from a host sample; `diskPath` picks the filesystem (the first one otherwise). */
export function historyPoint(host: HostSample, diskPath?: string): HistoryPoint {
  const mem = host.memory;
  const fs = host.filesystems.find((f) => f.path === diskPath) ?? host.filesystems[0];
  const used = mem === undefined ? undefined : mem.totalBytes - (mem.availableBytes ?? mem.freeBytes ?? 0);
  return {
    t: host.timestamp.getTime(),
    cpuPercent: host.cpu?.usagePercent ?? null,
    memoryUsedBytes: used ?? null,
    memoryTotalBytes: mem?.totalBytes ?? null,
    load1: host.load?.load1 ?? null,
    diskUsedBytes: fs?.usedBytes ?? null,
    diskTotalBytes: fs?.totalBytes ?? null,
  };
}

export interface Ring<T> {
  push(item: T): void;
  /** Oldest first. */
  toArray(): T[];
  readonly size: number;
}

export function createRing<T>(capacity: number): Ring<T> {
  const items: T[] = new Array(capacity);
  let next = 0;
  let size = 0;
  return {
    push(item) {
      items[next] = item;
      next = (next + 1) % capacity;
      size = Math.min(size + 1, capacity);
    },
    toArray() {
      const start = (next - size + capacity) % capacity;
      return Array.from({ length: size }, (_, i) => items[(start + i) % capacity] as T);
    },
    get size() {
      return size;
    },
  };
}

export interface HostHistory {
  snapshot(): HostHistorySnapshot;
  /** Stops recording (the hub's subscription ends). */
  close(): void;
}

export interface HostHistoryOptions {
  intervalMs?: number;
  points?: number;
  diskPath?: string;
}

export function createHostHistory(hub: Pick<MetricsHub, "subscribe">, opts: HostHistoryOptions = {}): HostHistory {
  const intervalMs = opts.intervalMs ?? HISTORY_INTERVAL_MS;
  const ring = createRing<HistoryPoint>(opts.points ?? HISTORY_POINTS);
  let lastT = Number.NEGATIVE_INFINITY;
  const unsubscribe = hub.subscribe(intervalMs, (tick) => {
    const point = historyPoint(tick.host, opts.diskPath);
    // A sample shared with a faster subscriber can come round twice; one point per sample.
    if (point.t <= lastT) return;
    lastT = point.t;
    ring.push(point);
  });
  return {
    snapshot: () => ({ intervalSeconds: intervalMs / 1000, points: ring.toArray() }),
    close: unsubscribe,
  };
}
