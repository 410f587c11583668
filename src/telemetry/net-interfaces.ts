// Host network interfaces for NodeInfo: names, MACs and addresses from the OS (Node's `os`,
// which works on every platform), link speed and state from /sys/class/net/<name>/{speed,operstate}.
// A missing or unreadable sysfs file leaves that figure absent; it never hides the interface.

import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import { join } from "node:path";
import type { HostIo, HostRoots } from "./host-io.ts";

export interface InterfaceFacts {
  name: string;
  macAddress: string;
  ipAddresses: string[];
  /** Absent when the link reports none (virtual interfaces, links down: the kernel says -1). */
  speedMbps?: number;
  up: boolean;
}

/** /sys/class/net/<if>/speed: Mb/s, or -1 / empty / garbage for "unknown". */
export function parseLinkSpeed(text: string): number | undefined {
  const n = Number(text.trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** operstate "up" (and "unknown" with addresses, as loopback and tun devices report) count as up. */
export function parseOperstate(text: string, hasAddresses: boolean): boolean {
  const s = text.trim();
  return s === "up" || (s === "unknown" && hasAddresses);
}

export function interfacesFromOs(os: NodeJS.Dict<NetworkInterfaceInfo[]>): Omit<InterfaceFacts, "speedMbps" | "up">[] {
  return Object.entries(os).map(([name, addrs]) => ({
    name,
    macAddress: addrs?.find((a) => a.mac !== "00:00:00:00:00:00")?.mac ?? "",
    ipAddresses: (addrs ?? []).map((a) => a.address),
  }));
}

export async function readInterfaceFacts(io: HostIo, roots: HostRoots, osInterfaces = networkInterfaces()): Promise<InterfaceFacts[]> {
  const text = (path: string) => io.readText(path).catch(() => undefined);
  return Promise.all(
    interfacesFromOs(osInterfaces).map(async (i) => {
      const dir = join(roots.sys, "class/net", i.name);
      const [speed, state] = await Promise.all([text(join(dir, "speed")), text(join(dir, "operstate"))]);
      const facts: InterfaceFacts = { ...i, up: state === undefined ? i.ipAddresses.length > 0 : parseOperstate(state, i.ipAddresses.length > 0) };
      const mbps = speed === undefined ? undefined : parseLinkSpeed(speed);
      if (mbps !== undefined) facts.speedMbps = mbps;
      return facts;
    }),
  );
}
