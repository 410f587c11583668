// Cost of telemetry on this machine: one full host sample (budget 1 ms median) and one /metrics
// scrape over HTTP. `bun bench/telemetry.ts` prints the table and exits 1 over budget.

import type { VmMetrics } from "../src/hypervisor/types.ts";
import { createMetricsHub } from "../src/metrics/metrics-hub.ts";
import { startMetricsServer } from "../src/metrics/metrics-server.ts";
import { createPrometheusExporter } from "../src/metrics/prometheus.ts";
import { createTelemetry } from "../src/telemetry/telemetry.ts";

export interface Row {
  name: string;
  runs: number;
  medianMs: number;
  p90Ms: number;
  /** Median budget; rows without one are informational. */
  budgetMs?: number;
  ok: boolean;
}

export const HOST_SAMPLE_BUDGET_MS = 1;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function measure(name: string, runs: number, fn: () => Promise<unknown>, budgetMs?: number): Promise<Row> {
  for (let i = 0; i < Math.min(50, runs); i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const medianMs = quantile(times, 0.5);
  return { name, runs, medianMs, p90Ms: quantile(times, 0.9), budgetMs, ok: budgetMs === undefined || medianMs <= budgetMs };
}

function fakeVms(n: number): VmMetrics[] {
  return Array.from({ length: n }, (_, i) => ({
    vmId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    name: `vm-${i}`,
    state: "running",
    cpuUsagePercent: 12.5,
    cpuTimeNs: 1e12 + i,
    vcpus: 4,
    memoryUsedBytes: 2 ** 32,
    memoryTotalBytes: 2 ** 33,
    diskReadBytes: 1e9,
    diskWriteBytes: 2e9,
    diskReadOps: 1e5,
    diskWriteOps: 2e5,
    networkRxBytes: 3e9,
    networkTxBytes: 4e9,
    networkRxPackets: 3e6,
    networkTxPackets: 4e6,
  }));
}

export async function benchTelemetry(opts: { runs?: number; vms?: number } = {}): Promise<Row[]> {
  const runs = opts.runs ?? 500;
  const telemetry = createTelemetry({ procRoot: "/proc", sysRoot: "/sys", etcRoot: "/etc", filesystemPaths: ["/"] });
  const vms = fakeVms(opts.vms ?? 20);
  const hypervisor = { vmMetrics: async () => vms };
  const rows: Row[] = [];
  rows.push(await measure("telemetry: one full host sample", runs, () => telemetry.sample(), HOST_SAMPLE_BUDGET_MS));
  rows.push(await measure("telemetry: host identity (cpuinfo, PCI, ...)", Math.max(20, runs / 10), () => telemetry.identity()));

  const hub = createMetricsHub({ telemetry, hypervisor });
  const exporter = createPrometheusExporter({ hub, hypervisor });
  const server = await startMetricsServer({ host: "127.0.0.1", port: 0, exporter });
  try {
    const url = `http://127.0.0.1:${server.port}/metrics`;
    rows.push(
      await measure(`telemetry: one /metrics scrape over HTTP (${vms.length} VMs)`, Math.max(100, Math.round(runs / 2.5)), async () =>
        (await fetch(url)).text(),
      ),
    );
  } finally {
    await server.close();
    hub.close();
  }
  return rows;
}

export function formatRows(rows: Row[]): string {
  const head = ["benchmark", "runs", "median ms", "p90 ms", "budget ms", ""];
  const body = rows.map((r) => [
    r.name,
    String(r.runs),
    r.medianMs.toFixed(3),
    r.p90Ms.toFixed(3),
    r.budgetMs === undefined ? "-" : String(r.budgetMs),
    r.ok ? "ok" : "OVER BUDGET",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join("  ");
  return [fmt(head), ...body.map(fmt)].join("\n");
}

if (import.meta.main) {
  const rows = await benchTelemetry();
  console.log(formatRows(rows));
  process.exit(rows.every((r) => r.ok) ? 0 : 1);
}
