// What the daemon serves from the host's telemetry and the hypervisor's VM figures: one shared
// sampler (the hub) for StreamMetrics, the heartbeat and Prometheus, and the /metrics endpoint.
// Above both telemetry/ and hypervisor/, which know nothing of each other.

export {
  createMetricsHub,
  DEFAULT_INTERVAL_MS,
  MAX_INTERVAL_MS,
  MIN_INTERVAL_MS,
  resolveIntervalMs,
  type MetricsHub,
  type MetricsTick,
} from "./metrics-hub.ts";
export { createPrometheusExporter, type PrometheusExporter } from "./prometheus.ts";
export { startMetricsServer, type MetricsServer } from "./metrics-server.ts";
