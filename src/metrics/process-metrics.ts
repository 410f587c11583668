// The daemon's own process_* and nodejs_* metrics (prom-client's default metrics), minus the
// ones Bun cannot supply truthfully. Checked on Bun 1.4.5: process._getActiveHandles,
// _getActiveRequests and getActiveResourcesInfo exist but always return [] (so the active
// handle/request/resource gauges would read 0 with timers and sockets open);
// v8.getHeapSpaceStatistics returns zeros for every space but "old" and costs ~4 ms per call;
// no "gc" performance entries are emitted, so the GC histogram stays empty. Absent beats a
// wrong zero, so those series are removed from the registry right after collectDefaultMetrics
// registers them, and so are never collected.
//
// The event-loop lag histogram samples on a timer of its own: prom-client's default of 10 ms
// woke the daemon 100 times a second, half of an idle daemon's CPU time (bench/README.md,
// "A host's shape"). Once a second keeps every lag series at 1 % of those wakeups.

import { collectDefaultMetrics, type Registry } from "prom-client";

export const EVENT_LOOP_SAMPLE_MS = 1000;

export const BUN_UNSUPPORTED_DEFAULT_METRICS = [
  "nodejs_active_handles",
  "nodejs_active_handles_total",
  "nodejs_active_requests",
  "nodejs_active_requests_total",
  "nodejs_active_resources",
  "nodejs_active_resources_total",
  "nodejs_heap_space_size_total_bytes",
  "nodejs_heap_space_size_used_bytes",
  "nodejs_heap_space_size_available_bytes",
  "nodejs_gc_duration_seconds",
];

/** collectDefaultMetrics, then the series Bun cannot supply removed (they are never collected). */
export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  for (const name of BUN_UNSUPPORTED_DEFAULT_METRICS) registry.removeSingleMetric(name);
}
