// process-metrics.ts is prom-client's collectDefaultMetrics minus the series Bun cannot supply
// truthfully. This checks those are gone and the rest is there, so a prom-client upgrade that
// renames or adds a series fails here instead of silently changing /metrics.

import { describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { BUN_UNSUPPORTED_DEFAULT_METRICS, registerProcessMetrics } from "../../src/metrics/process-metrics.ts";

async function described(registry: Registry) {
  const metrics = await registry.getMetricsAsJSON();
  return metrics.map((m) => `${m.name} ${String(m.type)}`).sort();
}

describe("registerProcessMetrics", () => {
  test("the default series without the ones Bun cannot supply", async () => {
    const ours = new Registry();
    registerProcessMetrics(ours);
    expect(await described(ours)).toEqual([
      "nodejs_eventloop_lag_max_seconds gauge",
      "nodejs_eventloop_lag_mean_seconds gauge",
      "nodejs_eventloop_lag_min_seconds gauge",
      "nodejs_eventloop_lag_p50_seconds gauge",
      "nodejs_eventloop_lag_p90_seconds gauge",
      "nodejs_eventloop_lag_p99_seconds gauge",
      "nodejs_eventloop_lag_seconds gauge",
      "nodejs_eventloop_lag_stddev_seconds gauge",
      "nodejs_external_memory_bytes gauge",
      "nodejs_heap_size_total_bytes gauge",
      "nodejs_heap_size_used_bytes gauge",
      "nodejs_version_info gauge",
      "process_cpu_seconds_total counter",
      "process_cpu_system_seconds_total counter",
      "process_cpu_user_seconds_total counter",
      "process_heap_bytes gauge",
      "process_max_fds gauge",
      "process_open_fds gauge",
      "process_resident_memory_bytes gauge",
      "process_start_time_seconds gauge",
      "process_virtual_memory_bytes gauge",
    ]);
    const text = await ours.metrics();
    for (const name of BUN_UNSUPPORTED_DEFAULT_METRICS) expect(text).not.toContain(name);
  });

  test("the CPU counters move with the process's CPU time; user + system = total", async () => {
    const registry = new Registry();
    registerProcessMetrics(registry);
    // One read collects once (the user counter's collect sets all three), then reads them all.
    const read = async () => {
      const byName = new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, m.values[0]?.value ?? Number.NaN]));
      return (name: string) => byName.get(name) ?? Number.NaN;
    };
    const before = await read();
    const until = performance.now() + 30;
    while (performance.now() < until) Math.sqrt(Math.random()); // burn ~30 ms of CPU
    const after = await read();
    expect(after("process_cpu_seconds_total")).toBeGreaterThan(before("process_cpu_seconds_total"));
    const sum = after("process_cpu_user_seconds_total") + after("process_cpu_system_seconds_total");
    expect(sum).toBeCloseTo(after("process_cpu_seconds_total"), 9);
  });
});
