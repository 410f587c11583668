// The daemon's own process_* and nodejs_* metrics (prom-client's default metrics), minus the
// ones Bun cannot supply truthfully. Checked on Bun 1.4.5: process._getActiveHandles,
// _getActiveRequests and getActiveResourcesInfo exist but always return [] (so the active
// handle/request/resource gauges would read 0 with timers and sockets open);
// v8.getHeapSpaceStatistics returns zeros for every space but "old" and costs ~4 ms per call;
// no "gc" performance entries are emitted, so the GC histogram stays empty. Absent beats a
// wrong zero, so those collectors are not run at all: collectDefaultMetrics would load them
// (and start the gc PerformanceObserver) only for the series to be removed again.

import type { DefaultMetric, DefaultMetricsConfig, Registry } from "./prom-client-parts.ts";

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

/**
 * collectDefaultMetrics' collectors, in its order, without processHandles, processRequests,
 * processResources, heapSpacesSizeAndUsed and gc: every series those register is in
 * BUN_UNSUPPORTED_DEFAULT_METRICS.
 */
function supportedCollectors(): DefaultMetric[] {
  return [
    require("prom-client/lib/metrics/processCpuTotal"),
    require("prom-client/lib/metrics/processStartTime"),
    require("prom-client/lib/metrics/osMemoryHeap"),
    require("prom-client/lib/metrics/processOpenFileDescriptors"),
    require("prom-client/lib/metrics/processMaxFileDescriptors"),
    require("prom-client/lib/metrics/eventLoopLag"),
    require("prom-client/lib/metrics/heapSizeAndUsed"),
    require("prom-client/lib/metrics/version"),
  ] as DefaultMetric[];
}

export function registerProcessMetrics(registry: Registry): void {
  // The config collectDefaultMetrics({ register: registry }) passes to each collector.
  const config: DefaultMetricsConfig = { eventLoopMonitoringPrecision: 10, register: registry };
  for (const collect of supportedCollectors()) collect(registry, config);
}
