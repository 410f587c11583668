// One sampler shared by every metrics consumer (StreamMetrics subscribers, the heartbeat, the
// Prometheus endpoint). Subscribers with the same interval share one timer and so one read per
// tick; subscribers with other intervals reuse a sample taken within half the smallest interval
// in use, so the host is never read once per subscriber. A tick always goes out: a host source
// that fails costs its own figures (telemetry reads source by source), a hypervisor that fails
// costs the VM figures, and neither silences the other.

import type { Logger } from "../common/logger.ts";
import type { Hypervisor, VmMetrics } from "../hypervisor/types.ts";
import { failureReason } from "../telemetry/sources.ts";
import type { HostSample, Telemetry } from "../telemetry/types.ts";

export const MIN_INTERVAL_MS = 250;
export const MAX_INTERVAL_MS = 3_600_000;
export const DEFAULT_INTERVAL_MS = 5000;

export interface MetricsTick {
  host: HostSample;
  vms: VmMetrics[];
  /** Set when the hypervisor could not report VM figures this tick (vms is then empty). */
  vmsError?: unknown;
}

export type MetricsListener = (tick: MetricsTick) => void;
/** Called when the listener threw on a tick (it is still subscribed). */
export type MetricsErrorListener = (err: unknown) => void;

/** A host sample with no figures, for a sampler that failed as a whole (a bug, not a missing file). */
export function unreadHost(err: unknown, timestamp = new Date()): HostSample {
  return { timestamp, filesystems: [], sources: [{ source: "host", error: failureReason(err), effect: "no host figures" }] };
}

export interface MetricsHub {
  subscribe(intervalMs: number, listener: MetricsListener, onError?: MetricsErrorListener): () => void;
  /** A tick now (shared with any sample taken within half the smallest active interval). */
  sampleNow(): Promise<MetricsTick>;
  /**
   * The host alone (no VM statistics call), for readers that need no VM figures (the
   * heartbeat): the latest sample of either kind when it started within maxAgeMs, else a new
   * read of the host only.
   */
  hostSample(maxAgeMs: number): Promise<HostSample>;
  /** How many times the host has been read. */
  readCount(): number;
  close(): void;
}

export interface MetricsHubDeps {
  telemetry: Telemetry;
  hypervisor: Pick<Hypervisor, "vmMetrics">;
  /** Where a sampler that fails as a whole is reported (telemetry logs its own sources). */
  log?: Logger;
  /** Monotonic milliseconds (performance.now by default). */
  now?: () => number;
  /** The interval timers (the global ones by default); tests pass a manual clock. */
  timers?: {
    setInterval(fn: () => void, ms: number): unknown;
    clearInterval(handle: unknown): void;
  };
}

/** The request's interval: 0 means the default; outside [MIN, MAX] is a RangeError naming the bounds. */
export function resolveIntervalMs(requested: number): number {
  if (requested === 0) return DEFAULT_INTERVAL_MS;
  if (!Number.isInteger(requested) || requested < MIN_INTERVAL_MS || requested > MAX_INTERVAL_MS) {
    throw new RangeError(`interval_ms must be 0 (default ${DEFAULT_INTERVAL_MS}) or between ${MIN_INTERVAL_MS} and ${MAX_INTERVAL_MS}, got ${requested}`);
  }
  return requested;
}

interface Subscriber {
  listener: MetricsListener;
  onError?: MetricsErrorListener;
  active: boolean;
}

interface Group {
  timer: unknown;
  subs: Set<Subscriber>;
}

interface CacheEntry {
  startedMs: number;
  pending: boolean;
  promise: Promise<MetricsTick>;
}

export function createMetricsHub(deps: MetricsHubDeps): MetricsHub {
  const now = deps.now ?? (() => performance.now());
  const timers = deps.timers ?? {
    setInterval: (fn: () => void, ms: number) => setInterval(fn, ms),
    clearInterval: (h: unknown) => clearInterval(h as ReturnType<typeof setInterval>),
  };
  const groups = new Map<number, Group>();
  let cache: CacheEntry | undefined;
  let hostCache: { startedMs: number; promise: Promise<HostSample> } | undefined;
  let reads = 0;
  let closed = false;

  function readHost(): Promise<HostSample> {
    return deps.telemetry.sample().catch((err: unknown) => {
      deps.log?.error("host sample failed:", err);
      return unreadHost(err);
    });
  }

  function hostSample(maxAgeMs: number): Promise<HostSample> {
    const t = now();
    if (cache !== undefined && (cache.pending || t - cache.startedMs <= maxAgeMs)) return cache.promise.then((tick) => tick.host);
    if (hostCache !== undefined && t - hostCache.startedMs <= maxAgeMs) return hostCache.promise;
    reads++;
    hostCache = { startedMs: t, promise: readHost() };
    return hostCache.promise;
  }

  async function takeTick(): Promise<MetricsTick> {
    const [host, vms] = await Promise.all([
      readHost(),
      deps.hypervisor.vmMetrics().then(
        (v) => ({ ok: true as const, v }),
        (err: unknown) => ({ ok: false as const, err }),
      ),
    ]);
    return vms.ok ? { host, vms: vms.v } : { host, vms: [], vmsError: vms.err };
  }

  function cacheWindowMs(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const interval of groups.keys()) min = Math.min(min, interval);
    return Number.isFinite(min) ? min / 2 : 0;
  }

  function shared(): Promise<MetricsTick> {
    const t = now();
    if (cache !== undefined && (cache.pending || t - cache.startedMs <= cacheWindowMs())) return cache.promise;
    reads++;
    const entry: CacheEntry = { startedMs: t, pending: true, promise: takeTick() };
    cache = entry;
    entry.promise.then(
      () => {
        entry.pending = false;
      },
      () => {
        // Not expected (takeTick catches both sides), but a failed read is never kept.
        entry.pending = false;
        if (cache === entry) cache = undefined;
      },
    );
    return entry.promise;
  }

  function deliver(subs: Iterable<Subscriber>): void {
    const targets = [...subs];
    shared().then(
      (tick) => {
        for (const s of targets) {
          if (!s.active) continue;
          try {
            s.listener(tick);
          } catch (err) {
            s.onError?.(err);
          }
        }
      },
      (err: unknown) => {
        for (const s of targets) if (s.active) s.onError?.(err);
      },
    );
  }

  return {
    subscribe(intervalMs, listener, onError) {
      if (closed) throw new Error("metrics hub is closed");
      const interval = resolveIntervalMs(intervalMs);
      const sub: Subscriber = { listener, onError, active: true };
      let group = groups.get(interval);
      if (group === undefined) {
        const subs = new Set<Subscriber>();
        const timer = timers.setInterval(() => deliver(subs), interval);
        // A metrics timer must never keep the daemon alive on its own.
        (timer as { unref?: () => void }).unref?.();
        group = { timer, subs };
        groups.set(interval, group);
      }
      group.subs.add(sub);
      // The first tick goes out at once (shared with whoever subscribed at the same moment).
      deliver([sub]);
      return () => {
        if (!sub.active) return;
        sub.active = false;
        const g = groups.get(interval);
        if (g === undefined) return;
        g.subs.delete(sub);
        if (g.subs.size === 0) {
          timers.clearInterval(g.timer);
          groups.delete(interval);
        }
      };
    },
    sampleNow: () => shared(),
    hostSample,
    readCount: () => reads,
    close() {
      closed = true;
      for (const g of groups.values()) {
        timers.clearInterval(g.timer);
        for (const s of g.subs) s.active = false;
      }
      groups.clear();
    },
  };
}
