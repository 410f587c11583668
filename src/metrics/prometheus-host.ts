// node_exporter's names and labels for the figures it also exports, so existing dashboards
// (Node Exporter Full and friends) work against the daemon unchanged.

import type { CpuTimes, HostSample } from "../telemetry/types.ts";

export type MetricType = "counter" | "gauge";
export type Series = Array<[labels: Record<string, string>, value: number]>;

export interface MetricDef<T> {
  name: string;
  help: string;
  type: MetricType;
  labelNames: string[];
  series: (input: T) => Series;
}

const CPU_MODES: Array<keyof CpuTimes> = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"];

const present = (...pairs: Array<[Record<string, string>, number | undefined]>): Series =>
  pairs.filter((p): p is [Record<string, string>, number] => p[1] !== undefined);

function single(name: string, help: string, type: MetricType, get: (h: HostSample) => number | undefined): MetricDef<HostSample> {
  return { name, help, type, labelNames: [], series: (h) => present([{}, get(h)]) };
}

type Disk = NonNullable<HostSample["disks"]>[number];
type Nic = NonNullable<HostSample["network"]>[number];

function perDisk(suffix: string, help: string, type: MetricType, get: (d: Disk) => number | undefined): MetricDef<HostSample> {
  return {
    name: `node_disk_${suffix}`,
    help,
    type,
    labelNames: ["device"],
    series: (h) => present(...(h.disks ?? []).map((d): [Record<string, string>, number | undefined] => [{ device: d.device }, get(d)])),
  };
}

function perNic(suffix: string, help: string, get: (n: Nic) => number | undefined): MetricDef<HostSample> {
  return {
    name: `node_network_${suffix}_total`,
    help,
    type: "counter",
    labelNames: ["device"],
    series: (h) => present(...(h.network ?? []).map((n): [Record<string, string>, number | undefined] => [{ device: n.name }, get(n)])),
  };
}

function perFs(suffix: string, help: string, get: (f: HostSample["filesystems"][number]) => number | undefined): MetricDef<HostSample> {
  return {
    name: `node_filesystem_${suffix}`,
    help,
    type: "gauge",
    labelNames: ["device", "fstype", "mountpoint"],
    series: (h) =>
      present(
        ...h.filesystems.map((f): [Record<string, string>, number | undefined] => [
          { device: f.device ?? "", fstype: f.fstype ?? "", mountpoint: f.mountpoint ?? f.path },
          get(f),
        ]),
      ),
  };
}

const ms = (v: number | undefined) => (v === undefined ? undefined : v / 1000);

export const HOST_METRICS: Array<MetricDef<HostSample>> = [
  {
    name: "node_cpu_seconds_total",
    help: "Seconds the CPUs spent in each mode.",
    type: "counter",
    labelNames: ["cpu", "mode"],
    // Only the modes the source splits out: the os module (no /proc) has no iowait, softirq or steal.
    series: (h) =>
      present(
        ...[...(h.cpu?.perCpu ?? [])].flatMap(([cpu, t]) => CPU_MODES.map((mode): [Record<string, string>, number | undefined] => [{ cpu, mode }, t[mode]])),
      ),
  },
  {
    name: "node_cpu_guest_seconds_total",
    help: "Seconds the CPUs spent in guests (VMs) for each mode.",
    type: "counter",
    labelNames: ["cpu", "mode"],
    series: (h) =>
      present(
        ...[...(h.cpu?.perCpu ?? [])].flatMap(
          ([cpu, t]): Array<[Record<string, string>, number | undefined]> => [
            [{ cpu, mode: "user" }, t.guest],
            [{ cpu, mode: "nice" }, t.guestNice],
          ],
        ),
      ),
  },
  {
    // Dashboards (Node Exporter Full among them) list hosts by this series' nodename label.
    name: "node_uname_info",
    help: "Labeled system information as provided by the uname system call.",
    type: "gauge",
    labelNames: ["sysname", "release", "version", "machine", "nodename", "domainname"],
    series: (h) =>
      h.uname === undefined
        ? []
        : [
            [
              {
                sysname: h.uname.sysname ?? "Linux",
                release: h.uname.release,
                version: h.uname.version ?? "",
                machine: h.uname.machine,
                nodename: h.uname.nodename,
                domainname: h.uname.domainname ?? "",
              },
              1,
            ],
          ],
  },
  single("node_load1", "1m load average.", "gauge", (h) => h.load?.load1),
  single("node_load5", "5m load average.", "gauge", (h) => h.load?.load5),
  single("node_load15", "15m load average.", "gauge", (h) => h.load?.load15),
  single("node_boot_time_seconds", "Node boot time, in unixtime.", "gauge", (h) => h.kernel?.bootTimeSeconds),
  single("node_time_seconds", "System time in seconds since epoch (1970).", "gauge", (h) => h.timestamp.getTime() / 1000),
  single("node_context_switches_total", "Total number of context switches.", "counter", (h) => h.kernel?.contextSwitches),
  single("node_intr_total", "Total number of interrupts serviced.", "counter", (h) => h.kernel?.interrupts),
  single("node_forks_total", "Total number of forks.", "counter", (h) => h.kernel?.forks),
  single("node_procs_running", "Number of processes in runnable state.", "gauge", (h) => h.kernel?.procsRunning),
  single("node_procs_blocked", "Number of processes blocked waiting for I/O to complete.", "gauge", (h) => h.kernel?.procsBlocked),
  perDisk("reads_completed_total", "The total number of reads completed successfully.", "counter", (d) => d.readsCompleted),
  perDisk("reads_merged_total", "The total number of reads merged.", "counter", (d) => d.readsMerged),
  perDisk("read_bytes_total", "The total number of bytes read successfully.", "counter", (d) => d.readBytes),
  perDisk("read_time_seconds_total", "The total number of seconds spent by all reads.", "counter", (d) => ms(d.readTimeMs)),
  perDisk("writes_completed_total", "The total number of writes completed successfully.", "counter", (d) => d.writesCompleted),
  perDisk("writes_merged_total", "The number of writes merged.", "counter", (d) => d.writesMerged),
  perDisk("written_bytes_total", "The total number of bytes written successfully.", "counter", (d) => d.writeBytes),
  perDisk("write_time_seconds_total", "This is the total number of seconds spent by all writes.", "counter", (d) => ms(d.writeTimeMs)),
  perDisk("io_now", "The number of I/Os currently in progress.", "gauge", (d) => d.ioInProgress),
  perDisk("io_time_seconds_total", "Total seconds spent doing I/Os.", "counter", (d) => ms(d.ioTimeMs)),
  perDisk("io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", "counter", (d) => ms(d.weightedIoTimeMs)),
  perNic("receive_bytes", "Network device statistic receive_bytes.", (n) => n.rxBytes),
  perNic("receive_packets", "Network device statistic receive_packets.", (n) => n.rxPackets),
  perNic("receive_errs", "Network device statistic receive_errs.", (n) => n.rxErrors),
  perNic("receive_drop", "Network device statistic receive_drop.", (n) => n.rxDropped),
  perNic("receive_fifo", "Network device statistic receive_fifo.", (n) => n.rxFifo),
  perNic("receive_frame", "Network device statistic receive_frame.", (n) => n.rxFrame),
  perNic("receive_compressed", "Network device statistic receive_compressed.", (n) => n.rxCompressed),
  perNic("receive_multicast", "Network device statistic receive_multicast.", (n) => n.rxMulticast),
  perNic("transmit_bytes", "Network device statistic transmit_bytes.", (n) => n.txBytes),
  perNic("transmit_packets", "Network device statistic transmit_packets.", (n) => n.txPackets),
  perNic("transmit_errs", "Network device statistic transmit_errs.", (n) => n.txErrors),
  perNic("transmit_drop", "Network device statistic transmit_drop.", (n) => n.txDropped),
  perNic("transmit_fifo", "Network device statistic transmit_fifo.", (n) => n.txFifo),
  perNic("transmit_colls", "Network device statistic transmit_colls.", (n) => n.txCollisions),
  perNic("transmit_carrier", "Network device statistic transmit_carrier.", (n) => n.txCarrier),
  perNic("transmit_compressed", "Network device statistic transmit_compressed.", (n) => n.txCompressed),
  perFs("size_bytes", "Filesystem size in bytes.", (f) => f.totalBytes),
  perFs("free_bytes", "Filesystem free space in bytes.", (f) => f.freeBytes),
  perFs("avail_bytes", "Filesystem space available to non-root users in bytes.", (f) => f.availableBytes),
  perFs("files", "Filesystem total file nodes.", (f) => f.files),
  perFs("files_free", "Filesystem total free file nodes.", (f) => f.filesFree),
];

/**
 * node_exporter's meminfo naming: "Active(anon)" → "node_memory_Active_anon_bytes"; keys
 * without a unit (HugePages_Total) keep no _bytes suffix.
 */
export function meminfoMetricName(key: string, isCount: boolean): string {
  const base = key.replace(/\((.*)\)/, "_$1").replace(/[^a-zA-Z0-9_]/g, "_");
  return `node_memory_${base}${isCount ? "" : "_bytes"}`;
}
