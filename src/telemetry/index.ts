// The telemetry concern's public surface.

export type * from "./types.ts";
export { createTelemetry, type TelemetryDeps } from "./telemetry.ts";
export { type HostIo, nodeHostIo } from "./host-io.ts";
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
export { TelemetryParseError } from "./parse-error.ts";
