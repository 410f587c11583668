// The guest's facts as the daemon caches them: what AgentReady said, folded together with the
// latest Telemetry (pure; the agent manager keeps one GuestFacts per VM).

import type { AgentMessage } from "../gen/limiquantix/agent/v1/agent_pb.ts";
import type { GuestFacts } from "./types.ts";

const num = (v: bigint | number) => Number(v);

export function emptyFacts(): GuestFacts {
  return { connected: false, ipAddresses: [], interfaces: [], capabilities: [] };
}

/** The guest's addresses as the node reports them: IPv4 first, loopback and link-local left out. */
function addressesOf(interfaces: GuestFacts["interfaces"]): string[] {
  const v4 = interfaces
    .flatMap((i) => i.ipv4Addresses)
    .map((a) => a.split("/")[0] ?? a)
    .filter((a) => !a.startsWith("127."));
  const v6 = interfaces
    .flatMap((i) => i.ipv6Addresses)
    .map((a) => a.split("/")[0] ?? a)
    .filter((a) => a !== "::1" && !a.toLowerCase().startsWith("fe80"));
  return [...v4, ...v6];
}

/** Folds an unsolicited message into the cached facts; returns false for messages that carry none. */
export function applyAgentEvent(facts: GuestFacts, message: AgentMessage): boolean {
  const p = message.payload;
  if (p.case === "agentReady") {
    const r = p.value;
    Object.assign(facts, {
      version: r.version,
      osName: r.osName,
      osVersion: r.osVersion,
      kernelVersion: r.kernelVersion,
      architecture: r.architecture,
      hostname: r.hostname,
      capabilities: [...r.capabilities],
    });
    if (r.ipAddresses.length > 0) facts.ipAddresses = [...r.ipAddresses];
    return true;
  }
  if (p.case === "telemetry") {
    const t = p.value;
    if (t.hostname) facts.hostname = t.hostname;
    facts.interfaces = t.interfaces.map((i) => ({
      name: i.name,
      macAddress: i.macAddress,
      ipv4Addresses: [...i.ipv4Addresses],
      ipv6Addresses: [...i.ipv6Addresses],
      isUp: i.state === 1,
    }));
    const ips = addressesOf(facts.interfaces);
    if (ips.length > 0) facts.ipAddresses = ips;
    facts.usage = {
      cpuUsagePercent: t.cpuUsagePercent,
      memoryTotalBytes: num(t.memoryTotalBytes),
      memoryUsedBytes: num(t.memoryUsedBytes),
      memoryAvailableBytes: num(t.memoryAvailableBytes),
      swapTotalBytes: num(t.swapTotalBytes),
      swapUsedBytes: num(t.swapUsedBytes),
      loadAvg1: t.loadAvg1,
      loadAvg5: t.loadAvg5,
      loadAvg15: t.loadAvg15,
      disks: t.disks.map((d) => ({
        mountPoint: d.mountPoint,
        device: d.device,
        filesystem: d.filesystem,
        totalBytes: num(d.totalBytes),
        usedBytes: num(d.usedBytes),
        availableBytes: num(d.availableBytes),
        usagePercent: d.usagePercent,
      })),
      processCount: t.processCount,
      uptimeSeconds: num(t.uptimeSeconds),
    };
    return true;
  }
  return false;
}
