// process-metrics.ts runs prom-client's default collectors file by file instead of through
// collectDefaultMetrics. This checks it still yields exactly what collectDefaultMetrics does
// minus the series Bun cannot supply, so a prom-client upgrade that moves or adds a collector
// fails here instead of silently changing /metrics.

import { describe, expect, test } from "bun:test";
import * as promClient from "prom-client";
import { BUN_UNSUPPORTED_DEFAULT_METRICS, registerProcessMetrics } from "../../src/telemetry/process-metrics.ts";
import { Registry } from "../../src/telemetry/prom-client-parts.ts";

async function described(registry: { getMetricsAsJSON(): Promise<Array<{ name: string; help: string; type: unknown }>> }) {
  const metrics = await registry.getMetricsAsJSON();
  return metrics.map((m) => `${m.name} ${String(m.type)} ${m.help}`).sort();
}

describe("registerProcessMetrics", () => {
  test("the series of collectDefaultMetrics without the ones Bun cannot supply, same type and help", async () => {
    const reference = new promClient.Registry();
    promClient.collectDefaultMetrics({ register: reference });
    for (const name of BUN_UNSUPPORTED_DEFAULT_METRICS) reference.removeSingleMetric(name);

    const ours = new Registry();
    registerProcessMetrics(ours);

    expect(await described(ours)).toEqual(await described(reference));
    const names = (await ours.getMetricsAsJSON()).map((m) => m.name);
    for (const name of BUN_UNSUPPORTED_DEFAULT_METRICS) expect(names).not.toContain(name);
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
