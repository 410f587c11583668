// The guest agent's facts (src/agent/types.ts) on the wire: GuestAgentInfo of VMStatusResponse
// and VMMetrics, and the JSON of the REST agent/ping call.

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type GuestAgentInfo, GuestAgentInfoSchema } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { GuestFacts } from "../../agent/types.ts";

const u64 = (n: number) => BigInt(Math.max(0, Math.round(n)));

export function guestAgentToWire(f: GuestFacts): GuestAgentInfo {
  return create(GuestAgentInfoSchema, {
    connected: f.connected,
    version: f.version ?? "",
    osName: f.osName ?? "",
    osVersion: f.osVersion ?? "",
    kernelVersion: f.kernelVersion ?? "",
    hostname: f.hostname ?? "",
    ipAddresses: f.ipAddresses,
    interfaces: f.interfaces.map((i) => ({
      name: i.name,
      macAddress: i.macAddress,
      ipv4Addresses: i.ipv4Addresses,
      ipv6Addresses: i.ipv6Addresses,
      isUp: i.isUp,
    })),
    ...(f.usage
      ? {
          resourceUsage: {
            cpuUsagePercent: f.usage.cpuUsagePercent,
            memoryTotalBytes: u64(f.usage.memoryTotalBytes),
            memoryUsedBytes: u64(f.usage.memoryUsedBytes),
            memoryAvailableBytes: u64(f.usage.memoryAvailableBytes),
            swapTotalBytes: u64(f.usage.swapTotalBytes),
            swapUsedBytes: u64(f.usage.swapUsedBytes),
            loadAvg1: f.usage.loadAvg1,
            loadAvg5: f.usage.loadAvg5,
            loadAvg15: f.usage.loadAvg15,
            disks: f.usage.disks.map((d) => ({
              mountPoint: d.mountPoint,
              device: d.device,
              filesystem: d.filesystem,
              totalBytes: u64(d.totalBytes),
              usedBytes: u64(d.usedBytes),
              availableBytes: u64(d.availableBytes),
              usagePercent: d.usagePercent,
            })),
            processCount: f.usage.processCount,
            uptimeSeconds: u64(f.usage.uptimeSeconds),
          },
        }
      : {}),
    capabilities: f.capabilities,
    ...(f.lastSeen ? { lastSeen: timestampFromDate(f.lastSeen) } : {}),
    architecture: f.architecture ?? "",
  });
}

/** The REST agent/ping shape (contract 5.2 row 3): absent optionals are omitted. */
export function guestAgentToJson(f: GuestFacts | undefined, extra: { error?: string } = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { connected: f?.connected ?? false };
  const opt = (k: string, v: string | undefined) => {
    if (v) out[k] = v;
  };
  opt("version", f?.version);
  opt("hostname", f?.hostname);
  opt("osName", f?.osName);
  opt("osVersion", f?.osVersion);
  opt("kernelVersion", f?.kernelVersion);
  opt("architecture", f?.architecture);
  out.ipAddresses = f?.ipAddresses ?? [];
  if (f?.usage) out.resourceUsage = { ...f.usage, disks: f.usage.disks.map((d) => ({ ...d })) };
  out.capabilities = f?.capabilities ?? [];
  out.latestAgentVersion = "0.1.27";
  opt("error", extra.error);
  return out;
}
