// The /metrics endpoint over real HTTP: node_exporter names, per-VM series, process metrics,
// nothing stale, and nothing but GET/HEAD /metrics.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { VmMetrics } from "../../src/hypervisor/types.ts";
import { createMetricsHub } from "../../src/metrics/metrics-hub.ts";
import { createPrometheusExporter } from "../../src/metrics/prometheus.ts";
import { meminfoMetricName } from "../../src/metrics/prometheus-host.ts";
import { startMetricsServer, type MetricsServer } from "../../src/metrics/metrics-server.ts";
import { createTelemetry } from "../../src/telemetry/telemetry.ts";
import { fakeOs } from "../telemetry/fake-os.ts";
import { createMemoryIo } from "../telemetry/memory-io.ts";

const root = join(import.meta.dir, "../fixtures/host/xeon-silver-2s-ht-ubuntu2204");
const telemetry = createTelemetry({ procRoot: join(root, "proc"), sysRoot: join(root, "sys"), etcRoot: join(root, "etc"), filesystemPaths: ["/"] });

const vmA: VmMetrics = {
  vmId: "11111111-1111-4111-8111-111111111111",
  name: "db-1",
  state: "running",
  cpuUsagePercent: 37.5,
  cpuTimeNs: 12_500_000_000,
  vcpus: 4,
  memoryUsedBytes: 3 * 2 ** 30,
  memoryTotalBytes: 4 * 2 ** 30,
  diskReadBytes: 1000,
  diskWriteBytes: 2000,
  diskReadOps: 10,
  diskWriteOps: 20,
  networkRxBytes: 3000,
  networkTxBytes: 4000,
  networkRxPackets: 30,
  networkTxPackets: 40,
};
const vmB: VmMetrics = { ...vmA, vmId: "22222222-2222-4222-8222-222222222222", name: 'web "blue"', state: "paused" };
let vms: VmMetrics[] = [vmA, vmB];
let hypervisorDown = false;
const hypervisor = {
  vmMetrics: async () => {
    if (hypervisorDown) throw new Error("libvirt connection lost");
    return vms;
  },
};

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the text exposition format: every non-comment line must parse. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? "";
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    let consumed = 0;
    for (let l = re.exec(body); l !== null; l = re.exec(body)) {
      labels[l[1] as string] = (l[2] as string).replace(/\\"/g, '"').replace(/\\n/g, "\n").replace(/\\\\/g, "\\");
      consumed += l[0].length;
    }
    if (consumed !== body.length) throw new Error(`bad labels: ${line}`);
    // Prometheus parses values with Go's ParseFloat, which takes NaN and Inf in any case
    // (prom-client writes "Nan").
    const raw = (m[3] as string).toLowerCase();
    const value = raw === "nan" ? Number.NaN : raw === "+inf" || raw === "inf" ? Infinity : raw === "-inf" ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== "nan") throw new Error(`bad value: ${line}`);
    samples.push({ name: m[1] as string, labels, value });
  }
  return { samples, types };
}

function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

let server: MetricsServer;
let base: string;

beforeAll(async () => {
  const hub = createMetricsHub({ telemetry, hypervisor });
  const exporter = createPrometheusExporter({ hub, hypervisor });
  server = await startMetricsServer({ host: "127.0.0.1", port: 0, exporter });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server.close();
});

async function scrape() {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
  return parseExposition(await res.text());
}

describe("GET /metrics", () => {
  test("node_exporter names, labels and types for host figures", async () => {
    const { samples, types } = await scrape();
    expect(types.get("node_cpu_seconds_total")).toBe("counter");
    expect(
      find(samples, "node_cpu_seconds_total", { cpu: "31" })
        .map((s) => s.labels.mode)
        .sort(),
    ).toEqual(["idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"]);
    expect(find(samples, "node_cpu_guest_seconds_total", { cpu: "0", mode: "user" })).toHaveLength(1);
    expect(find(samples, "node_memory_MemTotal_bytes")[0]?.value).toBe(395939308 * 1024);
    expect(find(samples, "node_memory_MemAvailable_bytes")[0]?.value).toBe(98765432 * 1024);
    expect(find(samples, "node_memory_Active_anon_bytes")[0]?.value).toBe(98765432 * 1024);
    expect(find(samples, "node_memory_HugePages_Total")[0]?.value).toBe(4096);
    expect(types.get("node_memory_MemTotal_bytes")).toBe("gauge");
    expect(find(samples, "node_uname_info")[0]?.labels).toMatchObject({
      sysname: "Linux",
      nodename: "hv-rack3-07",
      release: "5.15.0-91-generic",
      version: "#102-Ubuntu SMP Wed Jan 10 09:33:48 UTC 2024",
      domainname: "(none)",
    });
    expect(find(samples, "node_load1")[0]?.value).toBe(12.45);
    expect(find(samples, "node_load15")[0]?.value).toBe(9.87);
    expect(find(samples, "node_boot_time_seconds")[0]?.value).toBe(1694012345);
    expect(find(samples, "node_procs_blocked")[0]?.value).toBe(2);
    expect(find(samples, "node_disk_read_bytes_total", { device: "sda" })[0]?.value).toBe(98765432 * 512);
    expect(find(samples, "node_disk_io_time_seconds_total", { device: "nvme0n1" })[0]?.value).toBe(4567.89);
    expect(find(samples, "node_disk_written_bytes_total").map((s) => s.labels.device)).not.toContain("sda1");
    expect(types.get("node_disk_io_now")).toBe("gauge");
    expect(find(samples, "node_network_receive_bytes_total", { device: "eno1" })[0]?.value).toBe(987654321098765);
    expect(find(samples, "node_network_transmit_colls_total", { device: "veth9f8e7d6c5b4" })).toHaveLength(1);
    const fs = find(samples, "node_filesystem_size_bytes", { mountpoint: "/" })[0];
    expect(fs?.labels).toEqual({ device: "/dev/mapper/vg0-root", fstype: "ext4", mountpoint: "/" });
    expect(fs?.value).toBeGreaterThan(0);
    expect(find(samples, "node_filesystem_avail_bytes", { mountpoint: "/" })).toHaveLength(1);
  });

  test("per-VM series with vm_id and name labels, label values escaped", async () => {
    const { samples, types } = await scrape();
    expect(find(samples, "limiquantix_vm_cpu_seconds_total", { vm_id: vmA.vmId, name: "db-1" })[0]?.value).toBe(12.5);
    expect(types.get("limiquantix_vm_cpu_seconds_total")).toBe("counter");
    expect(find(samples, "limiquantix_vm_memory_used_bytes", { vm_id: vmB.vmId, name: 'web "blue"' })[0]?.value).toBe(3 * 2 ** 30);
    expect(find(samples, "limiquantix_vm_state", { vm_id: vmB.vmId })[0]?.labels.state).toBe("paused");
    for (const n of [
      "vcpus",
      "disk_read_bytes_total",
      "disk_written_bytes_total",
      "disk_reads_total",
      "disk_writes_total",
      "network_receive_bytes_total",
      "network_transmit_bytes_total",
      "network_receive_packets_total",
      "network_transmit_packets_total",
      "cpu_usage_percent",
      "memory_total_bytes",
    ]) {
      expect(find(samples, `limiquantix_vm_${n}`)).toHaveLength(2);
    }
    expect(find(samples, "limiquantix_vm_metrics_up")[0]?.value).toBe(1);
  });

  test("a deleted VM's series are gone at the next scrape; a failing hypervisor says so", async () => {
    vms = [vmA];
    let { samples } = await scrape();
    expect(find(samples, "limiquantix_vm_state", { vm_id: vmB.vmId })).toHaveLength(0);
    expect(find(samples, "limiquantix_vm_cpu_seconds_total")).toHaveLength(1);
    hypervisorDown = true;
    ({ samples } = await scrape());
    expect(find(samples, "limiquantix_vm_metrics_up")[0]?.value).toBe(0);
    expect(find(samples, "limiquantix_vm_cpu_seconds_total")).toHaveLength(0);
    expect(find(samples, "node_load1")).toHaveLength(1);
    hypervisorDown = false;
    vms = [vmA, vmB];
  });

  test("the daemon's process metrics", async () => {
    const { samples } = await scrape();
    expect(find(samples, "process_resident_memory_bytes")[0]?.value).toBeGreaterThan(1e6);
    expect(find(samples, "process_cpu_seconds_total")[0]?.value).toBeGreaterThan(0);
    expect(find(samples, "process_open_fds")[0]?.value).toBeGreaterThan(0);
    expect(find(samples, "process_start_time_seconds")[0]?.value).toBeGreaterThan(1.6e9);
    expect(find(samples, "nodejs_heap_size_used_bytes")).toHaveLength(1);
  });

  test("query strings are fine; HEAD has headers and no body", async () => {
    expect((await fetch(`${base}/metrics?name[]=node_load1`)).status).toBe(200);
    const head = await fetch(`${base}/metrics`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  test.each([
    ["GET", "/"],
    ["GET", "/metrics/"],
    ["GET", "/metricsx"],
    ["GET", "/v1/vms"],
    ["POST", "/metrics"],
    ["DELETE", "/metrics"],
    ["PUT", "/anything"],
  ])("%s %s is 404", async (method, path) => {
    const res = await fetch(`${base}${path}`, { method });
    expect(res.status).toBe(404);
    await res.text();
  });
});

describe("meminfo metric names", () => {
  test.each([
    ["MemTotal", false, "node_memory_MemTotal_bytes"],
    ["Active(anon)", false, "node_memory_Active_anon_bytes"],
    ["Inactive(file)", false, "node_memory_Inactive_file_bytes"],
    ["HugePages_Total", true, "node_memory_HugePages_Total"],
    ["DirectMap1G", false, "node_memory_DirectMap1G_bytes"],
  ])("%s", (key, isCount, name) => {
    expect(meminfoMetricName(key, isCount)).toBe(name);
  });
});

test("exporter over a telemetry of its own, without process metrics", async () => {
  const exporter = createPrometheusExporter({ telemetry, hypervisor, processMetrics: false });
  const { samples } = parseExposition(await exporter.metrics());
  expect(find(samples, "process_resident_memory_bytes")).toHaveLength(0);
  expect(find(samples, "node_load5")[0]?.value).toBe(10.03);
  expect(find(samples, "limiquantix_vm_vcpus")).toHaveLength(2);
});

test("a host without /proc answers 200 with what it has: VM series, os-module figures, and which sources failed", async () => {
  const broken = createTelemetry(
    { procRoot: "/nonexistent/proc", sysRoot: "/nonexistent/sys", etcRoot: "/nonexistent/etc", filesystemPaths: [] },
    { os: fakeOs() },
  );
  const exporter = createPrometheusExporter({ telemetry: broken, hypervisor, processMetrics: false });
  const srv = await startMetricsServer({ host: "127.0.0.1", port: 0, exporter });
  try {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`http://127.0.0.1:${srv.port}/metrics`);
      expect(res.status).toBe(200);
      const { samples } = parseExposition(await res.text());
      expect(find(samples, "limiquantix_vm_vcpus")).toHaveLength(2);
      expect(find(samples, "limiquantix_vm_metrics_up")[0]?.value).toBe(1);
      // From the os module: load, memory, CPU time of the modes it has (no iowait), uname.
      expect(find(samples, "node_load1")[0]?.value).toBe(1.5);
      expect(find(samples, "node_memory_MemTotal_bytes")[0]?.value).toBe(16 * 2 ** 30);
      expect(find(samples, "node_memory_MemFree_bytes")[0]?.value).toBe(2 * 2 ** 30);
      expect(find(samples, "node_cpu_seconds_total", { cpu: "1", mode: "user" })[0]?.value).toBe(2);
      expect(find(samples, "node_cpu_seconds_total", { mode: "iowait" })).toHaveLength(0);
      expect(find(samples, "node_uname_info")[0]?.labels).toMatchObject({ sysname: "Darwin", nodename: "laptop.local", machine: "arm64" });
      // What only /proc knows is absent, not zero.
      expect(find(samples, "node_disk_reads_completed_total")).toHaveLength(0);
      expect(find(samples, "node_network_receive_bytes_total")).toHaveLength(0);
      expect(find(samples, "node_boot_time_seconds")).toHaveLength(0);
      expect(find(samples, "node_memory_SwapTotal_bytes")).toHaveLength(0);
      expect(find(samples, "limiquantix_host_source_up", { source: "/nonexistent/proc/meminfo" })[0]?.value).toBe(0);
      expect(find(samples, "limiquantix_host_source_up", { source: "/nonexistent/proc/diskstats" })[0]?.value).toBe(0);
    }
  } finally {
    await srv.close();
  }
});

test("a meminfo key that can no longer be read goes instead of keeping its last value", async () => {
  const io = createMemoryIo({ "/p/meminfo": "MemTotal: 1000 kB\nSwapTotal: 10 kB\n" });
  const t = createTelemetry({ procRoot: "/p", sysRoot: "/s", etcRoot: "/e", filesystemPaths: [] }, { io, os: fakeOs() });
  const exporter = createPrometheusExporter({ telemetry: t, hypervisor, processMetrics: false });
  expect(find(parseExposition(await exporter.metrics()).samples, "node_memory_SwapTotal_bytes")[0]?.value).toBe(10240);
  io.files.delete("/p/meminfo");
  const { samples } = parseExposition(await exporter.metrics());
  expect(find(samples, "node_memory_SwapTotal_bytes")).toHaveLength(0);
  expect(find(samples, "node_memory_MemTotal_bytes")[0]?.value).toBe(16 * 2 ** 30);
  expect(find(samples, "limiquantix_host_source_up", { source: "/p/meminfo" })[0]?.value).toBe(0);
});
