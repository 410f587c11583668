// The Prometheus exporter: at each scrape it takes one tick (host and VMs), sets every series
// from it and lets prom-client write the text format. Series are rebuilt on each scrape, so a
// deleted VM or a removed disk disappears instead of lingering with its last value. A host
// source that cannot be read costs its own series only: the scrape answers with the rest, and
// limiquantix_host_source_up says which source is missing (as node_exporter's
// node_scrape_collector_success does).

import { Counter, Gauge, Registry } from "prom-client";
import type { Hypervisor, VmMetrics } from "../hypervisor/types.ts";
import { type MetricsHub, type MetricsTick, unreadHost } from "./metrics-hub.ts";
import type { Telemetry } from "../telemetry/types.ts";
import { registerProcessMetrics } from "./process-metrics.ts";
import { HOST_METRICS, meminfoMetricName, type MetricDef, type MetricType, type Series } from "./prometheus-host.ts";

export interface PrometheusExporterOptions {
  /** Where ticks come from: the shared hub (preferred) or a telemetry instance of its own. */
  hub?: Pick<MetricsHub, "sampleNow">;
  telemetry?: Telemetry;
  hypervisor: Pick<Hypervisor, "vmMetrics">;
  registry?: Registry;
  /** The daemon's process_* and nodejs_* metrics (see process-metrics.ts); on by default. */
  processMetrics?: boolean;
}

export interface PrometheusExporter {
  readonly registry: Registry;
  readonly contentType: string;
  /** Samples now and returns the exposition text. */
  metrics(): Promise<string>;
}

const VM_LABELS = ["vm_id", "name"];

function vmDef(suffix: string, help: string, type: MetricType, get: (m: VmMetrics) => number): MetricDef<VmMetrics[]> {
  return {
    name: `limiquantix_vm_${suffix}`,
    help,
    type,
    labelNames: VM_LABELS,
    series: (vms) => vms.map((m): [Record<string, string>, number] => [{ vm_id: m.vmId, name: m.name }, get(m)]),
  };
}

export const VM_METRICS: Array<MetricDef<VmMetrics[]>> = [
  vmDef("cpu_seconds_total", "CPU time the VM has used, in seconds.", "counter", (m) => m.cpuTimeNs / 1e9),
  vmDef("cpu_usage_percent", "CPU use of the VM over the last interval, 0-100 per VM.", "gauge", (m) => m.cpuUsagePercent),
  vmDef("vcpus", "Virtual CPUs of the VM.", "gauge", (m) => m.vcpus),
  vmDef("memory_used_bytes", "Memory the VM uses.", "gauge", (m) => m.memoryUsedBytes),
  vmDef("memory_total_bytes", "Memory the VM was given.", "gauge", (m) => m.memoryTotalBytes),
  vmDef("disk_read_bytes_total", "Bytes the VM read from its disks.", "counter", (m) => m.diskReadBytes),
  vmDef("disk_written_bytes_total", "Bytes the VM wrote to its disks.", "counter", (m) => m.diskWriteBytes),
  vmDef("disk_reads_total", "Read operations of the VM.", "counter", (m) => m.diskReadOps),
  vmDef("disk_writes_total", "Write operations of the VM.", "counter", (m) => m.diskWriteOps),
  vmDef("network_receive_bytes_total", "Bytes the VM received.", "counter", (m) => m.networkRxBytes),
  vmDef("network_transmit_bytes_total", "Bytes the VM sent.", "counter", (m) => m.networkTxBytes),
  vmDef("network_receive_packets_total", "Packets the VM received.", "counter", (m) => m.networkRxPackets),
  vmDef("network_transmit_packets_total", "Packets the VM sent.", "counter", (m) => m.networkTxPackets),
  {
    name: "limiquantix_vm_state",
    help: "The VM's state: one series per VM, value 1, with the state as a label.",
    type: "gauge",
    labelNames: [...VM_LABELS, "state"],
    series: (vms) => vms.map((m): [Record<string, string>, number] => [{ vm_id: m.vmId, name: m.name, state: m.state }, 1]),
  },
];

type AnyMetric = Counter<string> | Gauge<string>;

function makeMetric(registry: Registry, name: string, help: string, type: MetricType, labelNames: string[]): AnyMetric {
  const config = { name, help, labelNames, registers: [registry] };
  return type === "counter" ? new Counter(config) : new Gauge(config);
}

/**
 * Replaces every series of a metric with the given ones. prom-client gives a metric without
 * labels a value of 0 even when nothing was set, so such a metric leaves the registry while
 * its figure is absent (a missing node_boot_time_seconds, not a boot time of 1970).
 */
function setSeries(registry: Registry, def: Pick<MetricDef<unknown>, "name" | "labelNames">, metric: AnyMetric, series: Series): void {
  metric.reset();
  const values = series.filter(([, value]) => Number.isFinite(value));
  if (def.labelNames.length === 0) {
    const name = def.name;
    const registered = registry.getSingleMetric(name) !== undefined;
    if (values.length === 0 && registered) registry.removeSingleMetric(name);
    else if (values.length > 0 && !registered) registry.registerMetric(metric);
  }
  for (const [labels, value] of values) {
    if (metric instanceof Counter) metric.inc(labels, Math.max(0, value));
    else metric.set(labels, value);
  }
}

export function createPrometheusExporter(opts: PrometheusExporterOptions): PrometheusExporter {
  const registry = opts.registry ?? new Registry();
  const source = opts.hub;
  const telemetry = opts.telemetry;
  if (source === undefined && telemetry === undefined) throw new Error("createPrometheusExporter needs a hub or a telemetry");
  if (opts.processMetrics !== false) registerProcessMetrics(registry);

  const host = HOST_METRICS.map((d) => ({ d, m: makeMetric(registry, d.name, d.help, d.type, d.labelNames) }));
  const vm = VM_METRICS.map((d) => ({ d, m: makeMetric(registry, d.name, d.help, d.type, d.labelNames) }));
  const vmUp = new Gauge({
    name: "limiquantix_vm_metrics_up",
    help: "1 when the hypervisor reported VM figures at this scrape, 0 when it failed.",
    registers: [registry],
  });
  const sourceUp = new Gauge({
    name: "limiquantix_host_source_up",
    help: "1 when this host source (a /proc or /sys file, statfs) was read at this scrape, 0 when it failed (its figures are absent or come from the os module).",
    labelNames: ["source"],
    registers: [registry],
  });
  // meminfo keys differ between kernels: a gauge per key, made the first time the key is seen.
  const memory = new Map<string, Gauge<string>>();

  async function tick(): Promise<MetricsTick> {
    if (source !== undefined) return source.sampleNow();
    const t = telemetry as Telemetry;
    const [h, vms] = await Promise.all([
      t.sample().catch((err: unknown) => unreadHost(err)),
      opts.hypervisor.vmMetrics().then(
        (v) => ({ v, err: undefined as unknown }),
        (err: unknown) => ({ v: [] as VmMetrics[], err }),
      ),
    ]);
    return vms.err === undefined ? { host: h, vms: vms.v } : { host: h, vms: [], vmsError: vms.err };
  }

  function update(t: MetricsTick): void {
    for (const { d, m } of host) setSeries(registry, d, m, d.series(t.host));
    // A meminfo key not read this time (the file could not be read) goes, rather than keep a stale value.
    const mem = t.host.memory;
    const names = new Set([...(mem?.raw.keys() ?? [])].map((key) => meminfoMetricName(key, mem?.countKeys?.has(key) ?? false)));
    for (const name of memory.keys()) {
      if (names.has(name)) continue;
      registry.removeSingleMetric(name);
      memory.delete(name);
    }
    for (const [key, value] of mem?.raw ?? []) {
      const isCount = mem?.countKeys?.has(key) ?? false;
      const name = meminfoMetricName(key, isCount);
      let g = memory.get(name);
      if (g === undefined) {
        g = new Gauge({ name, help: `Memory information field ${key}.`, registers: [registry] });
        memory.set(name, g);
      }
      g.set(value);
    }
    for (const { d, m } of vm) setSeries(registry, d, m, d.series(t.vms));
    vmUp.set(t.vmsError === undefined ? 1 : 0);
    setSeries(
      registry,
      { name: "limiquantix_host_source_up", labelNames: ["source"] },
      sourceUp,
      (t.host.sources ?? []).map((s): [Record<string, string>, number] => [{ source: s.source }, s.error === undefined ? 1 : 0]),
    );
  }

  // Scrapes run one at a time so one response never mixes two samples.
  let chain: Promise<unknown> = Promise.resolve();
  return {
    registry,
    get contentType() {
      return registry.contentType;
    },
    metrics() {
      const run = chain.then(async () => {
        update(await tick());
        return registry.metrics();
      });
      chain = run.catch(() => undefined);
      return run;
    },
  };
}
