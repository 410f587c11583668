// Pure: one metrics sample (and the one before it, for per-VM rates) -> the lines of the
// `metrics` view. The same lines serve the one-shot print and each frame of `--watch`. A figure
// the daemon has not measured (the host CPU needs two reads; a host without /proc has no disk or
// swap figures: absent_fields) shows as "–", never as 0.

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type NodeMetrics, PowerStateSchema, type VMMetrics } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { bytes, duration, enumLabel, NOT_MEASURED, percent, table } from "./format.ts";

export { NOT_MEASURED };

export interface ViewOptions {
  /** Terminal width; lines are cut to it. */
  width: number;
  address: string;
  intervalMs: number;
  /** Adds the key help to the title (the live view). */
  live: boolean;
  /** One sample printed once (`metrics` without --watch): the title gives the rates' interval, not a refresh period. */
  once?: boolean;
}

const SHOWN_DEVICES = 4;
const BAR_WIDTH = 20;

function bar(fraction: number, width = BAR_WIDTH): string {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}

const rate = (perSecond: number) => `${bytes(Math.round(perSecond))}/s`;

function perSecond(now: bigint, before: bigint | undefined, seconds: number): string {
  if (before === undefined || seconds <= 0 || now < before) return "-";
  return rate(Number(now - before) / seconds);
}

function vmRows(sample: NodeMetrics, previous: NodeMetrics | undefined): string[][] {
  const seconds =
    previous?.timestamp && sample.timestamp ? (timestampDate(sample.timestamp).getTime() - timestampDate(previous.timestamp).getTime()) / 1000 : 0;
  const before = new Map<string, VMMetrics>((previous?.vms ?? []).map((v) => [v.vmId, v]));
  return [...sample.vms]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((v) => {
      const p = before.get(v.vmId);
      return [
        v.name,
        enumLabel(PowerStateSchema, v.state),
        String(v.vcpus),
        percent(v.cpuUsagePercent),
        `${bytes(v.memoryUsedBytes)} / ${bytes(v.memoryTotalBytes)}`,
        `${perSecond(v.diskReadBytes, p?.diskReadBytes, seconds)} / ${perSecond(v.diskWriteBytes, p?.diskWriteBytes, seconds)}`,
        `${perSecond(v.networkRxBytes, p?.networkRxBytes, seconds)} / ${perSecond(v.networkTxBytes, p?.networkTxBytes, seconds)}`,
      ];
    });
}

/** The host CPU figure and its bar, or "–" and a note while it is not measured. */
function hostCpu(m: NodeMetrics): string {
  if (!m.cpuMeasured) return `${NOT_MEASURED.padStart(6)} ${"(measuring)".padEnd(BAR_WIDTH + 2)}`;
  return `${percent(m.cpuUsagePercent).padStart(6)} ${bar(m.cpuUsagePercent / 100)}`;
}

function hostMemory(m: NodeMetrics, absent: (field: string) => boolean): string {
  if (absent("memory_total_bytes")) return `${NOT_MEASURED.padStart(6)}`;
  const total = Number(m.memoryTotalBytes);
  const used = Number(m.memoryUsedBytes);
  return (
    `${percent(total ? (used / total) * 100 : 0).padStart(6)} ${bar(total ? used / total : 0)}  ${bytes(used)} used of ${bytes(total)}` +
    (absent("memory_available_bytes") ? "" : `, ${bytes(m.memoryAvailableBytes)} available`) +
    (!absent("swap_total_bytes") && m.swapTotalBytes > 0n ? `; swap ${bytes(m.swapUsedBytes)} of ${bytes(m.swapTotalBytes)}` : "")
  );
}

export function renderMetrics(m: NodeMetrics, previous: NodeMetrics | undefined, o: ViewOptions): string[] {
  const at = m.timestamp ? `${timestampDate(m.timestamp).toISOString().slice(11, 19)} UTC` : "";
  const interval = o.intervalMs % 1000 === 0 ? `${o.intervalMs / 1000}s` : `${o.intervalMs}ms`;
  const period = o.once ? `rates over ${interval}` : `every ${interval}`;
  const lines = [`limiquantix-node metrics  ${o.address}  ${period}  ${at}${o.live ? "   (q or Ctrl-C quits)" : ""}`, ""];
  const absentSet = new Set(m.absentFields);
  const absent = (field: string) => absentSet.has(field);
  const cpus = m.perCpuUsagePercent.length;
  const load = absent("load_1m") ? NOT_MEASURED : `${m.load1m.toFixed(2)} ${m.load5m.toFixed(2)} ${m.load15m.toFixed(2)}`;
  const vmCount = absent("total_vms") ? NOT_MEASURED : `${m.runningVms} running of ${m.totalVms}`;
  lines.push(
    `host cpu     ${hostCpu(m)}  ${cpus ? `${cpus} cpus  ` : ""}load ${load}`,
    `host memory  ${hostMemory(m, absent)}`,
    `host uptime  ${absent("uptime_seconds") ? NOT_MEASURED : duration(m.uptimeSeconds)}   vms ${vmCount}`,
  );
  const disks = m.disks.slice(0, SHOWN_DEVICES).map((d) => `${d.device} r ${rate(d.readBytesPerSecond)} w ${rate(d.writeBytesPerSecond)}`);
  if (absent("disks")) lines.push(`disks        ${NOT_MEASURED} (not readable on this host)`);
  else if (disks.length) lines.push(`disks        ${disks.join("   ")}`);
  const nets = m.networks.slice(0, SHOWN_DEVICES).map((i) => `${i.interface} rx ${rate(i.rxBytesPerSecond)} tx ${rate(i.txBytesPerSecond)}`);
  if (absent("networks")) lines.push(`network      ${NOT_MEASURED} (not readable on this host)`);
  else if (nets.length) lines.push(`network      ${nets.join("   ")}`);
  const fss = m.filesystems
    .slice(0, SHOWN_DEVICES)
    .map((f) => `${f.path} ${f.totalBytes > 0n ? percent((Number(f.usedBytes) / Number(f.totalBytes)) * 100) : "-"} of ${bytes(f.totalBytes)}`);
  if (fss.length) lines.push(`filesystems  ${fss.join("   ")}`);
  lines.push("");
  if (absent("vms")) {
    lines.push("VM figures unavailable: the hypervisor did not report them (see the daemon's log)");
  } else if (m.vms.length) {
    lines.push(...table(["VM", "STATE", "VCPUS", "CPU", "MEMORY", "DISK READ / WRITE", "NET RX / TX"], vmRows(m, previous)).trimEnd().split("\n"));
  } else {
    lines.push("no VMs on this node");
  }
  return lines.map((l) => (l.length > o.width ? `${l.slice(0, Math.max(1, o.width - 1))}…` : l));
}
