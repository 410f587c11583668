// What the test guest says about itself: AgentReady (once per connection) and Telemetry (every
// few seconds), read from /proc, /sys and the os module. Absent files give absent figures.

import { readdirSync, readFileSync, statfsSync } from "node:fs";
import os from "node:os";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type AgentReadyEventSchema, InterfaceState, type TelemetryReportSchema } from "../../../src/gen/limiquantix/agent/v1/agent_pb.ts";

export const AGENT_VERSION = "0.1.0-test-guest";
export const CAPABILITIES = ["telemetry", "execute", "file_read", "file_write", "file_list", "shutdown", "reboot", "quiesce", "thaw", "sync_time"];

const read = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
};

/** /etc/os-release as key -> value. */
function osRelease(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of read("/etc/os-release").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1).replace(/^"|"$/g, "");
  }
  return out;
}

const architecture = () => (process.arch === "x64" ? "x86_64" : process.arch);

/** IPv4 then IPv6 addresses of every interface but loopback, without the prefix length. */
export function ipAddresses(): string[] {
  const all = Object.entries(os.networkInterfaces())
    .flatMap(([, addrs]) => addrs ?? [])
    .filter((a) => !a.internal);
  return [...all.filter((a) => a.family === "IPv4"), ...all.filter((a) => a.family === "IPv6")].map((a) => a.address);
}

export function agentReady(): MessageInitShape<typeof AgentReadyEventSchema> {
  const rel = osRelease();
  return {
    version: AGENT_VERSION,
    osName: rel.NAME ?? "Linux",
    osVersion: rel.VERSION_ID ?? "",
    kernelVersion: os.release(),
    architecture: architecture(),
    hostname: os.hostname(),
    ipAddresses: ipAddresses(),
    capabilities: CAPABILITIES,
  };
}

const sysNum = (path: string) => BigInt(read(path).trim() || "0");

function interfaces(): NonNullable<MessageInitShape<typeof TelemetryReportSchema>["interfaces"]> {
  return Object.entries(os.networkInterfaces()).map(([name, addrs = []]) => {
    const sys = `/sys/class/net/${name}`;
    const state = read(`${sys}/operstate`).trim();
    return {
      name,
      macAddress: addrs[0]?.mac ?? "",
      ipv4Addresses: addrs.filter((a) => a.family === "IPv4").map((a) => a.cidr ?? a.address),
      ipv6Addresses: addrs.filter((a) => a.family === "IPv6").map((a) => a.cidr ?? a.address),
      // Loopback says "unknown"; it is up when it has addresses.
      state: state === "up" || (state === "unknown" && addrs.length > 0) ? InterfaceState.UP : state === "down" ? InterfaceState.DOWN : InterfaceState.UNKNOWN,
      mtu: Number(read(`${sys}/mtu`).trim() || 0),
      rxBytes: sysNum(`${sys}/statistics/rx_bytes`),
      txBytes: sysNum(`${sys}/statistics/tx_bytes`),
      rxPackets: sysNum(`${sys}/statistics/rx_packets`),
      txPackets: sysNum(`${sys}/statistics/tx_packets`),
    };
  });
}

/** Mounted block devices (and the root), from /proc/mounts. */
export function mounts(): { device: string; mountPoint: string; filesystem: string }[] {
  return read("/proc/mounts")
    .split("\n")
    .map((l) => l.split(" "))
    .filter((f) => f.length >= 3 && (f[0]!.startsWith("/dev/") || f[1] === "/"))
    .map((f) => ({ device: f[0]!, mountPoint: f[1]!.replace(/\\040/g, " "), filesystem: f[2]! }));
}

function disks() {
  return mounts().flatMap((m) => {
    try {
      const s = statfsSync(m.mountPoint);
      const total = s.blocks * s.bsize;
      const used = (s.blocks - s.bfree) * s.bsize;
      return [
        {
          ...m,
          totalBytes: BigInt(total),
          usedBytes: BigInt(used),
          availableBytes: BigInt(s.bavail * s.bsize),
          usagePercent: total ? (100 * used) / total : 0,
        },
      ];
    } catch {
      return [];
    }
  });
}

function meminfo(): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const line of read("/proc/meminfo").split("\n")) {
    const m = /^(\w+):\s+(\d+)/.exec(line);
    if (m) out[m[1]!] = BigInt(m[2]!) * 1024n;
  }
  return out;
}

/** CPU busy share since the previous call, from /proc/stat's first line. */
function createCpuMeter() {
  let last: { busy: number; total: number } | undefined;
  return () => {
    const f = (read("/proc/stat").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const now = { busy: total - idle, total };
    const pct = last && now.total > last.total ? (100 * (now.busy - last.busy)) / (now.total - last.total) : 0;
    last = now;
    return pct;
  };
}

const cpu = createCpuMeter();

export function telemetry(): MessageInitShape<typeof TelemetryReportSchema> {
  const mem = meminfo();
  const total = mem.MemTotal ?? 0n;
  const available = mem.MemAvailable ?? 0n;
  const [l1, l5, l15] = os.loadavg();
  return {
    cpuUsagePercent: cpu(),
    memoryTotalBytes: total,
    memoryUsedBytes: total - available,
    memoryAvailableBytes: available,
    swapTotalBytes: mem.SwapTotal ?? 0n,
    swapUsedBytes: (mem.SwapTotal ?? 0n) - (mem.SwapFree ?? 0n),
    disks: disks(),
    interfaces: interfaces(),
    loadAvg1: l1 ?? 0,
    loadAvg5: l5 ?? 0,
    loadAvg15: l15 ?? 0,
    processCount: readdirSync("/proc").filter((d) => /^\d+$/.test(d)).length,
    uptimeSeconds: BigInt(Math.floor(os.uptime())),
    hostname: os.hostname(),
  };
}
