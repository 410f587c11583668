// Pure: one metrics sample (and the one before it, for per-VM rates) -> the lines of the
// `metrics` view. The same lines serve the one-shot print and each frame of `--watch`. A figure
// the daemon has not measured yet (the host CPU needs two reads) shows as "–", never as 0.

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type NodeMetrics, PowerStateSchema, type VMMetrics } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { bytes, duration, enumLabel, percent, table } from "./format.ts";

export interface ViewOptions {
  /** Terminal width; lines are cut to it. */
  width: number;
  address: string;
  intervalMs: number;
  /** Adds the key help to the title (the live view). */
  live: boolean;
}

const SHOWN_DEVICES = 4;
const BAR_WIDTH = 20;

/** Shown for a figure that is not measured yet. */
export const NOT_MEASURED = "–";

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
  const seconds = previous?.timestamp && sample.timestamp
    ? (timestampDate(sample.timestamp).getTime() - timestampDate(previous.timestamp).getTime()) / 1000
    : 0;
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

export function renderMetrics(m: NodeMetrics, previous: NodeMetrics | undefined, o: ViewOptions): string[] {
  const at = m.timestamp ? timestampDate(m.timestamp).toISOString().slice(11, 19) + " UTC" : "";
  const every = o.intervalMs % 1000 === 0 ? `${o.intervalMs / 1000}s` : `${o.intervalMs}ms`;
  const lines = [`limiquantix-node metrics  ${o.address}  every ${every}  ${at}${o.live ? "   (q or Ctrl-C quits)" : ""}`, ""];
  const memTotal = Number(m.memoryTotalBytes);
  const memUsed = Number(m.memoryUsedBytes);
  const cpus = m.perCpuUsagePercent.length;
  lines.push(
    `host cpu     ${hostCpu(m)}  ${cpus ? `${cpus} cpus  ` : ""}load ${m.load1m.toFixed(2)} ${m.load5m.toFixed(2)} ${m.load15m.toFixed(2)}`,
    `host memory  ${percent(memTotal ? (memUsed / memTotal) * 100 : 0).padStart(6)} ${bar(memTotal ? memUsed / memTotal : 0)}  ${bytes(memUsed)} used of ${bytes(memTotal)}, ${bytes(m.memoryAvailableBytes)} available` +
      (m.swapTotalBytes > 0n ? `; swap ${bytes(m.swapUsedBytes)} of ${bytes(m.swapTotalBytes)}` : ""),
    `host uptime  ${duration(m.uptimeSeconds)}   vms ${m.runningVms} running of ${m.totalVms}`,
  );
  const disks = m.disks.slice(0, SHOWN_DEVICES).map((d) => `${d.device} r ${rate(d.readBytesPerSecond)} w ${rate(d.writeBytesPerSecond)}`);
  if (disks.length) lines.push(`disks        ${disks.join("   ")}`);
  const nets = m.networks.slice(0, SHOWN_DEVICES).map((i) => `${i.interface} rx ${rate(i.rxBytesPerSecond)} tx ${rate(i.txBytesPerSecond)}`);
  if (nets.length) lines.push(`network      ${nets.join("   ")}`);
  const fss = m.filesystems
    .slice(0, SHOWN_DEVICES)
    .map((f) => `${f.path} ${f.totalBytes > 0n ? percent((Number(f.usedBytes) / Number(f.totalBytes)) * 100) : "-"} of ${bytes(f.totalBytes)}`);
  if (fss.length) lines.push(`filesystems  ${fss.join("   ")}`);
  lines.push("");
  if (m.vms.length) {
    lines.push(...table(["VM", "STATE", "VCPUS", "CPU", "MEMORY", "DISK READ / WRITE", "NET RX / TX"], vmRows(m, previous)).trimEnd().split("\n"));
  } else {
    lines.push("no VMs on this node");
  }
  return lines.map((l) => (l.length > o.width ? l.slice(0, Math.max(1, o.width - 1)) + "…" : l));
}
