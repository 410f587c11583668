// The parts of prom-client the daemon uses, loaded file by file. prom-client's index loads the
// whole library on import: Pushgateway (node:http, https, zlib), Histogram and Summary (tdigest,
// bintrees), the cluster aggregator and every default metric, including those Bun cannot supply
// (see process-metrics.ts). Loading only what the exporter uses keeps the rest out of the
// daemon's idle memory. The paths are static strings so the bundler can find them; the types
// come from the package's index.

import type * as PromClient from "prom-client";

export const Registry = require("prom-client/lib/registry") as typeof PromClient.Registry;
export type Registry = PromClient.Registry;
export const Counter = require("prom-client/lib/counter") as typeof PromClient.Counter;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export const Gauge = require("prom-client/lib/gauge") as typeof PromClient.Gauge;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;

/** The config collectDefaultMetrics hands each collector in prom-client/lib/metrics. */
export type DefaultMetricsConfig = PromClient.DefaultMetricsCollectorConfiguration<PromClient.RegistryContentType>;

/** One of prom-client's default metric collectors: registers its series and keeps them current. */
export type DefaultMetric = (registry: Registry | undefined, config: DefaultMetricsConfig) => void;
