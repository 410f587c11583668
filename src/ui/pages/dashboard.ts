// The dashboard: usage rings, 1-hour sparklines from the daemon's own sampler (/ui/history, then
// live from StreamMetrics), the node's facts (GetNodeInfo) and the control-plane registration token.

import { call, follow, rest } from "../api.ts";
import { ring, TimeChart } from "../charts.ts";
import { facts, h, replace } from "../dom.ts";
import { bytes, duration, num, pct, percent } from "../format.ts";
import { registrationCard } from "./registration.ts";

interface NodeInfo {
  hostname?: string;
  cpu?: { model?: string; sockets?: number; coresPerSocket?: number; threadsPerCore?: number; totalThreads?: number; frequencyMhz?: string };
  memory?: { totalBytes?: string; availableBytes?: string; usedBytes?: string };
  storage?: { mountPoint?: string; totalBytes?: string; usedBytes?: string }[];
  os?: { name?: string; version?: string; kernel?: string; arch?: string };
  hypervisor?: { backend?: string; name?: string; version?: string; uri?: string };
  capabilities?: { hardwareAcceleration?: boolean; domainType?: string };
  daemonVersion?: string;
  daemonUptimeSeconds?: string;
}

interface History {
  intervalSeconds: number;
  /** t in Unix milliseconds; a figure the host lacks is null. */
  points: { t: number; cpuPercent: number | null; memoryUsedBytes: number | null; memoryTotalBytes: number | null; load1: number | null }[];
}

interface NodeMetrics {
  timestamp?: string;
  /** False on the first sample, before the daemon has two CPU readings to compare. */
  cpuMeasured?: boolean;
  cpuUsagePercent?: number;
  memoryUsedBytes?: string;
  memoryTotalBytes?: string;
  load1m?: number;
}

export async function renderDashboard(root: HTMLElement, _params: string[], signal: AbortSignal): Promise<void> {
  const [info, history] = await Promise.all([
    call<NodeInfo>("GetNodeInfo"),
    rest<History>("GET", "/ui/history").catch(() => ({ intervalSeconds: 0, points: [] }) as History),
  ]);
  const memTotal = num(info.memory?.totalBytes);
  const memUsed = num(info.memory?.usedBytes);
  const disks = info.storage ?? [];
  const diskTotal = disks.reduce((s, d) => s + num(d.totalBytes), 0);
  const diskUsed = disks.reduce((s, d) => s + num(d.usedBytes), 0);
  const lastCpu = history.points.findLast((p) => p.cpuPercent !== null)?.cpuPercent ?? 0;

  const rings = h(
    "div",
    { class: "rings" },
    ring("CPU", lastCpu, `${info.cpu?.totalThreads ?? "?"} threads`, "ring-cpu"),
    ring("Memory", percent(memUsed, memTotal), `${bytes(memUsed)} of ${bytes(memTotal)}`, "ring-memory"),
    ring("Storage", percent(diskUsed, diskTotal), `${bytes(diskUsed)} of ${bytes(diskTotal)}`, "ring-storage"),
  );
  const cpu = new TimeChart("CPU (1 h)", [{ label: "CPU", unit: pct }], 3600, 100);
  const mem = new TimeChart("Memory (1 h)", [{ label: "used", unit: bytes }], 3600, 100);
  const load = new TimeChart("Load (1 h)", [{ label: "load 1m", unit: (v) => v.toFixed(2) }], 3600, 100);
  const times = history.points.map((p) => p.t / 1000);
  cpu.set(times, [history.points.map((p) => p.cpuPercent)]);
  mem.set(times, [history.points.map((p) => p.memoryUsedBytes)]);
  load.set(times, [history.points.map((p) => p.load1)]);

  const nodeFacts = facts([
    ["Host name", h("span", { "data-testid": "fact-hostname" }, info.hostname ?? "")],
    [
      "CPU",
      h(
        "span",
        { "data-testid": "fact-cpu" },
        `${info.cpu?.model ?? "?"} · ${info.cpu?.sockets ?? "?"} socket(s) × ${info.cpu?.coresPerSocket ?? "?"} cores × ${info.cpu?.threadsPerCore ?? "?"} threads = ${info.cpu?.totalThreads ?? "?"}`,
      ),
    ],
    ["Memory", h("span", { "data-testid": "fact-memory", "data-bytes": String(memTotal) }, bytes(memTotal))],
    ["Operating system", `${info.os?.name ?? ""} ${info.os?.version ?? ""} · kernel ${info.os?.kernel ?? "?"} · ${info.os?.arch ?? ""}`],
    [
      "Hypervisor",
      h("span", { "data-testid": "fact-hypervisor" }, `${info.hypervisor?.name ?? "?"} ${info.hypervisor?.version ?? ""} (${info.hypervisor?.uri ?? ""})`),
    ],
    ["Acceleration", info.capabilities?.hardwareAcceleration ? "KVM" : `none (${info.capabilities?.domainType ?? "TCG"})`],
    ["Daemon", `${info.daemonVersion ?? "?"} · up ${duration(info.daemonUptimeSeconds)}`],
  ]);

  replace(
    root,
    h("h1", {}, "Dashboard"),
    rings,
    h("section", { class: "charts" }, cpu.el, mem.el, load.el),
    h("div", { class: "columns" }, h("section", { class: "card" }, h("h2", {}, "Node"), nodeFacts), registrationCard()),
  );

  follow<NodeMetrics>(
    "StreamMetrics",
    () => ({ intervalSeconds: Math.max(1, history.intervalSeconds || 5), nodeOnly: true }),
    (m) => {
      if (m.cpuMeasured === false) return;
      const t = m.timestamp ? Date.parse(m.timestamp) / 1000 : Date.now() / 1000;
      cpu.push(t, [m.cpuUsagePercent ?? 0]);
      mem.push(t, [num(m.memoryUsedBytes)]);
      load.push(t, [m.load1m ?? 0]);
      const cpuRing = ring("CPU", m.cpuUsagePercent ?? 0, `${info.cpu?.totalThreads ?? "?"} threads`, "ring-cpu");
      rings.firstElementChild?.replaceWith(cpuRing);
    },
    signal,
  );
}
